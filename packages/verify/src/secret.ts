import { base64Decode, utf8Encode } from './encoding.js'

export const SECRET_PREFIX = 'whsec_'
export const PUBLIC_KEY_PREFIX = 'whpk_'

/** One signing secret, as key material for each scheme. */
export interface SigningKeys {
  /** The whole `whsec_…` string as UTF-8: the X-Delivery-Hmac-SHA256 key. */
  readonly basekit: Uint8Array
  /** The base64-decoded part after `whsec_`: the Standard Webhooks key. */
  readonly standard: Uint8Array
}

/**
 * Reads a `whsec_…` secret (surrounding whitespace ignored). A secret given without its `whsec_`
 * prefix is taken as if it had one, because that is the string the service keys the BaseKit
 * header with. Throws a TypeError (not a verification error) for something that is not a secret:
 * that is a configuration mistake, not a bad delivery.
 */
export function parseSecret(secret: string): SigningKeys {
  if (typeof secret !== 'string' || secret.trim() === '') {
    throw new TypeError('secret must be the whsec_… signing secret, got an empty value')
  }
  const trimmed = secret.trim()
  const whole = trimmed.startsWith(SECRET_PREFIX) ? trimmed : SECRET_PREFIX + trimmed
  const standard = base64Decode(whole.slice(SECRET_PREFIX.length), true)
  if (standard === null || standard.length === 0) {
    throw new TypeError('secret must be whsec_ followed by base64 (as shown by POST /webhooks/hmac-secret)')
  }
  return { basekit: utf8Encode(whole), standard }
}

export function parseSecrets(secret: string | readonly string[]): SigningKeys[] {
  const list = typeof secret === 'string' ? [secret] : secret
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('secret must be a whsec_… string or a non-empty array of them')
  }
  return list.map(parseSecret)
}

/** What a receiver verifies with: `whsec_…` secrets (v1 and BaseKit) and `whpk_…` Ed25519 public keys (v1a). */
export interface VerificationKeys {
  secrets: SigningKeys[]
  /** Raw 32-byte Ed25519 public keys. */
  publicKeys: Uint8Array[]
}

/** Reads a `whpk_…` public key (base64 of the raw 32-byte Ed25519 key). */
export function parsePublicKey(key: string): Uint8Array {
  const raw = base64Decode(key.trim().slice(PUBLIC_KEY_PREFIX.length), true)
  if (raw === null || raw.length !== 32) {
    throw new TypeError(
      'a public key must be whpk_ followed by base64 of 32 bytes (as shown by POST /webhooks/signing-keys)',
    )
  }
  return raw
}

export function parseVerificationKeys(secret: string | readonly string[]): VerificationKeys {
  const list = typeof secret === 'string' ? [secret] : secret
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('secret must be a whsec_… secret or whpk_… public key, or a non-empty array of them')
  }
  const out: VerificationKeys = { secrets: [], publicKeys: [] }
  for (const s of list) {
    if (typeof s === 'string' && s.trim().startsWith(PUBLIC_KEY_PREFIX))
      out.publicKeys.push(parsePublicKey(s))
    else out.secrets.push(parseSecret(s))
  }
  return out
}
