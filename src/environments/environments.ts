// Operator use cases: environments (tenants) and their credentials.
import type { SecretBox } from '../secrets/secret-box.ts'
import { sealNewSecret } from '../secrets/signing-secrets.ts'
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import type { CredentialRole, CredentialRow, EnvironmentRow, Store } from '../store/store.ts'
import { credentialMatches, newCredential } from './credentials.ts'

export interface EnvironmentsDeps {
  store: Store
  box: SecretBox
  now: () => number
}

export function environments(deps: EnvironmentsDeps) {
  const { store, box, now } = deps

  async function requireEnvironment(envId: string): Promise<EnvironmentRow> {
    const env = await store.environments.get(envId)
    if (!env) throw new AppError('environment_not_found')
    return env
  }

  return {
    async create(input: { name: string; signatureEncoding?: 'hex' | 'base64' }): Promise<EnvironmentRow> {
      const t = now()
      const env: EnvironmentRow = {
        id: newId('env', t),
        name: input.name,
        signatureEncoding: input.signatureEncoding ?? 'hex',
        created: t,
      }
      // Every environment can sign from birth; consumers get the secret by rotating, which
      // replaces this one (never shown) at once.
      await store.environments.create(env, sealNewSecret(box, env.id, t, false).row)
      return env
    },

    list: (): Promise<EnvironmentRow[]> => store.environments.list(),

    get: requireEnvironment,

    async createCredential(
      envId: string,
      input: { role: CredentialRole; name?: string | undefined },
    ): Promise<{ row: CredentialRow; secret: string }> {
      await requireEnvironment(envId)
      const c = newCredential(envId, input.role, input.name ?? null, now())
      await store.credentials.create(c.row)
      return c
    },

    async listCredentials(envId: string): Promise<CredentialRow[]> {
      await requireEnvironment(envId)
      return store.credentials.list(envId)
    },

    async revokeCredential(envId: string, credentialId: string): Promise<void> {
      await requireEnvironment(envId)
      if (!(await store.credentials.revoke(envId, credentialId, now())))
        throw new AppError('credential_not_found')
    },

    /** The credential for these Basic-auth parts, or undefined. */
    async authenticate(key: string, secret: string): Promise<CredentialRow | undefined> {
      const row = key.length > 0 && key.length <= 200 ? await store.credentials.findByKey(key) : undefined
      return credentialMatches(row, secret) ? row : undefined
    },
  }
}

export type Environments = ReturnType<typeof environments>
