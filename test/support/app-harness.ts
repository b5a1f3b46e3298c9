// Builds the real app over an in-memory SQLite store (no listening socket), with an operator
// token, one environment and a consumer and a publisher credential.
import type { FastifyInstance } from 'fastify'
import { createHookpost, type Hookpost, type HookpostDeps } from '../../src/hookpost.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import type { UrlCheck } from '../../src/subscriptions/subscriptions.ts'
import type { Transformer } from '../../src/subscriptions/transformation.ts'
import { buildWebApp } from '../../src/web-app.ts'
import { basic } from './basic-auth.ts'

export const adminToken = 'test-admin-token-0123456789'

export interface AppHarness {
  app: FastifyInstance
  hookpost: Hookpost
  store: Store
  box: SecretBox
  envId: string
  consumer: string
  publisher: string
  admin: string
  /** A second environment with its own consumer, for isolation tests. */
  other: { envId: string; consumer: string }
  close(): Promise<void>
}

/** https only, no userinfo: enough policy for route tests (the real one is tested on its own). */
export const simpleUrlCheck: UrlCheck = (url) => {
  try {
    const u = new URL(url)
    if (u.protocol !== 'https:')
      return { ok: false, code: 'url_not_allowed', reason: 'only https:// URLs are allowed' }
    return { ok: true }
  } catch {
    return { ok: false, code: 'invalid_url', reason: 'not a URL' }
  }
}

export async function appHarness(
  opts: {
    checkUrl?: UrlCheck
    eventBodyLimit?: number
    batchBodyLimit?: number
    onWork?: () => void
    destinations?: HookpostDeps['destinations']
    transformer?: Transformer
  } = {},
): Promise<AppHarness> {
  const store = openSqliteStore(':memory:')
  await store.migrate()
  const box = new SecretBox(parseMasterKey(generateMasterKey()))
  const hookpost = createHookpost({
    store,
    box,
    checkUrl: opts.checkUrl ?? simpleUrlCheck,
    retryPolicy: { scheduleMs: [1000, 2000], jitter: 0.2, maxRetryAfterMs: 60_000 },
    secretGraceMs: 86_400_000,
    ...(opts.onWork ? { onWork: opts.onWork } : {}),
    ...(opts.destinations ? { destinations: opts.destinations } : {}),
    ...(opts.transformer ? { transformer: opts.transformer } : {}),
  })
  const app = await buildWebApp({
    hookpost,
    adminToken,
    version: '0.0.0-test',
    eventBodyLimit: opts.eventBodyLimit ?? 1024 * 1024,
    ...(opts.batchBodyLimit ? { batchBodyLimit: opts.batchBodyLimit } : {}),
  })
  const env = await hookpost.environments.create({ name: 'acme' })
  const c = await hookpost.environments.createCredential(env.id, { role: 'consumer' })
  const p = await hookpost.environments.createCredential(env.id, { role: 'publisher' })
  const env2 = await hookpost.environments.create({ name: 'other' })
  const c2 = await hookpost.environments.createCredential(env2.id, { role: 'consumer' })
  return {
    app,
    hookpost,
    store,
    box,
    envId: env.id,
    consumer: basic(c.row.key, c.secret),
    publisher: basic(p.row.key, p.secret),
    admin: `Bearer ${adminToken}`,
    other: { envId: env2.id, consumer: basic(c2.row.key, c2.secret) },
    async close() {
      await app.close()
      await store.close()
    },
  }
}
