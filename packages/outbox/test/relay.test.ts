// The relay's protocol, on the real PostgreSQL and MariaDB, against a fake POST /events/batch on
// 127.0.0.1: what is sent (bytes, keys, order), what each answer does to the rows (published,
// failed, left pending), crashes before the commit, and several relays sharing one table.
import { createServer } from 'node:net'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { eventually } from '../../../test/support/eventually.ts'
import {
  createRelay,
  type OutboxDialect,
  type Relay,
  type RelayLogEntry,
  type RelayOptions,
} from '../src/index.js'
import { type OutboxFixture, outboxFixture, testDialects } from './databases.ts'
import { type FakeHookpost, startFakeHookpost } from './fake-hookpost.ts'

const dialects = await testDialects()

describe.each(dialects)('outbox relay on %s', (dialect) => {
  let fake: FakeHookpost
  let fx: OutboxFixture
  const relays: Relay[] = []
  const logs: RelayLogEntry[] = []

  async function relay(o: Partial<RelayOptions> = {}): Promise<Relay> {
    const r = await createRelay({
      database: fx.url,
      table: fx.table,
      hookpost: { url: fake.url, key: 'key_pub', secret: 'sec' },
      log: (e) => logs.push(e),
      retryDelayMs: { min: 10, max: 50 },
      ...o,
    })
    relays.push(r)
    return r
  }

  beforeAll(async () => {
    fake = await startFakeHookpost()
  })
  afterAll(() => fake.close())
  beforeEach(async () => {
    fake.requests.length = 0
    fake.events.clear()
    fake.script = undefined
    fake.afterAnswer = undefined
    logs.length = 0
    fx = await outboxFixture(dialect)
  })
  afterEach(async () => {
    for (const r of relays.splice(0)) await r.close()
    await fx.drop()
  })

  it('sends committed rows in id order, as written, with their keys; a rolled-back write sends nothing', async () => {
    const { app, outbox, p } = fx
    await app.query('begin')
    await outbox.write(app.driver, { eventName: 'store.order_updated', order: { ref: 1, status: 'paid' } })
    await outbox.write(
      app.driver,
      { eventName: 'store.order_updated', order: { ref: 2 } },
      { orderingKey: 'order-2' },
    )
    // A row written by hand: its text goes out byte for byte (spacing, key order, non-ASCII).
    const raw = '{ "site": {"ref": 3},  "eventName":"site.publish", "note": "café ✓" }'
    await app.query(
      `insert into ${fx.dialect === 'postgres' ? `"${fx.table}"` : fx.table} (event_name, payload) values (${p(1)}, ${p(2)})`,
      ['site.publish', raw],
    )
    await app.query('commit')
    await app.query('begin')
    await outbox.write(app.driver, { eventName: 'store.order_updated', order: { ref: 99 } })
    await app.query('rollback')

    const r = await relay()
    expect(await r.step()).toEqual({ kind: 'shipped', published: 3, failed: 0 })
    expect(await r.step()).toEqual({ kind: 'idle' })

    expect(fake.requests).toHaveLength(1)
    const [request] = fake.requests
    expect(request?.authorization).toBe(`Basic ${Buffer.from('key_pub:sec').toString('base64')}`)
    const rows = await fx.rows()
    expect(rows).toHaveLength(3)
    expect(request?.raw).toBe(
      `{"events":[${rows
        .map(
          (row) =>
            `{"payload":${row.payload},"idempotencyKey":"${row.idempotency_key}"${row.ordering_key ? `,"orderingKey":"${row.ordering_key}"` : ''}}`,
        )
        .join(',')}]}`,
    )
    expect(request?.raw).toContain(raw)
    expect(rows.map((row) => row.ordering_key)).toEqual([null, 'order-2', null])
    expect(new Set(rows.map((row) => row.idempotency_key)).size).toBe(3)
    for (const row of rows) expect(row.idempotency_key).toMatch(/^outbox:[0-9a-f-]{36}$/)
    expect(rows.map((row) => [row.published, row.event_id])).toEqual([
      [true, 'evt_1'],
      [true, 'evt_2'],
      [true, 'evt_3'],
    ])
    expect(fake.requests.flatMap((q) => q.items.map((i) => i.payload['order']))).not.toContainEqual({
      ref: 99,
    })
  })

  it('marks a row Hookpost refuses by index (422 /events/1/…) failed with the error, then sends the others', async () => {
    await fx.commitRows(3)
    fake.script = (req) =>
      req.items.length === 3
        ? {
            status: 422,
            body: {
              error: {
                code: 'payload_invalid',
                message: 'an event does not match its schema',
                details: [{ path: '/events/1/payload/site/ref', message: 'must be integer' }],
              },
            },
          }
        : undefined
    const r = await relay()
    expect(await r.step()).toEqual({ kind: 'shipped', published: 0, failed: 1 })
    expect(await r.step()).toEqual({ kind: 'shipped', published: 2, failed: 0 })
    expect(await r.step()).toEqual({ kind: 'idle' })
    const rows = await fx.rows()
    expect(rows.map((row) => [row.published, row.failed])).toEqual([
      [true, false],
      [false, true],
      [true, false],
    ])
    expect(rows[1]?.last_error).toBe('payload_invalid /payload/site/ref: must be integer')
    expect(await r.lag()).toMatchObject({ pending: 0, failed: 1, oldestPendingMs: 0 })
    expect(logs.some((l) => l.level === 'error' && l.id === rows[1]?.id)).toBe(true)
  })

  it('marks a row that is not a JSON object failed without sending it', async () => {
    await fx.commitRows(1)
    await fx.app.query(
      `insert into ${fx.dialect === 'postgres' ? `"${fx.table}"` : fx.table} (event_name, payload) values (${fx.p(1)}, ${fx.p(2)})`,
      ['site.publish', '{"eventName": "site.publish",'],
    )
    const r = await relay()
    expect(await r.step()).toEqual({ kind: 'shipped', published: 1, failed: 1 })
    expect(fake.requests[0]?.items).toHaveLength(1)
    const rows = await fx.rows()
    expect(rows[1]).toMatchObject({ failed: true, published: false })
    expect(rows[1]?.last_error).toMatch(/^invalid_json: /)
  })

  it('answers 413 with smaller batches until the row too big alone is marked failed', async () => {
    await fx.commitRows(6)
    const big = (await fx.rows())[4]?.idempotency_key
    fake.script = (req) =>
      req.items.some((i) => i.idempotencyKey === big)
        ? { status: 413, body: { error: { code: 'body_too_large', message: 'the body is over 10mb' } } }
        : undefined
    const r = await relay()
    const steps = []
    for (let s = await r.step(); s.kind !== 'idle'; s = await r.step()) steps.push(s.kind)
    expect(steps).toContain('split')
    const rows = await fx.rows()
    expect(rows.map((row) => row.failed)).toEqual([false, false, false, false, true, false])
    expect(rows.filter((row) => row.published)).toHaveLength(5)
    expect(rows[4]?.last_error).toBe('413 body_too_large: the body is over 10mb')
  })

  it('waits the Retry-After of a 429 and records nothing; the next POST carries the same keys', async () => {
    await fx.commitRows(2)
    fake.script = () => ({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: { code: 'rate_limited', message: 'slow down' } },
    })
    const r = await relay()
    expect(await r.step()).toEqual({ kind: 'backoff', delayMs: 7000, error: '429 rate_limited: slow down' })
    fake.script = () => ({ status: 503, body: {} })
    // Doubling from retryDelayMs.min (10 ms here); the 429 counted as the first failure.
    expect(await r.step()).toMatchObject({ kind: 'backoff', delayMs: 20 })
    expect(await r.step()).toMatchObject({ kind: 'backoff', delayMs: 40 })
    expect((await fx.rows()).every((row) => !row.published && !row.failed)).toBe(true)
    fake.script = undefined
    expect(await r.step()).toEqual({ kind: 'shipped', published: 2, failed: 0 })
    const keys = fake.requests.map((q) => q.items.map((i) => i.idempotencyKey))
    expect(new Set(keys.map((k) => k.join()))).toHaveProperty('size', 1)
  })

  it('keeps rows pending when Hookpost is unreachable or refuses the credential', async () => {
    await fx.commitRows(1)
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port
        s.close(() => resolve(port))
      })
    })
    const unreachable = await relay({
      hookpost: { url: `http://127.0.0.1:${closedPort}`, key: 'k', secret: 's' },
    })
    expect(await unreachable.step()).toMatchObject({
      kind: 'backoff',
      error: expect.stringMatching(/ECONNREFUSED/),
    })
    fake.script = () => ({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'bad credentials' } },
    })
    const refused = await relay()
    expect(await refused.step()).toMatchObject({
      kind: 'backoff',
      error: '401 unauthorized: bad credentials',
    })
    expect(logs.some((l) => l.level === 'error' && l.msg === 'outbox batch not published; retrying')).toBe(
      true,
    )
    expect((await fx.rows())[0]).toMatchObject({ published: false, failed: false })
  })

  it('sends again under the same keys when the commit after a 202 is lost: one event per row', async () => {
    await fx.commitRows(3)
    const pool = losingFirstCommit(dialect, fx.url)
    const r = await relay({ database: pool.option })
    await expect(r.step()).rejects.toThrow('connection lost before commit')
    expect((await fx.rows()).every((row) => !row.published)).toBe(true)
    expect(await r.step()).toEqual({ kind: 'shipped', published: 3, failed: 0 })
    expect(fake.requests).toHaveLength(2)
    expect(fake.requests[1]?.raw).toBe(fake.requests[0]?.raw)
    expect(fake.events.size).toBe(3)
    expect((await fx.rows()).map((row) => row.event_id)).toEqual(['evt_1', 'evt_2', 'evt_3'])
    await r.close()
    await pool.end()
  })

  it('shares the table between relays: no row is claimed by two of them', async () => {
    await fx.commitRows(120)
    fake.script = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5)) // batches in flight overlap
      return undefined
    }
    const claimed: number[][] = [[], [], []]
    const rs = await Promise.all([0, 1, 2].map(() => relay({ batchSize: 7 })))
    await Promise.all(
      rs.map(async (r, i) => {
        for (let s = await r.step(); s.kind !== 'idle'; s = await r.step()) {
          if (s.kind === 'shipped') claimed[i]?.push(s.published)
        }
      }),
    )
    const keys = fake.requests.flatMap((q) => q.items.map((i) => i.idempotencyKey))
    expect(keys).toHaveLength(120)
    expect(new Set(keys).size).toBe(120)
    for (const q of fake.requests) {
      const ns = q.items.map((i) => i.payload['n'] as number)
      expect(ns, 'a batch is in id order').toEqual([...ns].sort((a, b) => a - b))
    }
    expect(claimed.filter((c) => c.length > 0).length).toBeGreaterThan(1)
    expect((await fx.rows()).every((row) => row.published)).toBe(true)
  })

  it('measures lag: the age of the oldest pending row, and the pending and failed counts', async () => {
    const r = await relay()
    expect(await r.lag()).toEqual({ oldestPendingMs: 0, pending: 0, failed: 0 })
    const t = fx.dialect === 'postgres' ? `"${fx.table}"` : fx.table
    const old =
      fx.dialect === 'postgres' ? "now() - interval '5 minutes'" : 'current_timestamp(6) - interval 5 minute'
    await fx.app.query(
      `insert into ${t} (event_name, payload, created_at) values ('site.publish', '{"eventName":"site.publish"}', ${old})`,
    )
    await fx.commitRows(2)
    const lag = await r.lag()
    expect(lag.pending).toBe(3)
    expect(lag.oldestPendingMs).toBeGreaterThanOrEqual(5 * 60_000)
    expect(lag.oldestPendingMs).toBeLessThan(60 * 60_000)
    await r.step()
    expect(await r.lag()).toEqual({ oldestPendingMs: 0, pending: 0, failed: 0 })
  })

  it.runIf(dialect === 'postgres')(
    'run() is woken by the insert trigger (LISTEN/NOTIFY), not by its next poll',
    async () => {
      // Polls an hour apart: only the notification can make the relay see the rows.
      const r = await relay({ idleDelayMs: { min: 3_600_000, max: 3_600_000 } })
      await r.migrate({ notify: true }) // adds the trigger to the fixture's table
      const running = r.run()
      await new Promise((resolve) => setTimeout(resolve, 200)) // its first claim found nothing: it sleeps
      await fx.commitRows(3)
      await eventually(async () => expect((await fx.rows()).every((row) => row.published)).toBe(true), 10_000)
      await r.stop()
      await running
      expect(fake.events.size).toBe(3)
    },
  )

  it('run() with concurrency 3: batches in flight at once, every row sent once', async () => {
    await expect(relay({ concurrency: 0 })).rejects.toThrow(RangeError)
    await fx.commitRows(60)
    fake.script = async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      return undefined
    }
    const r = await relay({ batchSize: 5, concurrency: 3, idleDelayMs: { min: 5, max: 20 } })
    const running = r.run()
    while ((await fx.rows()).some((row) => !row.published))
      await new Promise((resolve) => setTimeout(resolve, 10))
    await r.stop()
    await running
    const keys = fake.requests.flatMap((q) => q.items.map((i) => i.idempotencyKey))
    expect(keys).toHaveLength(60)
    expect(new Set(keys).size).toBe(60)
    expect(logs.filter((l) => l.msg === 'outbox relay started')).toHaveLength(1)
  })

  it('run() ships what is committed while it runs, logs its lag, and stop() ends it', async () => {
    const r = await relay({ idleDelayMs: { min: 5, max: 20 }, lagLogIntervalMs: 1 })
    const running = r.run()
    await fx.commitRows(5)
    r.wake()
    while ((await fx.rows()).some((row) => !row.published))
      await new Promise((resolve) => setTimeout(resolve, 10))
    await r.stop()
    await running
    expect(fake.events.size).toBe(5)
    expect(logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['outbox relay started', 'outbox lag', 'outbox relay stopped']),
    )
    expect(logs.find((l) => l.msg === 'outbox lag')).toMatchObject({
      table: fx.table,
      pending: expect.any(Number),
    })
  })
})

/** A pool of the relay's own whose first COMMIT after an UPDATE is lost (rolled back, then an error). */
function losingFirstCommit(dialect: OutboxDialect, url: string) {
  let armed = true
  let updated = false
  const wrap = <C extends { query(sql: string, params?: unknown[]): Promise<unknown> }>(conn: C): C =>
    new Proxy(conn, {
      get(target, prop, receiver) {
        if (prop !== 'query') {
          const v = Reflect.get(target, prop, receiver)
          return typeof v === 'function' ? v.bind(target) : v
        }
        return async (sql: string, params?: unknown[]) => {
          if (sql.trim().startsWith('update')) updated = true
          if (armed && updated && sql === 'commit') {
            armed = false
            await target.query('rollback')
            throw new Error('connection lost before commit')
          }
          return target.query(sql, params)
        }
      },
    })
  if (dialect === 'postgres') {
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    const like = {
      connect: async () => wrap(await pool.connect()),
      query: (sql: string, params?: unknown[]) => pool.query(sql, params),
      end: async () => {},
    }
    return { option: { dialect: 'postgres' as const, pool: like }, end: () => pool.end() }
  }
  const pool = mysql.createPool({ uri: url, connectionLimit: 2 })
  const like = {
    getConnection: async () => wrap(await pool.getConnection()),
    query: (sql: string, params?: unknown[]) => pool.query(sql, params) as Promise<[unknown, unknown]>,
    end: async () => {},
  }
  return { option: { dialect: 'mysql' as const, pool: like }, end: () => pool.end() }
}
