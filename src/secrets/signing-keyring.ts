// Hands the worker the signing keys of each environment: every secret valid now, current first.
// Decrypted keys are cached by secret id (a ciphertext never changes); the list of valid
// secrets is re-read per batch so that a rotation on another node is seen at once.
import type { DigestEncoding, SigningKey } from '../signing/signature.ts'
import { signingKey } from '../signing/signature.ts'
import type { Store } from '../store/store.ts'
import type { SecretBox } from './secret-box.ts'

export interface EnvironmentKeys {
  keys: SigningKey[]
  encoding: DigestEncoding
}

const encodingTtlMs = 10_000

export function secretAssociatedData(envId: string): string {
  return `hookpost:signing-secret:${envId}`
}

export class SigningKeyring {
  readonly #store: Store
  readonly #box: SecretBox
  readonly #keys = new Map<string, SigningKey>()
  readonly #encodings = new Map<string, { encoding: DigestEncoding; until: number }>()

  constructor(store: Store, box: SecretBox) {
    this.#store = store
    this.#box = box
  }

  async keysFor(envIds: readonly string[], now: number): Promise<Map<string, EnvironmentKeys>> {
    const rows = await this.#store.secrets.listValid(envIds, now)
    const out = new Map<string, EnvironmentKeys>()
    for (const envId of envIds) out.set(envId, { keys: [], encoding: await this.#encoding(envId, now) })
    for (const r of rows) {
      let k = this.#keys.get(r.id)
      if (!k) {
        k = signingKey(
          this.#box.open({ keyId: r.keyId, ciphertext: r.ciphertext }, secretAssociatedData(r.envId)),
        )
        if (this.#keys.size > 10_000) this.#keys.clear()
        this.#keys.set(r.id, k)
      }
      out.get(r.envId)?.keys.push(k)
    }
    return out
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
