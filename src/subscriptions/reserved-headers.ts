// Headers that are Hookpost's own on every request it sends: the signature and identity headers,
// the framing and hop-by-hop ones, and the proxy's. Neither a subscription's static headers nor a
// transformation may set them (one rule, so the two can never disagree).
const reservedNames = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'user-agent',
  'traceparent',
  'tracestate',
  'host',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
])
const reservedPrefixes = ['webhook-', 'x-delivery-', 'proxy-']

/** True for a header that only Hookpost sets (any case). */
export function isReservedHeader(name: string): boolean {
  const n = name.toLowerCase()
  return reservedNames.has(n) || reservedPrefixes.some((p) => n.startsWith(p))
}
