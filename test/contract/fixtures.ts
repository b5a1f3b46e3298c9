// Rows the Store contract suites start from: one clock origin, a sealed-looking secret, an
// environment created with it (as the core creates one: its first secret never shown).
import { newId } from '../../src/shared/ids.ts'
import {
  freshHealth,
  type PublishInput,
  type SigningSecretRow,
  type Store,
  type SubscriptionRow,
} from '../../src/store/store.ts'

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

/** A subscription of the environment to site.publish, active, created at T0; `over` replaces fields. */
export async function aSubscription(store: Store, envId: string, over: Partial<SubscriptionRow> = {}) {
  const s: SubscriptionRow = {
    id: newId('sub'),
    envId,
    event: 'site.publish',
    url: 'https://example.com/hook',
    active: true,
    ordered: false,
    created: T0,
    updated: T0,
    health: freshHealth,
    deactivatedReason: null,
    ...over,
  }
  await store.subscriptions.create(s)
  return s
}

/** A publish of one site.publish event created at `at`, without an idempotency key; `over` replaces fields. */
export function aPlainPublish(envId: string, at = T0, over: Partial<PublishInput> = {}): PublishInput {
  return {
    event: {
      id: newId('evt'),
      envId,
      eventName: 'site.publish',
      body: Buffer.from(`{"at":${at}}`),
      orderingKey: null,
      created: at,
    },
    idempotencyKey: null,
    idempotencySince: T0 - 86_400_000,
    attemptLimit: 3,
    newDeliveryId: () => newId('dlv'),
    ...over,
  }
}
