// PostgreSQL's hot path: a claim and a plain publish are one statement each
// (postgres/claim-statement.ts, postgres/publish-statement.ts). The contract suite checks what
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

function anEvent(envId: string, at: number, filtered = false): PublishInput {
  return {
    event: {
      id: newId('evt', at),
      envId,
      eventName: 'site.publish',
      body: Buffer.from('{"eventName":"site.publish"}'),
      orderingKey: null,
      created: at,
    },
    idempotencyKey: null,
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
