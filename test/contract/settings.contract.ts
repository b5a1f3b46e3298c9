// Per-subscription delivery settings in the Store (docs/subscription-settings.md): they are kept
// with the subscription, the fan-out and replays take a subscription's own attempt limit from the
// core, and claims spend a budget shared by every claimer (rateLimit per window, maxInFlight
// leases). Run on SQLite and PostgreSQL; on PostgreSQL also from several stores at once.
import { describe, expect, it } from 'vitest'
import { completionRules } from '../../src/deliveries/completion-rules.ts'
import { newId } from '../../src/shared/ids.ts'
import {
  type CompleteInput,
  noSettings,
  type PublishInput,
  type Store,
  type SubscriptionSettings,
} from '../../src/store/store.ts'
import { anEnvironmentId, aSubscription, T0 } from './fixtures.ts'
import { freshStoreEachTest, type StoreHarness } from './store-harness.ts'

/** A time at the start of a one-minute (so also one-second) window. */
const W0 = Math.ceil(T0 / 60_000) * 60_000

/** A subscription with these settings (the others none). */
function withSettings(store: Store, envId: string, settings: Partial<SubscriptionSettings> = {}) {
  return aSubscription(store, envId, { settings: { ...noSettings, ...settings } })
}

function anEvent(envId: string, at: number, over: Partial<PublishInput> = {}): PublishInput {
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
    newDeliveryId: () => newId('dlv', at),
    ...over,
  }
}

async function publishMany(store: Store, envId: string, n: number, at = T0) {
  for (let i = 0; i < n; i++) await store.events.publish(anEvent(envId, at + i))
}

const claim = (store: Store, now: number, limit = 1000) =>
  store.deliveries.claimDue({ now, limit, leaseMs: 60_000, scan: { exclude: [] } })

const bySub = (ds: readonly { subscriptionId: string }[], id: string) =>
  ds.filter((d) => d.subscriptionId === id).length

function delivered(id: string, leaseToken: string, number: number): CompleteInput {
  return {
    id,
    leaseToken,
    statusCode: 200,
    error: null,
    outcome: { kind: 'delivered' },
    attempt: {
      deliveryId: id,
      number,
      started: W0,
      durationMs: 1,
      statusCode: 200,
      error: null,
      responseBody: '',
      requestHeaders: {},
      responseHeaders: {},
    },
  }
}

export function settingsContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract, subscription settings`, () => {
    let h: StoreHarness
    let store: Store
    let envId: string
    freshStoreEachTest(makeHarness, async (fresh) => {
      h = fresh
      store = fresh.store
      envId = await anEnvironmentId(store)
    })

    it('keeps the settings with the subscription, replaces them on update, none by default', async () => {
      const settings: SubscriptionSettings = {
        retryScheduleMs: [10_000, 60_000],
        timeoutMs: 5000,
        rateLimit: { count: 10, periodMs: 60_000 },
        maxInFlight: 4,
      }
      const s = await withSettings(store, envId, settings)
      expect((await store.subscriptions.get(envId, s.id))?.settings).toEqual(settings)
      expect((await store.subscriptions.getMany([s.id]))[0]?.settings).toEqual(settings)
      await store.subscriptions.update({ ...s, settings: { ...noSettings, timeoutMs: 700 }, updated: T0 + 1 })
      expect((await store.subscriptions.list(envId))[0]?.settings).toEqual({ ...noSettings, timeoutMs: 700 })
      // A row written without settings (v1) reads back as none.
      const { settings: _, ...plain } = await withSettings(store, envId)
      await store.subscriptions.update({ ...plain, id: plain.id, settings: undefined })
      expect((await store.subscriptions.get(envId, plain.id))?.settings).toEqual(noSettings)
    })

    it("gives a subscription with its own schedule the attempt limit the core computes, others the input's", async () => {
      const own = await withSettings(store, envId, { retryScheduleMs: [1000, 2000, 3000, 4000] })
      const plain = await withSettings(store, envId)
      const seen: number[][] = []
      await store.events.publish(
        anEvent(envId, T0, {
          attemptLimitFor: (schedule) => {
            seen.push([...schedule])
            return 40 + schedule.length
          },
        }),
      )
      const ds = await store.deliveries.list(envId, { limit: 10 })
      expect(ds.find((d) => d.subscriptionId === own.id)?.attemptLimit).toBe(44)
      expect(ds.find((d) => d.subscriptionId === plain.id)?.attemptLimit).toBe(3)
      expect(seen).toEqual([[1000, 2000, 3000, 4000]])
    })

    it("gives a replayed delivery of a subscription with its own schedule that schedule's budget", async () => {
      const own = await withSettings(store, envId, { retryScheduleMs: [1000] })
      await store.events.publish(anEvent(envId, T0, { attemptLimitFor: (s) => s.length + 1 }))
      const [c] = (await claim(store, T0 + 1)).deliveries
      await store.deliveries.complete(
        [delivered(c!.id, c!.leaseToken, 1)],
        T0 + 2,
        completionRules({ disableAfterMs: 1e12 }),
      )
      await store.replays.create({
        id: newId('job'),
        envId,
        subscriptionId: own.id,
        since: T0 - 1,
        until: T0 + 10,
        statusFilter: null,
        created: T0 + 3,
      })
      await store.replays.step(T0 + 4, { chunk: 10, extraAttempts: 9, extraAttemptsFor: (s) => s.length + 1 })
      const d = await store.deliveries.get(envId, c!.id)
      expect(d).toMatchObject({ status: 'pending', attempts: 1, attemptLimit: 3 })
    })

    it('claims at most rateLimit rows per window; the rest stay pending, due and unattempted', async () => {
      const limited = await withSettings(store, envId, { rateLimit: { count: 3, periodMs: 1000 } })
      const free = await withSettings(store, envId)
      await publishMany(store, envId, 10)
      const first = await claim(store, W0 + 100)
      expect(bySub(first.deliveries, limited.id)).toBe(3)
      expect(bySub(first.deliveries, free.id)).toBe(10)
      expect(first.throttled.get(limited.id)).toBe(W0 + 1000)
      expect(first.throttled.has(free.id)).toBe(false)
      // Same window: nothing more, however it is asked for.
      const again = await store.deliveries.claimDue({
        now: W0 + 900,
        limit: 100,
        leaseMs: 60_000,
        serve: [{ subscriptionId: limited.id, limit: 100 }],
        scan: { exclude: [] },
      })
      expect(again.deliveries).toEqual([])
      expect(again.throttled.get(limited.id)).toBe(W0 + 1000)
      const waiting = (await store.deliveries.list(envId, { subscriptionId: limited.id, limit: 20 })).filter(
        (d) => d.leaseToken === null,
      )
      expect(waiting).toHaveLength(7)
      for (const d of waiting) {
        expect(d).toMatchObject({ status: 'pending', attempts: 0 })
        expect(d.nextAttemptAt).toBeLessThanOrEqual(W0)
      }
      // The next window has a fresh budget.
      expect(bySub((await claim(store, W0 + 1000)).deliveries, limited.id)).toBe(3)
      // A claimer whose clock runs behind spends the newest window, not an old one.
      expect(bySub((await claim(store, W0 + 500)).deliveries, limited.id)).toBe(0)
      const minute = await withSettings(store, envId, { rateLimit: { count: 2, periodMs: 60_000 } })
      await publishMany(store, envId, 4, W0 + 2000)
      expect(bySub((await claim(store, W0 + 5000)).deliveries, minute.id)).toBe(2)
      const held = await claim(store, W0 + 30_000)
      expect(bySub(held.deliveries, minute.id)).toBe(0)
      expect(held.throttled.get(minute.id)).toBe(W0 + 60_000)
    })

    it('claims a maxInFlight subscription only while fewer of its leases are unexpired', async () => {
      const s = await withSettings(store, envId, { maxInFlight: 2 })
      await publishMany(store, envId, 5)
      const first = await claim(store, T0 + 100)
      expect(first.deliveries).toHaveLength(2)
      const blocked = await claim(store, T0 + 200)
      expect(blocked.deliveries).toHaveLength(0)
      expect(blocked.throttled.has(s.id)).toBe(true)
      const [a, b] = first.deliveries
      await store.deliveries.complete(
        [delivered(a!.id, a!.leaseToken, 1)],
        T0 + 300,
        completionRules({ disableAfterMs: 1e12 }),
      )
      expect((await claim(store, T0 + 400)).deliveries).toHaveLength(1)
      // Given back: no longer in flight.
      await store.deliveries.release([{ id: b!.id, leaseToken: b!.leaseToken }], T0 + 500)
      const next = await claim(store, T0 + 600)
      expect(next.deliveries).toHaveLength(1)
      // An expired lease holds nothing: its worker is gone.
      const later = await claim(store, T0 + 600 + 60_001)
      expect(later.deliveries).toHaveLength(2)
    })

    it('holds both budgets when several claimers ask at once', async () => {
      const rated = await withSettings(store, envId, { rateLimit: { count: 5, periodMs: 1000 } })
      const capped = await withSettings(store, envId, { maxInFlight: 3 })
      await publishMany(store, envId, 40)
      const stores = [store]
      if (h.second) stores.push(await h.second(), await h.second())
      try {
        const results = await Promise.all(stores.flatMap((s) => [0, 1, 2].map(() => claim(s, W0 + 10, 4))))
        const all = results.flatMap((r) => r.deliveries)
        expect(new Set(all.map((d) => d.id)).size).toBe(all.length)
        expect(bySub(all, rated.id)).toBeLessThanOrEqual(5)
        expect(bySub(all, capped.id)).toBeLessThanOrEqual(3)
        // Drained by repeated claims, the budgets are reached exactly.
        for (let i = 0; i < 10; i++)
          all.push(...(await claim(stores[i % stores.length]!, W0 + 20, 4)).deliveries)
        expect(bySub(all, rated.id)).toBe(5)
        expect(bySub(all, capped.id)).toBe(3)
      } finally {
        for (const s of stores.slice(1)) await s.close()
      }
    })

    it("cancels a deleted subscription's rows, held back or leased, with its budget", async () => {
      const s = await withSettings(store, envId, { rateLimit: { count: 1, periodMs: 1000 } })
      await publishMany(store, envId, 3)
      expect((await claim(store, W0)).deliveries).toHaveLength(1)
      expect(await store.subscriptions.delete(envId, s.id, W0 + 1)).toBe(true)
      const ds = await store.deliveries.list(envId, { subscriptionId: s.id, limit: 10 })
      expect(ds.map((d) => d.status)).toEqual(['cancelled', 'cancelled', 'cancelled'])
    })
  })
}
