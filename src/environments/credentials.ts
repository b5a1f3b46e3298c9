// API credentials: a public key and a secret shown once. Only a SHA-256 of the secret is kept
// (the secret is 256 bits of randomness, so a slow hash would add nothing but latency).
import { createHash, timingSafeEqual } from 'node:crypto'
import { newId, randomToken } from '../shared/ids.ts'
import type { CredentialRole, CredentialRow } from '../store/store.ts'

export function hashCredentialSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

export function newCredential(
  envId: string,
  role: CredentialRole,
  name: string | null,
  now: number,
): { row: CredentialRow; secret: string } {
  const secret = `hps_${randomToken(43)}`
  return {
    secret,
    row: {
      id: newId('key', now),
      envId,
      role,
      name,
      key: `hpk_${randomToken(24)}`,
      secretHash: hashCredentialSecret(secret),
      created: now,
      revoked: null,
    },
  }
}

const decoy = hashCredentialSecret('decoy-secret-for-unknown-keys')

/**
 * Compares in constant time. An unknown key costs the same as a wrong secret, so timing does
 * not tell which keys exist.
 */
export function credentialMatches(row: CredentialRow | undefined, secret: string): boolean {
  const expected = Buffer.from(row?.secretHash ?? decoy, 'hex')
  const actual = Buffer.from(hashCredentialSecret(secret), 'hex')
  const same = timingSafeEqual(expected, actual)
  return row !== undefined && row.revoked === null && same
}
