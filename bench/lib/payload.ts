// The event body every system sends, and the signatures every system puts on a delivery.
//
// The body is an account_holder.created event (BaseKit's documented example, as served by
// GET /webhooks/event-types) with two extra top-level fields first: benchT0, the time the event
// was *scheduled* (ms since the epoch, performance.timeOrigin clock), and benchSeq. Event schemas
// accept unknown top-level fields, and Hookpost sends the bytes as published, so a receiver can
// read t0 from the first bytes of any delivery. A benchPad field brings the body to about 1 KB.
import { createHmac } from 'node:crypto'
import { eventTypes } from '../../src/events/event-types.ts'

/** Used when the service cannot be asked (the same catalogue the service serves). */
export const fallbackExample = eventTypes.find((t) => t.name === 'account_holder.created')!.example

export const targetBodyBytes = 1000

/** The part of the body after `{"benchT0":…,"benchSeq":…,`: padding plus the example's fields. */
export function bodyTail(example: unknown): string {
  const json = JSON.stringify(example)
  if (!json.startsWith('{') || json.length < 3) throw new Error('the example payload is not a JSON object')
  const head = '{"benchT0":1764331200000.123,"benchSeq":1000000,'
  const padField = '"benchPad":"",'
  const pad = Math.max(0, targetBodyBytes - head.length - padField.length - (json.length - 1))
  return `"benchPad":"${'x'.repeat(pad)}",${json.slice(1)}`
}

export function makeBody(tail: string, t0: number, seq: number): string {
  return `{"benchT0":${t0.toFixed(3)},"benchSeq":${seq},${tail}`
}

/** Reads benchT0 from the first bytes of a body; NaN when absent. */
export function readT0(firstBytes: string): number {
  if (!firstBytes.startsWith('{"benchT0":')) return Number.NaN
  const end = firstBytes.indexOf(',', 11)
  return end < 0 ? Number.NaN : Number(firstBytes.slice(11, end))
}

/** Contract section 6: BaseKit's hex HMAC keyed with the whole secret string, and Standard Webhooks v1. */
export function signHeaders(
  secret: string,
  id: string,
  body: string,
  attempt = 1,
  userAgent = 'bench',
): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000))
  const hex = createHmac('sha256', secret).update(body).digest('hex')
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const v1 = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')
  return {
    'content-type': 'application/json',
    'user-agent': userAgent,
    'x-delivery-hmac-sha256': hex,
    'webhook-id': id,
    'webhook-timestamp': ts,
    'webhook-signature': `v1,${v1}`,
    'x-delivery-event': 'account_holder.created',
    'x-delivery-attempt': String(attempt),
  }
}

/** Checks both signatures of a received delivery; true when both match. */
export function verifySignatures(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
): boolean {
  const hex = createHmac('sha256', secret).update(body).digest('hex')
  const got = String(headers['x-delivery-hmac-sha256'] ?? '')
  if (got.toLowerCase() !== hex && got !== createHmac('sha256', secret).update(body).digest('base64'))
    return false
  const id = String(headers['webhook-id'] ?? '')
  const ts = String(headers['webhook-timestamp'] ?? '')
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const want = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(`${id}.${ts}.`), body]))
    .digest('base64')
  const sigs = String(headers['webhook-signature'] ?? '').split(' ')
  return sigs.some((s) => s === `v1,${want}`)
}

export function newSecret(): string {
  const bytes = new Uint8Array(32)
  crypto.getRandomValues(bytes)
  return `whsec_${Buffer.from(bytes).toString('base64')}`
}
