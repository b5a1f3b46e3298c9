// The headers a broker message carries: those of an HTTP delivery, named as contract section 11
// spells them (AMQP headers and Redis fields are case-sensitive, unlike HTTP's).
const spelled: Readonly<Record<string, string>> = {
  'webhook-id': 'webhook-id',
  'webhook-timestamp': 'webhook-timestamp',
  'webhook-signature': 'webhook-signature',
  'x-delivery-hmac-sha256': 'X-Delivery-Hmac-SHA256',
  'x-delivery-event': 'X-Delivery-Event',
  'x-delivery-attempt': 'X-Delivery-Attempt',
  'content-type': 'content-type',
  traceparent: 'traceparent',
}

/** The worker's request headers → the carrier's (no user-agent: there is no HTTP client). */
export function brokerHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers)) {
    const name = spelled[k.toLowerCase()]
    if (name !== undefined) out[name] = v
  }
  return out
}
