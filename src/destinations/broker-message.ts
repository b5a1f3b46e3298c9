// The headers a broker message carries: those of an HTTP delivery, named as contract section 11
// spells them (AMQP headers and Redis fields are case-sensitive, unlike HTTP's).
const spelled: ReadonlyMap<string, string> = new Map([
  ['webhook-id', 'webhook-id'],
  ['webhook-timestamp', 'webhook-timestamp'],
  ['webhook-signature', 'webhook-signature'],
  ['x-delivery-hmac-sha256', 'X-Delivery-Hmac-SHA256'],
  ['x-delivery-event', 'X-Delivery-Event'],
  ['x-delivery-attempt', 'X-Delivery-Attempt'],
  ['content-type', 'content-type'],
  ['traceparent', 'traceparent'],
])

/** The worker's request headers → the carrier's (no user-agent: there is no HTTP client). */
export function brokerHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  // Once per delivery: the worker's names are lower case already, so most need no lowering.
  for (const k in headers) {
    const name = spelled.get(k) ?? spelled.get(k.toLowerCase())
    if (name !== undefined) out[name] = headers[k]!
  }
  return out
}
