// Prefixed, opaque, sortable ids: `<prefix>_<time><random>` in base62, never containing `.`
// (Standard Webhooks signs "{id}.{timestamp}.{body}").
import { randomBytes } from 'node:crypto'
import { pooledRandomBytes } from './random-pool.ts'

export type IdPrefix =
  | 'env'
  | 'key'
  | 'sub'
  | 'evt'
  | 'dlv'
  | 'sec'
  | 'job'
  | 'oev'
  | 'aud'
  | 'plk'
  | 'spk'
  | 'vrf'

const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

function base62(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += alphabet[b % 62]
  return out
}

/** The last `now` given, and the millisecond the last id was given (ahead of it after a carry). */
let lastNow = 0
let lastMs = 0
let counter = 0
const perMs = 62 * 62

/**
 * 9 chars of time (ms, base62, sortable) + 2 of a per-ms counter + 14 random chars. Ids asked for
 * with a non-decreasing `now` sort in the order they were made: past 3,844 in one millisecond
 * (one batch publish with its fan-out), the time part carries into the next millisecond.
 */
export function newId(prefix: IdPrefix, now = Date.now()): string {
  if (now >= lastNow && now <= lastMs) {
    if (++counter === perMs) {
      lastMs++
      counter = 0
    }
  } else {
    lastMs = now
    counter = 0
  }
  lastNow = now
  let t = ''
  let n = lastMs
  for (let i = 0; i < 9; i++) {
    t = alphabet[n % 62] + t
    n = Math.floor(n / 62)
  }
  const c = alphabet[Math.floor(counter / 62) % 62]! + alphabet[counter % 62]!
  return `${prefix}_${t}${c}${base62(pooledRandomBytes(14))}`
}

/** A random base62 token with `bytes` of entropy-bearing characters (each ~5.95 bits). */
export function randomToken(chars: number): string {
  // Rejection sampling keeps the distribution uniform.
  let out = ''
  while (out.length < chars) {
    for (const b of randomBytes(chars * 2)) {
      if (b < 248 && out.length < chars) out += alphabet[b % 62]
    }
  }
  return out
}
