// Signature checks written apart from src/signing, so that a bug there cannot hide itself:
// node:crypto for the BaseKit header, the reference `standardwebhooks` package for the rest.
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { Webhook } from 'standardwebhooks'

export function basekitHeaderValid(
  secret: string,
  body: Buffer,
  header: string | undefined,
  encoding: 'hex' | 'base64' = 'hex',
): boolean {
  if (!header) return false
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest(encoding)
  return expected.length === header.length && timingSafeEqual(Buffer.from(expected), Buffer.from(header))
}

export function standardHeadersValid(secret: string, body: Buffer, headers: IncomingHttpHeaders): boolean {
  try {
    new Webhook(secret).verify(body.toString('utf8'), {
      'webhook-id': String(headers['webhook-id']),
      'webhook-timestamp': String(headers['webhook-timestamp']),
      'webhook-signature': String(headers['webhook-signature']),
    })
    return true
  } catch {
    return false
  }
}
