// Ids need unpredictable bytes by the hundred per event; one CSPRNG call per id cost more than
// the rest of the publish path's id work together (11 % of its CPU, measured). The bytes still
// come from the CSPRNG, drawn in 4 KiB blocks and handed out once each (as node's own
// randomUUID cache does). Secrets and keys keep calling randomBytes directly.
import { randomFillSync } from 'node:crypto'

const pool = Buffer.allocUnsafe(4096)
let offset = pool.length

/** n fresh random bytes as a view that is only valid until the next call: consume it at once. */
export function pooledRandomBytes(n: number): Buffer {
  if (n > pool.length) return randomFillSync(Buffer.allocUnsafe(n))
  if (offset + n > pool.length) {
    randomFillSync(pool)
    offset = 0
  }
  const out = pool.subarray(offset, offset + n)
  offset += n
  return out
}
