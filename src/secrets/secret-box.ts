// Encrypts signing secrets at rest: AES-256-GCM under a master key, with the key id stored
// beside each ciphertext and the owning environment bound in as associated data, so a
// ciphertext copied to another environment's row does not decrypt.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

export interface MasterKey {
  readonly id: string
  readonly key: Buffer
}

export function parseMasterKey(raw: string): MasterKey {
  const s = raw.trim()
  let key: Buffer
  if (/^[0-9a-fA-F]{64}$/.test(s)) key = Buffer.from(s, 'hex')
  else key = Buffer.from(s, 'base64')
  if (key.length !== 32) throw new Error('the master key must be 32 bytes, as base64 or hex')
  return { id: masterKeyId(key), key }
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64')
}

function masterKeyId(key: Buffer): string {
  return 'mk_' + createHash('sha256').update(key).digest('hex').slice(0, 12)
}

export interface Sealed {
  keyId: string
  /** base64 of iv(12) || tag(16) || ciphertext */
  ciphertext: string
}

/** A keyring: the current key seals; any known key opens (for master key rotation). */
export class SecretBox {
  readonly #current: MasterKey
  readonly #byId: Map<string, MasterKey>

  constructor(current: MasterKey, previous: readonly MasterKey[] = []) {
    this.#current = current
    this.#byId = new Map([current, ...previous].map((k) => [k.id, k]))
  }

  get currentKeyId(): string {
    return this.#current.id
  }

  /** The current key, for keys derived from it (the dashboard's cookie key). */
  currentKey(): MasterKey {
    return this.#current
  }

  seal(plaintext: string, associatedData: string): Sealed {
    const iv = randomBytes(12)
    const c = createCipheriv('aes-256-gcm', this.#current.key, iv)
    c.setAAD(Buffer.from(associatedData, 'utf8'))
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()])
    return { keyId: this.#current.id, ciphertext: Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64') }
  }

  open(sealed: Sealed, associatedData: string): string {
    const mk = this.#byId.get(sealed.keyId)
    if (!mk) throw new Error(`no master key with id ${sealed.keyId} is configured`)
    const raw = Buffer.from(sealed.ciphertext, 'base64')
    const d = createDecipheriv('aes-256-gcm', mk.key, raw.subarray(0, 12))
    d.setAAD(Buffer.from(associatedData, 'utf8'))
    d.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')
  }
}
