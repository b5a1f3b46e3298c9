// A store that cannot write: publishes answer 503 store_unavailable with Retry-After (never a
// generic 500, never an acknowledgement of what was not committed), GET /health/ready says so
// and recovers once writes succeed again, GET /health stays the liveness answer. SQLite is
// made genuinely full with max_page_count.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { createHookpost, type Hookpost } from '../../src/hookpost.ts'
import { buildApp } from '../../src/http/build-app.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { isPostgresUnavailable, openPostgresStore } from '../../src/store/postgres/postgres-store.ts'
import { isSqliteUnavailable, openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import type { Store } from '../../src/store/store.ts'
import { adminToken, simpleUrlCheck } from '../support/app-harness.ts'
import { basic } from '../support/basic-auth.ts'
import { eventually } from '../support/eventually.ts'

const example = eventTypes.find((t) => t.name === 'site.publish')!.example

describe('a store that cannot write', () => {
  let dir: string
  let store: Store
  let app: FastifyInstance
  afterEach(async () => {
    await app?.close()
    await store?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers 503 store_unavailable with Retry-After, is not ready, and recovers when writes succeed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-full-'))
    let raw!: BetterSqlite3.Database
    store = openSqliteStore(join(dir, 'hookpost.db'), {
      onOpen: (db) => {
        raw = db
      },
    })
    await store.migrate()
    const hookpost: Hookpost = createHookpost({
      store,
      box: new SecretBox(parseMasterKey(generateMasterKey())),
      checkUrl: simpleUrlCheck,
      retryPolicy: { scheduleMs: [1000], jitter: 0, maxRetryAfterMs: 1000 },
      secretGraceMs: 1000,
    })
    app = await buildApp({ hookpost, adminToken, version: 'test', eventBodyLimit: 1024 * 1024 })
    const env = await hookpost.environments.create({ name: 'acme' })
    const p = await hookpost.environments.createCredential(env.id, { role: 'publisher' })
    for (let i = 0; i < 3; i++)
      await hookpost.subscriptions.create(env.id, {
        event: 'site.publish',
        url: `https://e.com/${i}`,
        active: true,
      })
    const publish = () =>
      app.inject({
        method: 'POST',
        url: '/events',
        headers: { authorization: basic(p.row.key, p.secret), 'content-type': 'application/json' },
        payload: JSON.stringify({ ...example, pad: 'x'.repeat(3000) }),
      })
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200)

    // The database may not grow any more: publishes fill what is left, then fail.
    raw.pragma(`max_page_count = ${raw.pragma('page_count', { simple: true })}`)
    const accepted: string[] = []
    let refused: Awaited<ReturnType<typeof publish>> | undefined
    for (let i = 0; i < 500 && !refused; i++) {
      const r = await publish()
      if (r.statusCode === 202) accepted.push(r.json().event.id)
      else refused = r
    }
    expect(refused?.statusCode).toBe(503)
    expect(refused?.json().error.code).toBe('store_unavailable')
    expect(refused?.headers['retry-after']).toBe('5')
    // Every acknowledged event is there with its deliveries; nothing else is.
    const stored = await store.deliveries.list(env.id, { limit: 10_000 })
    expect(new Set(stored.map((d) => d.eventId))).toEqual(new Set(accepted))
    expect(stored).toHaveLength(accepted.length * 3)

    const health = await app.inject({ method: 'GET', url: '/health' })
    expect(health.statusCode).toBe(200)
    expect(health.json()).toEqual({ status: 'ok' })
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    expect(ready.statusCode).toBe(503)
    expect(ready.json().error.code).toBe('store_unavailable')
    expect(ready.headers['retry-after']).toBe('5')
    // The driver's reason is for the server log, not for whoever asks.
    expect(ready.body).not.toContain('SQLITE')

    // Room again: the readiness probe's own write succeeds, without any traffic.
    raw.pragma('max_page_count = 1073741823')
    await eventually(async () => {
      const r = await app.inject({ method: 'GET', url: '/health/ready' })
      expect(r.statusCode).toBe(200)
      expect(r.json()).toEqual({ status: 'ready' })
    })
    expect((await publish()).statusCode).toBe(202)
  })

  it('is not ready when PostgreSQL cannot be reached', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-pg-'))
    store = openPostgresStore('postgres://postgres@127.0.0.1:1/none', 1)
    expect(await store.readiness()).toMatchObject({ ready: false, reason: 'ECONNREFUSED' })
  })
})

describe('driver errors that mean "the store is unavailable"', () => {
  it('PostgreSQL: disk full and other resources, I/O, shutdown, read-only standby, lost connections', () => {
    for (const code of [
      '53100',
      '53200',
      '53300',
      '58030',
      '57P01',
      '57P02',
      '57P03',
      '25006',
      '08006',
      'ETIMEDOUT',
    ])
      expect(isPostgresUnavailable(Object.assign(new Error(code), { code })), code).toBe(true)
    expect(isPostgresUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(isPostgresUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true)
    for (const code of ['23505', '42P01', '22P02', '40001'])
      expect(isPostgresUnavailable(Object.assign(new Error(code), { code })), code).toBe(false)
    expect(isPostgresUnavailable(new Error('syntax error'))).toBe(false)
  })

  it('SQLite: full, I/O error, read-only, cannot open, busy', () => {
    for (const code of [
      'SQLITE_FULL',
      'SQLITE_IOERR_WRITE',
      'SQLITE_READONLY',
      'SQLITE_READONLY_DBMOVED',
      'SQLITE_CANTOPEN',
      'SQLITE_BUSY',
    ])
      expect(isSqliteUnavailable(Object.assign(new Error(code), { code })), code).toBe(true)
    for (const code of ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'SQLITE_MISMATCH'])
      expect(isSqliteUnavailable(Object.assign(new Error(code), { code })), code).toBe(false)
  })
})
