// Consumer use case: rotate the environment's signing secret. The new secret is shown once;
// the previous one keeps signing beside it until the grace period ends.
import { newId } from '../shared/ids.ts'
import { generateSigningSecret } from '../signing/signature.ts'
import type { SigningSecretRow, Store } from '../store/store.ts'
import type { SecretBox } from './secret-box.ts'
import { secretAssociatedData } from './signing-keyring.ts'

export function sealNewSecret(
  box: SecretBox,
  envId: string,
  now: number,
): { row: SigningSecretRow; secret: string } {
  const secret = generateSigningSecret()
  const sealed = box.seal(secret, secretAssociatedData(envId))
  return {
    secret,
    row: {
      id: newId('sec', now),
      envId,
      keyId: sealed.keyId,
      ciphertext: sealed.ciphertext,
      created: now,
      expires: null,
    },
  }
}

export interface RotatedSecret {
  secret: string
  created: number
  previousExpires: number
}

export function signingSecrets(deps: { store: Store; box: SecretBox; now: () => number; graceMs: number }) {
  return {
    async rotate(envId: string): Promise<RotatedSecret> {
      const t = deps.now()
      const { row, secret } = sealNewSecret(deps.box, envId, t)
      const previousExpires = t + deps.graceMs
      await deps.store.secrets.rotate(row, previousExpires)
      return { secret, created: t, previousExpires }
    },
  }
}
