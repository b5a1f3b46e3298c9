// Hands the worker the signing keys of each environment: every secret valid now, current first.
// Decrypted keys are cached by secret id (a ciphertext never changes); the list of valid
// secrets is re-read per batch so that a rotation on another node is seen at once. Ed25519
// pairs the same way: private keys cached by pair id, the list re-read per batch, so a pair
// created or deleted on any node signs, or stops, from the next batch on.
import type { KeyObject } from 'node:crypto'
import type { DigestEncoding, SigningKey } from '../signing/signature.ts'
import { ed25519PrivateKey, signingKey } from '../signing/signature.ts'
import type { Store } from '../store/store.ts'
import type { SecretBox } from './secret-box.ts'

export interface EnvironmentKeys {
  keys: SigningKey[]
  encoding: DigestEncoding
  /** The environment's Ed25519 private keys (v1a), oldest first. */
  pairs: KeyObject[]
}

const encodingTtlMs = 10_000

export function secretAssociatedData(envId: string): string {
  return `hookpost:signing-secret:${envId}`
}

/** Distinct from a secret's: a sealed private key does not open as a secret, nor the reverse. */
export function keyPairAssociatedData(envId: string): string {
  return `hookpost:signing-key-pair:${envId}`
}

const maxCached = 10_000

export class SigningKeyring {
  readonly #store: Store
  readonly #box: SecretBox
  readonly #keys = new Map<string, SigningKey>()
  readonly #pairs = new Map<string, KeyObject>()
  readonly #encodings = new Map<string, { encoding: DigestEncoding; until: number }>()

  constructor(store: Store, box: SecretBox) {
    this.#store = store
    this.#box = box
  }

  async keysFor(envIds: readonly string[], now: number): Promise<Map<string, EnvironmentKeys>> {
    const [rows, pairs] = await Promise.all([
      this.#store.secrets.listValid(envIds, now),
      this.#store.signingKeyPairs.list(envIds),
    ])
    const out = new Map<string, EnvironmentKeys>()
    for (const envId of envIds)
      out.set(envId, { keys: [], encoding: await this.#encoding(envId, now), pairs: [] })
    for (const r of rows)
      out.get(r.envId)?.keys.push(this.#open(this.#keys, r, secretAssociatedData, signingKey))
    for (const p of pairs)
      out.get(p.envId)?.pairs.push(this.#open(this.#pairs, p, keyPairAssociatedData, ed25519PrivateKey))
    return out
  }

  /** The decoded key of a sealed row, from the cache or opened once (a ciphertext never changes). */
  #open<K>(
    cache: Map<string, K>,
    row: { id: string; envId: string; keyId: string; ciphertext: string },
    associatedData: (envId: string) => string,
    decode: (plaintext: string) => K,
  ): K {
    let k = cache.get(row.id)
    if (!k) {
      k = decode(this.#box.open({ keyId: row.keyId, ciphertext: row.ciphertext }, associatedData(row.envId)))
      if (cache.size > maxCached) cache.clear()
      cache.set(row.id, k)
    }
    return k
  }

  async #encoding(envId: string, now: number): Promise<DigestEncoding> {
    const c = this.#encodings.get(envId)
    if (c && c.until > now) return c.encoding
    const env = await this.#store.environments.get(envId)
    const encoding = env?.signatureEncoding ?? 'hex'
    this.#encodings.set(envId, { encoding, until: now + encodingTtlMs })
    return encoding
  }
}
