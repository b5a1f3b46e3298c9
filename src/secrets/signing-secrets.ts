// Consumer use case: rotate the environment's signing secret. The new secret is shown once;
// the previous one keeps signing beside it until the grace period ends, unless nobody was ever
// shown it (an environment's first secret): no receiver can verify with it, so it goes at once.
import { newId } from '../shared/ids.ts'
import { generateSigningSecret } from '../signing/signature.ts'
import type { SigningSecretRow, Store } from '../store/store.ts'
import type { SecretBox } from './secret-box.ts'
import { secretAssociatedData } from './signing-keyring.ts'

export function sealNewSecret(
  box: SecretBox,
  envId: string,
  now: number,
  revealed: boolean,
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
      revealed,
    },
  }
}

export interface RotatedSecret {
  secret: string
  created: number
  /** Until when the previous secret keeps signing; null when none had been shown (it stopped at once). */
  previousExpires: number | null
}

export function signingSecrets(deps: { store: Store; box: SecretBox; now: () => number; graceMs: number }) {
  return {
    async rotate(envId: string): Promise<RotatedSecret> {
      const t = deps.now()
      const { row, secret } = sealNewSecret(deps.box, envId, t, true)
      const previous = await deps.store.secrets.rotate(row, { revealed: t + deps.graceMs, unrevealed: t })
      const kept = previous.filter((p) => p.revealed && p.expires !== null).map((p) => p.expires!)
      return { secret, created: t, previousExpires: kept.length > 0 ? Math.max(...kept) : null }
    },
  }
}
