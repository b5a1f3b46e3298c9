// A store, the core, a worker and the real undici sender (no SSRF guard: loopback receivers).
import { DeliveryWorker, type WorkerOptions } from '../../src/deliveries/worker.ts'
import { createHookpost, type Hookpost } from '../../src/hookpost.ts'
import { HttpSender } from '../../src/outbound/http-sender.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { SigningKeyring } from '../../src/secrets/signing-keyring.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import type { UrlCheck } from '../../src/subscriptions/subscriptions.ts'
import type { Transformer } from '../../src/subscriptions/transformation.ts'

export interface WorkerHarness {
  hookpost: Hookpost
  store: Store
  /** The secret box the worker opens signing secrets with (a second worker needs the same). */
  box: SecretBox
  worker: DeliveryWorker
  envId: string
  /** The environment's current signing secret (rotated once so the test knows it). */
  secret: string
  close(): Promise<void>
}

export async function workerHarness(
  opts: {
    scheduleMs?: number[]
    timeoutMs?: number
    worker?: Partial<WorkerOptions>
    /** The transformation sandbox, given to the worker and the core alike. */
    transformer?: Transformer
    /** The sending policy's registration check (default: every URL). */
    checkUrl?: UrlCheck
    /** HOOKPOST_VERIFY_ENDPOINTS for the core. */
    verifyEndpoints?: boolean
    /** Role all's hand-off at commit: publishes give their new deliveries to the worker leased. */
    handOff?: boolean
  } = {},
): Promise<WorkerHarness> {
  const store = openSqliteStore(':memory:')
  await store.migrate()
  const box = new SecretBox(parseMasterKey(generateMasterKey()))
  const policy = { scheduleMs: opts.scheduleMs ?? [50, 100], jitter: 0.2, maxRetryAfterMs: 2000 }
  const sender = new HttpSender()
  const worker = new DeliveryWorker({
    store,
    sender,
    keyring: new SigningKeyring(store, box),
    policy,
    requestTimeoutMs: opts.timeoutMs ?? 2000,
    concurrency: 64,
    perSubscription: 8,
    userAgent: 'Hookpost/test',
    log: silentLogger,
    pollIntervalMs: 20,
    checkUrl: opts.checkUrl ?? (() => ({ ok: true })),
    ...(opts.transformer ? { transformer: opts.transformer } : {}),
    ...opts.worker,
  })
  const hookpost = createHookpost({
    store,
    box,
    checkUrl: opts.checkUrl ?? (() => ({ ok: true })),
    ...(opts.transformer ? { transformer: opts.transformer } : {}),
    retryPolicy: policy,
    secretGraceMs: 86_400_000,
    onWork: () => worker.wake(),
    ...(opts.handOff
      ? {
          handOff: () => worker.handOff(),
          onSubscriptionChanged: (id: string) => worker.subscriptionChanged(id),
        }
      : {}),
    verifyEndpoints: opts.verifyEndpoints ?? false,
  })
  const env = await hookpost.environments.create({ name: 'acme' })
  const { secret } = await hookpost.secrets.rotate(env.id)
  worker.start()
  return {
    hookpost,
    store,
    box,
    worker,
    envId: env.id,
    secret,
    async close() {
      await worker.stop(1000)
      await sender.close()
      await store.close()
    },
  }
}
