// HMAC-SHA256 and Ed25519 verification over WebCrypto only. The platform's `crypto` is used unless one is passed in
// (Node 18 has no global `crypto` by default: pass `require('node:crypto').webcrypto`).

/**
 * The part of WebCrypto's `SubtleCrypto` this package uses. The platform's `crypto.subtle`
 * (browsers, Deno, Bun, Workers, Node's `webcrypto.subtle`) fits.
 */
export interface SubtleCryptoLike {
  importKey(
    format: 'raw',
    keyData: ArrayBuffer,
    algorithm: { name: string; hash?: string },
    extractable: boolean,
    keyUsages: string[],
  ): Promise<unknown>
  sign(algorithm: string, key: unknown, data: ArrayBuffer): Promise<ArrayBuffer>
  /** Needed only to verify `v1a` (Ed25519) signatures with a `whpk_…` public key. */
  verify?(algorithm: string, key: unknown, signature: ArrayBuffer, data: ArrayBuffer): Promise<boolean>
}

/** A WebCrypto `Crypto`, or any object with a `subtle` like it. */
export interface CryptoLike {
  readonly subtle: SubtleCryptoLike
}

function isSubtle(value: unknown): value is SubtleCryptoLike {
  if (typeof value !== 'object' || value === null) return false
  const s = value as { importKey?: unknown; sign?: unknown }
  return typeof s.importKey === 'function' && typeof s.sign === 'function'
}

export function resolveSubtle(crypto: CryptoLike | undefined): SubtleCryptoLike {
  const candidate: unknown = crypto ?? (globalThis as { crypto?: unknown }).crypto
  if (typeof candidate === 'object' && candidate !== null) {
    const subtle = (candidate as { subtle?: unknown }).subtle
    if (isSubtle(subtle)) return subtle
    if (isSubtle(candidate)) return candidate
  }
  throw new TypeError(
    'No WebCrypto found: pass options.crypto (on Node 18: `crypto: require("node:crypto").webcrypto`)',
  )
}

/** A copy as a plain ArrayBuffer of exactly the view's bytes (never a shared or larger buffer). */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length)
  new Uint8Array(copy).set(bytes)
  return copy
}

export async function hmacSha256(
  subtle: SubtleCryptoLike,
  key: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  const cryptoKey = await subtle.importKey(
    'raw',
    exactBuffer(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return new Uint8Array(await subtle.sign('HMAC', cryptoKey, exactBuffer(data)))
}

/** Whether `signature` is a valid Ed25519 signature of `data` under the raw 32-byte public key. */
export async function ed25519Verify(
  subtle: SubtleCryptoLike,
  publicKey: Uint8Array,
  signature: Uint8Array,
  data: Uint8Array,
): Promise<boolean> {
  if (typeof subtle.verify !== 'function') {
    throw new TypeError('This WebCrypto cannot verify: v1a needs crypto.subtle.verify with Ed25519')
  }
  const key = await subtle.importKey('raw', exactBuffer(publicKey), { name: 'Ed25519' }, false, ['verify'])
  return subtle.verify('Ed25519', key, exactBuffer(signature), exactBuffer(data))
}
