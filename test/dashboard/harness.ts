// The real app over in-memory SQLite, with a known session key and optional dashboard ports, and
// a tiny browser for app.inject: a cookie jar, the CSRF token of the last page, form posts.
import type { FastifyInstance } from 'fastify'
import type { DashboardPorts } from '../../src/dashboard/ports.ts'
import { createHookpost, type Hookpost } from '../../src/hookpost.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import type { Transformer } from '../../src/subscriptions/transformation.ts'
import { buildWebApp } from '../../src/web-app.ts'
import { adminToken, simpleUrlCheck } from '../support/app-harness.ts'

export const sessionKey = Buffer.alloc(32, 7)

export interface DashHarness {
  app: FastifyInstance
  hookpost: Hookpost
  store: Store
  envId: string
  consumer: { id: string; key: string; secret: string }
  publisher: { id: string; key: string; secret: string }
  other: { envId: string; consumer: { id: string; key: string; secret: string } }
  close(): Promise<void>
}

export async function dashHarness(
  ports: DashboardPorts = {},
  opts: { store?: Store; now?: () => number; transformer?: Transformer } = {},
): Promise<DashHarness> {
  const store = opts.store ?? openSqliteStore(':memory:')
  await store.migrate()
  const hookpost = createHookpost({
    store,
    ...(opts.now ? { now: opts.now } : {}),
    box: new SecretBox(parseMasterKey(generateMasterKey())),
    checkUrl: simpleUrlCheck,
    retryPolicy: { scheduleMs: [1000, 2000], jitter: 0.2, maxRetryAfterMs: 60_000 },
    secretGraceMs: 86_400_000,
    ...(opts.transformer ? { transformer: opts.transformer } : {}),
  })
  const app = await buildWebApp({
    hookpost,
    adminToken,
    version: '0.0.0-test',
    eventBodyLimit: 1024 * 1024,
    sessionKey,
    dashboard: ports,
  })
  const cred = async (envId: string, role: 'consumer' | 'publisher') => {
    const c = await hookpost.environments.createCredential(envId, { role })
    return { id: c.row.id, key: c.row.key, secret: c.secret }
  }
  const env = await hookpost.environments.create({ name: 'acme' })
  const env2 = await hookpost.environments.create({ name: 'other-brand' })
  return {
    app,
    hookpost,
    store,
    envId: env.id,
    consumer: await cred(env.id, 'consumer'),
    publisher: await cred(env.id, 'publisher'),
    other: { envId: env2.id, consumer: await cred(env2.id, 'consumer') },
    async close() {
      await app.close()
      await store.close()
    },
  }
}

export interface Res {
  status: number
  body: string
  headers: Record<string, string | string[] | number | undefined>
  location: string | undefined
}

/** One browser: keeps the session cookie and the CSRF token of the last page it saw. */
export class Browser {
  cookie: string | undefined
  csrf: string | undefined
  readonly #app: FastifyInstance

  constructor(app: FastifyInstance) {
    this.#app = app
  }

  #remember(r: Awaited<ReturnType<FastifyInstance['inject']>>): Res {
    const set = r.headers['set-cookie']
    const first = Array.isArray(set) ? set[0] : set
    if (first) {
      const value = first.split(';')[0]!
      this.cookie = value.endsWith('=') ? undefined : value
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(r.body)
    if (m) this.csrf = m[1]
    const loc = r.headers['location']
    return {
      status: r.statusCode,
      body: r.body,
      headers: r.headers,
      location: typeof loc === 'string' ? loc : undefined,
    }
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Res> {
    return this.#remember(
      await this.#app.inject({
        method: 'GET',
        url,
        headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      }),
    )
  }

  /** A form post; the page's CSRF token is added unless csrf is false (or a string to send instead). */
  async post(
    url: string,
    form: Record<string, string> = {},
    opts: { csrf?: boolean | string; headers?: Record<string, string> } = {},
  ): Promise<Res> {
    const token = opts.csrf === false ? undefined : typeof opts.csrf === 'string' ? opts.csrf : this.csrf
    const body = new URLSearchParams({ ...form, ...(token !== undefined ? { _csrf: token } : {}) })
    return this.#remember(
      await this.#app.inject({
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(this.cookie ? { cookie: this.cookie } : {}),
          ...opts.headers,
        },
        payload: body.toString(),
      }),
    )
  }

  async signIn(cred: { key: string; secret: string }): Promise<Res> {
    await this.get('/dashboard/login')
    return this.post('/dashboard/login', { mode: 'consumer', key: cred.key, secret: cred.secret })
  }

  async signInOperator(token: string): Promise<Res> {
    await this.get('/dashboard/login')
    return this.post('/dashboard/login', { mode: 'operator', token })
  }

  /** Opens a portal link as a person does: the landing page, then its button. */
  async openPortalLink(url: string): Promise<Res> {
    const landing = await this.get(url)
    if (landing.status !== 200) return landing
    const token = /name="token" value="([^"]+)"/.exec(landing.body)![1]!
    return this.post('/dashboard/portal-login', { token })
  }
}
