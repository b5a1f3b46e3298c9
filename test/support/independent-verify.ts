// Signature checks written apart from src/signing, so that a bug there cannot hide itself:
// node:crypto for the BaseKit header and Ed25519 (v1a; the `standardwebhooks` JS package has no
// v1a), the reference `standardwebhooks` package for v1.
import { createHmac, createPublicKey, timingSafeEqual, verify } from 'node:crypto'
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

/** Every `v1a,` entry of webhook-signature that node:crypto's Ed25519 verifies under the `whpk_` key. */
export function asymmetricEntriesValid(
  publicKey: string,
  body: Buffer,
  headers: IncomingHttpHeaders,
): number {
  const key = createPublicKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      x: Buffer.from(publicKey.slice('whpk_'.length), 'base64').toString('base64url'),
    },
    format: 'jwk',
  })
  const signed = Buffer.concat([
    Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`),
    body,
  ])
  return String(headers['webhook-signature'])
    .split(' ')
    .filter((e) => e.startsWith('v1a,'))
    .filter((e) => verify(null, signed, key, Buffer.from(e.slice(4), 'base64'))).length
}
