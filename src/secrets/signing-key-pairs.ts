// Consumer use case: an environment's Ed25519 signing keys (Standard Webhooks v1a). The private
// key is generated here, sealed at once and never leaves the server; the public key is what
// the answer shows. Every pair of an environment signs every delivery beside the HMAC v1.
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import { generateEd25519KeyPair } from '../signing/signature.ts'
import type { SigningKeyPairRow, Store } from '../store/store.ts'
import type { SecretBox } from './secret-box.ts'
import { keyPairAssociatedData } from './signing-keyring.ts'

/** Each pair adds a signature to every delivery: a handful is enough for a rotation. */
export const maxSigningKeysPerEnvironment = 10

export interface SigningKeyView {
  id: string
  type: 'ed25519'
  publicKey: string
  created: number
}

const view = (r: SigningKeyPairRow): SigningKeyView => ({
  id: r.id,
  type: r.type,
  publicKey: r.publicKey,
  created: r.created,
})

export function signingKeyPairs(deps: { store: Store; box: SecretBox; now: () => number }) {
  return {
    async create(envId: string): Promise<SigningKeyView> {
      const t = deps.now()
      const pair = generateEd25519KeyPair()
      const sealed = deps.box.seal(pair.privateKey, keyPairAssociatedData(envId))
      const row: SigningKeyPairRow = {
        id: newId('spk', t),
        envId,
        type: 'ed25519',
        publicKey: pair.publicKey,
        keyId: sealed.keyId,
        ciphertext: sealed.ciphertext,
        created: t,
      }
      if (!(await deps.store.signingKeyPairs.create(row, maxSigningKeysPerEnvironment)))
        throw new AppError('signing_key_limit')
      return view(row)
    },
    async list(envId: string): Promise<SigningKeyView[]> {
      return (await deps.store.signingKeyPairs.list([envId])).map(view)
    },
    async delete(envId: string, id: string): Promise<void> {
      if (!(await deps.store.signingKeyPairs.delete(envId, id))) throw new AppError('signing_key_not_found')
    },
  }
}
