// Byte helpers with no platform dependency beyond TextEncoder/TextDecoder: UTF-8, strict base64
// (atob accepts whitespace and other slop), hex, and a constant-time comparison.

interface TextCodecs {
  TextEncoder: new () => { encode(input: string): Uint8Array }
  TextDecoder: new (label?: string, options?: { fatal?: boolean }) => { decode(input: Uint8Array): string }
}

const codecs = globalThis as unknown as TextCodecs

export function utf8Encode(text: string): Uint8Array {
  return new codecs.TextEncoder().encode(text)
}

/** Decodes UTF-8, or returns null when the bytes are not valid UTF-8. */
export function utf8DecodeStrict(bytes: Uint8Array): string | null {
  try {
    return new codecs.TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const standardValues = new Int8Array(128).fill(-1)
const urlValues = new Int8Array(128).fill(-1)
for (let i = 0; i < 64; i++) {
  standardValues[alphabet.charCodeAt(i)] = i
  urlValues[alphabet.charCodeAt(i)] = i
}
urlValues['-'.charCodeAt(0)] = 62
urlValues['_'.charCodeAt(0)] = 63

export function base64Encode(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + alphabet[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = bytes[i]! << 16
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + '=='
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8)
    out += alphabet[n >> 18]! + alphabet[(n >> 12) & 63]! + alphabet[(n >> 6) & 63]! + '='
  }
  return out
}

/**
 * Strict base64: the standard alphabet (plus `-` and `_` when `urlSafe`), padding optional but
 * only where it belongs, no whitespace. Returns null instead of throwing on anything else.
 */
export function base64Decode(input: string, urlSafe = false): Uint8Array | null {
  const values = urlSafe ? urlValues : standardValues
  let end = input.length
  if (end % 4 === 0) {
    if (end > 0 && input.charCodeAt(end - 1) === 61) end--
    if (end > 0 && input.charCodeAt(end - 1) === 61) end--
  }
  if (end % 4 === 1) return null
  const out = new Uint8Array(Math.floor((end * 3) / 4))
  let acc = 0
  let bits = 0
  let o = 0
  for (let i = 0; i < end; i++) {
    const c = input.charCodeAt(i)
    const v = c < 128 ? values[c]! : -1
    if (v < 0) return null
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  return out
}

export function hexEncode(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16)
  return out
}

/** Hex of either case; null for odd length or a non-hex character. */
export function hexDecode(input: string): Uint8Array | null {
  if (input.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(input)) return null
  const out = new Uint8Array(input.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(input.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Compares in time that depends only on the length; different lengths are simply unequal. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}
