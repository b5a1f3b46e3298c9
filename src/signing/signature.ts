// Signing per the contract (section 6): the BaseKit header over the raw body, keyed with the
// whole `whsec_…` string, and Standard Webhooks v1 over "{id}.{timestamp}.{body}", keyed with
// the decoded secret; with an Ed25519 key pair, also Standard Webhooks v1a over the same
// string. Pure: node:crypto only.
import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto'

export type DigestEncoding = 'hex' | 'base64'

const secretPrefix = 'whsec_'

export function generateSigningSecret(): string {
  return secretPrefix + randomBytes(32).toString('base64')
}

export function isSigningSecret(s: string): boolean {
  return s.startsWith(secretPrefix) && Buffer.from(s.slice(secretPrefix.length), 'base64').length >= 24
}

/** Key material for one secret, decoded once and reused for every delivery. */
export interface SigningKey {
  /** The whole `whsec_…` string as UTF-8: the BaseKit header's key. */
  readonly basekitKey: Buffer
  /** The base64-decoded part after `whsec_`: the Standard Webhooks key. */
  readonly standardKey: Buffer
}

export function signingKey(secret: string): SigningKey {
  const b64 = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret
  return { basekitKey: Buffer.from(secret, 'utf8'), standardKey: Buffer.from(b64, 'base64') }
}

export function basekitSignature(key: SigningKey, body: Uint8Array, encoding: DigestEncoding): string {
  return createHmac('sha256', key.basekitKey).update(body).digest(encoding)
}

/**
 * The BaseKit signature covers the body alone, so every delivery of one event under one key
 * carries the same value: computed once per (body, key, encoding) while the body is alive (the
 * worker shares one body Buffer between the deliveries of an event).
 */
const basekitMemo = new WeakMap<Uint8Array, { key: SigningKey; encoding: DigestEncoding; value: string }>()

function memoBasekitSignature(key: SigningKey, body: Uint8Array, encoding: DigestEncoding): string {
  const m = basekitMemo.get(body)
  if (m && m.key === key && m.encoding === encoding) return m.value
  const value = basekitSignature(key, body, encoding)
  basekitMemo.set(body, { key, encoding, value })
  return value
}

export function standardSignature(key: SigningKey, id: string, timestamp: number, body: Uint8Array): string {
  const h = createHmac('sha256', key.standardKey)
  h.update(`${id}.${timestamp}.`)
  h.update(body)
  return `v1,${h.digest('base64')}`
}

const publicKeyPrefix = 'whpk_'

/** A new Ed25519 pair: the private key as base64 PKCS#8 DER (to be sealed), the public one as `whpk_…`. */
export function generateEd25519KeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  // The raw 32-byte public key is the tail of its SPKI DER (a fixed 12-byte header).
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKeyPrefix + raw.toString('base64'),
  }
}

export function ed25519PrivateKey(pkcs8Base64: string): KeyObject {
  return createPrivateKey({ key: Buffer.from(pkcs8Base64, 'base64'), format: 'der', type: 'pkcs8' })
}

export function asymmetricSignature(key: KeyObject, id: string, timestamp: number, body: Uint8Array): string {
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body])
  return `v1a,${sign(null, signed, key).toString('base64')}`
}

export interface SignedHeaders {
  'x-delivery-hmac-sha256': string
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/** keys: every secret valid now, current first; pairs: the environment's Ed25519 private keys. */
export function signDelivery(
  keys: readonly SigningKey[],
  id: string,
  timestamp: number,
  body: Uint8Array,
  encoding: DigestEncoding,
  pairs: readonly KeyObject[] = [],
): SignedHeaders {
  const current = keys[0]
  if (!current) throw new Error('no signing key')
  return {
    'x-delivery-hmac-sha256': memoBasekitSignature(current, body, encoding),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    // The v1a entries after the v1 ones (Standard Webhooks: space-separated, any order).
    'webhook-signature': [
      ...keys.map((k) => standardSignature(k, id, timestamp, body)),
      ...pairs.map((k) => asymmetricSignature(k, id, timestamp, body)),
    ].join(' '),
  }
}
