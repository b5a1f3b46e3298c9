// Rows the Store contract suites start from: one clock origin, a sealed-looking secret, an
// environment created with it (as the core creates one: its first secret never shown).
import { newId } from '../../src/shared/ids.ts'
import type { SigningSecretRow, Store } from '../../src/store/store.ts'

export const T0 = 1_700_000_000_000

export function aSecret(envId: string, created = T0, revealed = true): SigningSecretRow {
  return {
    id: newId('sec', created),
    envId,
    keyId: 'mk_test',
    ciphertext: `ct-${Math.random()}`,
    created,
    expires: null,
    revealed,
  }
}

export async function anEnvironment(store: Store, name = 'acme') {
  const env = { id: newId('env'), name, signatureEncoding: 'hex' as const, created: T0 }
  await store.environments.create(env, aSecret(env.id, T0, false))
  return env
}

/** An environment's id, for suites that need nothing else of it. */
export async function anEnvironmentId(store: Store, name = 'acme'): Promise<string> {
  return (await anEnvironment(store, name)).id
}
