// PostgreSQL's hot path: a claim and a plain publish (one event or a batch) are one statement
// each (postgres/claim-statement.ts, postgres/publish-statement.ts). The contract suite checks what
// they do; this checks that they stay one round trip, and what the remembered fan-out must not
// get wrong: a subscription created, changed or deactivated by another process since.
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { newId } from '../../src/shared/ids.ts'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.ts'
import { noSettings, type PublishInput, type Store } from '../../src/store/store.ts'
import { anEnvironmentId, aSubscription, T0 } from '../contract/fixtures.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'

const available = await postgresAvailable()

function anEvent(
  envId: string,
  at: number,
  filtered = false,
  over: {
    eventName?: string
    orderingKey?: string | null
    idempotencyKey?: string
    traceparent?: string
  } = {},
): PublishInput {
  const eventName = over.eventName ?? 'site.publish'
  return {
    event: {
      id: newId('evt', at),
      envId,
      eventName,
      body: Buffer.from(`{"eventName":"${eventName}"}`),
      orderingKey: over.orderingKey ?? null,
      created: at,
      ...(over.traceparent ? { traceparent: over.traceparent } : {}),
    },
    idempotencyKey: over.idempotencyKey ?? null,
    idempotencySince: at - 86_400_000,
    attemptLimit: 3,
    attemptLimitFor: (schedule) => schedule.length + 1,
    newDeliveryId: () => newId('dlv', at),
    // The core's filter stand-in: 'none' accepts nothing.
    ...(filtered ? { accepts: (s: { filter: string }) => s.filter !== 'none' } : {}),
  }
}

/** The statements sent over every connection (but the wake-up NOTIFYs, sent on their own). */
const sent: string[] = []
const query = pg.Client.prototype.query

describe.runIf(available.ok || postgresRequired)('PostgreSQL hot path in one statement', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>
  let store: Store
  let other: Store

  beforeAll(() => {
    pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
      const text = typeof a[0] === 'string' ? a[0] : (a[0] as { text?: string }).text
      if (text && !text.includes('pg_notify')) sent.push(text)
      return (query as (...x: unknown[]) => unknown).apply(this, a)
    } as typeof query
  })
  afterAll(() => {
    pg.Client.prototype.query = query
  })
  beforeEach(async () => {
    if (!available.ok) throw new Error(available.reason)
    db = await freshDatabase()
    store = openPostgresStore(db.url)
    other = openPostgresStore(db.url)
    await store.migrate()
  })
  afterEach(async () => {
    await store.close()
    await other.close()
    await db.drop()
  })

  const claim = (s: Store, now: number) =>
    s.deliveries.claimDue({
      now,
      limit: 100,
      leaseMs: 60_000,
      scan: { exclude: [], room: { perSubscription: 10, busy: new Map() } },
    })

  it('publishes a plain event and claims its deliveries in one statement each', async () => {
    const envId = await anEnvironmentId(store)
    const subs = [await aSubscription(store, envId), await aSubscription(store, envId)]
    // The first publish of a type learns its subscriptions; the next ones are one statement.
    await store.events.publish(anEvent(envId, T0))
    sent.length = 0
    const r = await store.events.publish(anEvent(envId, T0 + 1))
    expect(r.deliveries).toBe(2)
    expect(sent).toHaveLength(1)
    sent.length = 0
    const claimed = await claim(store, T0 + 10)
    expect(sent).toHaveLength(1)
    expect(claimed.deliveries.map((d) => d.subscriptionId).sort()).toEqual(
      [...subs, ...subs].map((s) => s.id).sort(),
    )
    expect(claimed.deliveries.every((d) => d.body.toString() === '{"eventName":"site.publish"}')).toBe(true)
  })

  it('lets the single publishes of one turn share one statement per environment, each answered for itself', async () => {
    const envId = await anEnvironmentId(store)
    const otherEnv = await anEnvironmentId(store, 'other')
    await aSubscription(store, envId)
    await aSubscription(store, envId)
    await aSubscription(store, otherEnv)
    await store.events.publish(anEvent(envId, T0))
    await store.events.publish(anEvent(otherEnv, T0))
    sent.length = 0
    const mine = Array.from({ length: 5 }, (_, i) => anEvent(envId, T0 + 1 + i))
    const theirs = anEvent(otherEnv, T0 + 1)
    const rs = await Promise.all([...mine, theirs].map((e) => store.events.publish(e)))
    // One statement for the five of one environment, one for the other's.
    expect(sent).toHaveLength(2)
    expect(rs.map((r) => [r.eventId, r.deliveries])).toEqual([
      ...mine.map((e) => [e.event.id, 2]),
      [theirs.event.id, 1],
    ])
    const claimed = (await claim(store, T0 + 10)).deliveries
    expect(claimed).toHaveLength(2 + 1 + 5 * 2 + 1)
  })

  it('splits a turn of large events into statements of at most 8 MB of bodies', async () => {
    const envId = await anEnvironmentId(store)
    await aSubscription(store, envId)
    await store.events.publish(anEvent(envId, T0))
    sent.length = 0
    const big = (at: number) => {
      const e = anEvent(envId, at)
      return { ...e, event: { ...e.event, body: Buffer.alloc(5 * 1024 * 1024, 0x20) } }
    }
    const rs = await Promise.all(
      [big(T0 + 1), big(T0 + 2), anEvent(envId, T0 + 3)].map((e) => store.events.publish(e)),
    )
    // 5 MB, then 5 MB with the small one: two statements, not one of 10 MB.
    expect(sent).toHaveLength(2)
    expect(rs.map((r) => r.deliveries)).toEqual([1, 1, 1])
  })

  it("sends a shared statement's publishes again on their own when one of them cannot go in it", async () => {
    const envId = await anEnvironmentId(store)
    await aSubscription(store, envId)
    const warm = anEvent(envId, T0)
    await store.events.publish(warm)
    const first = anEvent(envId, T0 + 1)
    // The same event id twice in one turn: the shared statement fails as a whole; alone, one of
    // them goes in and only the other is refused.
    const again = { ...anEvent(envId, T0 + 2), event: { ...first.event } }
    const rs = await Promise.allSettled([store.events.publish(first), store.events.publish(again)])
    expect(rs.filter((r) => r.status === 'rejected')).toHaveLength(1)
    expect(rs.find((r) => r.status === 'fulfilled')).toMatchObject({
      value: { eventId: first.event.id, deliveries: 1 },
    })
    const claimed = (await claim(store, T0 + 10)).deliveries
    expect(new Set(claimed.map((d) => d.eventId))).toEqual(new Set([warm.event.id, first.event.id]))
    expect(claimed).toHaveLength(2)
  })

  it('fans out to the subscriptions as they are now, whatever another process changed since', async () => {
    const envId = await anEnvironmentId(store)
    const a = await aSubscription(store, envId)
    expect((await store.events.publish(anEvent(envId, T0, true))).deliveries).toBe(1)
    // Another process adds one, gives a its own schedule, then a filter that refuses the event.
    const b = await aSubscription(other, envId)
    expect((await store.events.publish(anEvent(envId, T0 + 1, true))).deliveries).toBe(2)
    await other.subscriptions.update({
      ...a,
      settings: { ...noSettings, retryScheduleMs: [1000, 2000, 3000, 4000] },
      updated: T0 + 2,
    })
    await store.events.publish(anEvent(envId, T0 + 3, true))
    const claimed = (await claim(store, T0 + 10)).deliveries
    expect(claimed.filter((d) => d.dueAt === T0 + 3).map((d) => [d.subscriptionId, d.attemptLimit])).toEqual(
      expect.arrayContaining([
        [a.id, 5],
        [b.id, 3],
      ]),
    )
    await other.subscriptions.update({ ...b, filter: 'none', updated: T0 + 4 })
    await other.subscriptions.update({ ...a, active: false, updated: T0 + 4 })
    expect((await store.events.publish(anEvent(envId, T0 + 5, true))).deliveries).toBe(0)
    expect((await claim(store, T0 + 10)).deliveries).toEqual([])
  })

  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

  /** n events at `at`, `at` + 1…, of two types in turn, ordering keys key-0, key-1 or none. */
  const aBatch = (envId: string, at: number, n: number, keyed = false) =>
    Array.from({ length: n }, (_, k) =>
      anEvent(envId, at + k, true, {
        eventName: k % 2 === 0 ? 'site.publish' : 'site.unpublish',
        orderingKey: k % 3 === 2 ? null : `key-${k % 3}`,
        ...(k === 1 ? { traceparent } : {}),
        ...(keyed ? { idempotencyKey: `key-${at + k}` } : {}),
      }),
    )

  /**
   * What a batch wrote, event by event in batch order: the event's row and its deliveries' rows
   * (every column but the ids, times relative to the event's), and the events' feed positions.
   */
  async function rowsOf(batch: readonly PublishInput[]) {
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    try {
      const ids = batch.map((i) => i.event.id)
      const events = (await c.query('select * from events where id = any($1)', [ids])).rows
      // By subscription id, in code points (the database's collation may order them otherwise).
      const deliveries = (
        await c.query('select * from deliveries where event_id = any($1)', [ids])
      ).rows.sort((p, q) => (p.subscription_id < q.subscription_id ? -1 : 1))
      const rel = (t: string | null, at: number) => (t === null ? null : Number(t) - at)
      const written = batch.map(({ event }) => {
        const at = event.created
        const { id, env_id, idempotency_key, feed_tx, feed_seq, created, body, ...e } = events.find(
          (r) => r.id === event.id,
        )
        return {
          event: { ...e, body: body.toString(), created: rel(created, at) },
          deliveries: deliveries
            .filter((d) => d.event_id === event.id)
            .map(({ id, env_id, event_id, next_attempt_at, created, updated, ...d }) => ({
              ...d,
              next_attempt_at: rel(next_attempt_at, at),
              created: rel(created, at),
              updated: rel(updated, at),
            })),
        }
      })
      const feed = ids
        .map((id) => events.find((r) => r.id === id))
        .map((r) => [r.feed_tx, Number(r.feed_seq)])
      return { written, feed }
    } finally {
      await c.end()
    }
  }

  it('publishes a batch of events of two types in one statement, writing the rows the transaction writes', async () => {
    const envId = await anEnvironmentId(store)
    const plain = await aSubscription(store, envId)
    const ordered = await aSubscription(store, envId, { ordered: true })
    const scheduled = await aSubscription(store, envId, {
      settings: { ...noSettings, retryScheduleMs: [1000, 2000, 3000, 4000] },
    })
    await aSubscription(store, envId, { event: 'site.unpublish', filter: 'none' })
    const orderedToo = await aSubscription(store, envId, {
      event: 'site.unpublish',
      ordered: true,
      filter: '{}',
    })
    // The first batch learns both types' subscriptions.
    await store.events.publishBatch(aBatch(envId, T0, 2))
    const batch = aBatch(envId, T0 + 100, 6)
    sent.length = 0
    const rs = await store.events.publishBatch(batch)
    expect(sent).toHaveLength(1)
    expect(rs).toEqual(
      batch.map((i) => ({
        eventId: i.event.id,
        eventName: i.event.eventName,
        deliveries: i.event.eventName === 'site.publish' ? 3 : 1,
        replayed: false,
      })),
    )
    // The same batch the long way (idempotency keys take the transaction): the same rows.
    const longWay = aBatch(envId, T0 + 200, 6, true)
    sent.length = 0
    const rsLong = await store.events.publishBatch(longWay)
    expect(sent.length).toBeGreaterThan(1)
    expect(rsLong.map((r) => [r.eventName, r.deliveries])).toEqual(rs.map((r) => [r.eventName, r.deliveries]))
    const one = await rowsOf(batch)
    expect(one.written).toEqual((await rowsOf(longWay)).written)
    // Each subscription's own attempt limit, the ordering key at ordered ones only, all due now.
    const fanOut = one.written.map((w) =>
      w.deliveries.map((d) => [
        d.subscription_id,
        d.attempt_limit,
        d.ordering_key,
        d.status,
        d.next_attempt_at,
      ]),
    )
    const byId = (x: unknown[][]) => x.sort((p, q) => (String(p[0]) < String(q[0]) ? -1 : 1))
    expect(fanOut[0]).toEqual(
      byId([
        [plain.id, 3, null, 'pending', 0],
        [ordered.id, 3, 'key-0', 'pending', 0],
        [scheduled.id, 5, null, 'pending', 0],
      ]),
    )
    expect(fanOut[1]).toEqual([[orderedToo.id, 3, 'key-1', 'pending', 0]])
    expect(fanOut[2]).toEqual(
      byId([
        [plain.id, 3, null, 'pending', 0],
        [ordered.id, 3, null, 'pending', 0],
        [scheduled.id, 5, null, 'pending', 0],
      ]),
    )
    expect(one.written[1]!.event).toMatchObject({
      traceparent,
      event_name: 'site.unpublish',
      ordering_key: 'key-1',
    })
    // In the feed in batch order, as one transaction.
    expect(new Set(one.feed.map(([tx]) => tx)).size).toBe(1)
    const seqs = one.feed.map(([, seq]) => Number(seq))
    expect(seqs).toEqual([...seqs].sort((p, q) => p - q))
    expect(new Set(seqs).size).toBe(seqs.length)
  })

  it('fans a batch out to the subscriptions as they are now, whatever another process changed since', async () => {
    const envId = await anEnvironmentId(store)
    const a = await aSubscription(store, envId)
    const u = await aSubscription(store, envId, { event: 'site.unpublish' })
    /** Per event of the batch: [subscription, attempt limit, due (relative to the event)] by subscription. */
    const publish = async (at: number) => {
      const batch = aBatch(envId, at, 4)
      sent.length = 0
      await store.events.publishBatch(batch)
      const statements = sent.length
      const { written } = await rowsOf(batch)
      return {
        statements,
        fanOut: written.map((w) =>
          w.deliveries.map((d) => [d.subscription_id, d.attempt_limit, d.next_attempt_at]),
        ),
      }
    }
    expect((await publish(T0)).statements).toBe(2)
    expect((await publish(T0 + 100)).statements).toBe(1)
    // Created by another process: the statement finds the change, the next one writes.
    const b = await aSubscription(other, envId, { event: 'site.unpublish' })
    const created = await publish(T0 + 200)
    expect(created.statements).toBe(2)
    const us = [u.id, b.id].sort()
    expect(created.fanOut).toEqual([
      [[a.id, 3, 0]],
      us.map((id) => [id, 3, 0]),
      [[a.id, 3, 0]],
      us.map((id) => [id, 3, 0]),
    ])
    // Changed: a's own schedule gives its own attempt limit.
    await other.subscriptions.update({
      ...a,
      settings: { ...noSettings, retryScheduleMs: [1000, 2000, 3000, 4000, 5000] },
      updated: T0 + 250,
    })
    const changed = await publish(T0 + 300)
    expect(changed.statements).toBe(2)
    expect(changed.fanOut[0]).toEqual([[a.id, 6, 0]])
    // Paused: b's deliveries are created and kept, not due (the long way, as for one event).
    await other.subscriptions.update({ ...b, paused: true, held: true, updated: T0 + 350 })
    const paused = await publish(T0 + 400)
    expect(paused.fanOut[0]).toEqual([[a.id, 6, 0]])
    expect(paused.fanOut[1]).toEqual(us.map((id) => [id, 3, id === b.id ? null : 0]))
    // Released: the type is back to one statement (after one that reads), b's deliveries due.
    await other.subscriptions.update({ ...b, paused: false, held: false, updated: T0 + 450 })
    const released = await publish(T0 + 500)
    expect(released.statements).toBe(2)
    expect(released.fanOut[1]).toEqual(us.map((id) => [id, 3, 0]))
    // Deactivated: no delivery there any more.
    await other.subscriptions.update({ ...b, active: false, updated: T0 + 550 })
    const gone = await publish(T0 + 600)
    expect(gone.statements).toBe(2)
    expect(gone.fanOut[1]).toEqual([[u.id, 3, 0]])
  })

  it('claims a budgeted subscription within its budget beside the others (the claim in steps)', async () => {
    const envId = await anEnvironmentId(store)
    const limited = await aSubscription(store, envId, {
      settings: { ...noSettings, rateLimit: { count: 1, periodMs: 60_000 } },
    })
    const free = await aSubscription(store, envId)
    for (let i = 0; i < 3; i++) await store.events.publish(anEvent(envId, T0 + i))
    const r = await claim(store, T0 + 10)
    expect(r.deliveries.filter((d) => d.subscriptionId === limited.id)).toHaveLength(1)
    expect(r.deliveries.filter((d) => d.subscriptionId === free.id)).toHaveLength(3)
    expect(r.throttled.has(limited.id)).toBe(true)
  })

  it('cancels a claimed row whose subscription is gone instead of handing it out', async () => {
    const envId = await anEnvironmentId(store)
    const s = await aSubscription(store, envId)
    await store.events.publish(anEvent(envId, T0))
    // Gone without its rows being cancelled (a delete racing the publish).
    const c = new pg.Client({ connectionString: db.url })
    await c.connect()
    await c.query('delete from subscriptions where id = $1', [s.id])
    await c.end()
    expect((await claim(store, T0 + 10)).deliveries).toEqual([])
    const [row] = await store.deliveries.list(envId, { limit: 10 })
    expect(row).toMatchObject({ status: 'cancelled', lastError: 'subscription_deleted', leaseToken: null })
  })
})
