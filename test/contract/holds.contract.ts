// The Store contract of subscription filters, holds (pause, endpoint verification) and
// verification leases, run against every adapter like store.contract.ts.
import { describe, expect, it } from 'vitest'
import { completionRules } from '../../src/deliveries/completion-rules.ts'
import { newId } from '../../src/shared/ids.ts'
import type { CompleteInput, EndpointVerification, PublishInput, Store } from '../../src/store/store.ts'
import { anEnvironmentId, aSubscription, T0 } from './fixtures.ts'
import { freshStoreEachTest, type StoreHarness } from './store-harness.ts'

function anEvent(
  envId: string,
  at: number,
  over: Partial<PublishInput> = {},
  orderingKey: string | null = null,
): PublishInput {
  return {
    event: {
      id: newId('evt', at),
      envId,
      eventName: 'site.publish',
      body: Buffer.from('{"eventName":"site.publish"}'),
      orderingKey,
      created: at,
    },
    idempotencyKey: null,
    idempotencySince: at - 86_400_000,
    attemptLimit: 3,
    newDeliveryId: () => newId('dlv', at),
    ...over,
  }
}

function outcome(
  id: string,
  leaseToken: string,
  o: CompleteInput['outcome'],
  statusCode = 500,
): CompleteInput {
  return {
    id,
    leaseToken,
    statusCode,
    error: o.kind === 'delivered' ? null : `http_${statusCode}`,
    outcome: o,
    attempt: {
      deliveryId: id,
      number: 1,
      started: T0,
      durationMs: 5,
      statusCode,
      error: null,
      responseBody: '',
      requestHeaders: {},
      responseHeaders: {},
    },
  }
}

const noDisable = completionRules({ disableAfterMs: 1e12 })
const claim = async (store: Store, now: number, limit = 100) =>
  (await store.deliveries.claimDue({ now, limit, leaseMs: 60_000, scan: { exclude: [] } })).deliveries

const pending = (at: number): EndpointVerification => ({
  state: 'pending',
  challenge: `ch-${at}`,
  attempts: 0,
  nextAt: at,
  lastError: null,
})

export function holdsContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract of filters and held subscriptions`, () => {
    let h: StoreHarness
    let store: Store
    let envId: string
    freshStoreEachTest(makeHarness, async (fresh) => {
      h = fresh
      store = fresh.store
      envId = await anEnvironmentId(store)
    })

    it("keeps a subscription's filter, pause, hold and verification", async () => {
      const s = await aSubscription(store, envId, {
        filter: '{"site.ref":3412}',
        paused: true,
        held: true,
        verification: pending(T0),
      })
      expect(await store.subscriptions.get(envId, s.id)).toMatchObject({
        filter: '{"site.ref":3412}',
        paused: true,
        held: true,
        verification: pending(T0),
      })
      const plain = await aSubscription(store, envId)
      expect(await store.subscriptions.get(envId, plain.id)).toMatchObject({
        filter: null,
        paused: false,
        held: false,
        verification: null,
      })
    })

    it('asks the core which filtered subscriptions an event goes to, and counts only those', async () => {
      const open = await aSubscription(store, envId)
      const yes = await aSubscription(store, envId, { filter: '{"yes":true}' })
      const no = await aSubscription(store, envId, { filter: '{"no":true}' })
      const asked: { id: string; updated: number; filter: string }[] = []
      const accepts = (s: { id: string; updated: number; filter: string }) => {
        asked.push(s)
        return s.filter.includes('yes')
      }
      const r = await store.events.publish(anEvent(envId, T0, { accepts }))
      expect(r.deliveries).toBe(2)
      expect(asked.map((a) => a.id).sort()).toEqual([yes.id, no.id].sort())
      expect(asked.find((a) => a.id === yes.id)).toEqual({ id: yes.id, updated: T0, filter: '{"yes":true}' })
      const subs = (await store.deliveries.list(envId, { limit: 10 })).map((d) => d.subscriptionId)
      expect(subs.sort()).toEqual([open.id, yes.id].sort())
      const batch = await store.events.publishBatch([
        anEvent(envId, T0 + 1, { accepts: () => false }),
        anEvent(envId, T0 + 2, { accepts: () => true }),
      ])
      expect(batch.map((b) => b.deliveries)).toEqual([1, 3])
    })

    it("creates a held subscription's deliveries pending with no due time, and releases them oldest first", async () => {
      const s = await aSubscription(store, envId, { paused: true, held: true })
      for (let i = 0; i < 3; i++) await store.events.publish(anEvent(envId, T0 + 10 * (3 - i)))
      const held = await store.deliveries.list(envId, { limit: 10 })
      expect(held.map((d) => [d.status, d.nextAttemptAt])).toEqual([
        ['pending', null],
        ['pending', null],
        ['pending', null],
      ])
      expect(await claim(store, T0 + 1000)).toEqual([])
      // One more pending delivery, due, of a subscription that is not held.
      await aSubscription(store, envId, { event: 'site.first_publish' })
      const due = anEvent(envId, T0 + 40)
      await store.events.publish({ ...due, event: { ...due.event, eventName: 'site.first_publish' } })
      expect(await store.deliveries.backlog(T0 + 1000)).toEqual({ pending: 4, held: 3, oldestDueAt: T0 + 40 })
      await store.subscriptions.update({ ...s, paused: false, held: false, updated: T0 + 2000 })
      expect(await store.deliveries.backlog(T0 + 1000)).toMatchObject({ pending: 4, held: 0 })
      const claimed = await claim(store, T0 + 2000)
      // Due at their creation: claimed in that order (the other subscription's one last).
      expect(claimed.map((c) => c.dueAt)).toEqual([T0 + 10, T0 + 20, T0 + 30, T0 + 40])
    })

    it('holding keeps an attempt in flight, holds its retry, and lets its success stand', async () => {
      const s = await aSubscription(store, envId)
      for (let i = 0; i < 3; i++) await store.events.publish(anEvent(envId, T0 + i))
      const [a, b] = await claim(store, T0 + 10, 2)
      await store.subscriptions.update({ ...s, paused: true, held: true, updated: T0 + 20 })
      const rows = await store.deliveries.list(envId, { limit: 10 })
      // The one not in flight is held; the two in flight keep their leases.
      expect(rows.filter((d) => d.nextAttemptAt === null).map((d) => d.leaseToken)).toEqual([null])
      expect(await claim(store, T0 + 30)).toEqual([])
      const applied = await store.deliveries.complete(
        [
          outcome(a!.id, a!.leaseToken, { kind: 'retry', at: T0 + 40 }),
          outcome(b!.id, b!.leaseToken, { kind: 'delivered' }, 200),
        ],
        T0 + 35,
        noDisable,
      )
      expect(applied.sort()).toEqual([a!.id, b!.id].sort())
      expect(await store.deliveries.get(envId, a!.id)).toMatchObject({
        status: 'pending',
        nextAttemptAt: null,
      })
      expect(await store.deliveries.get(envId, b!.id)).toMatchObject({ status: 'delivered' })
      expect(await claim(store, T0 + 100_000)).toEqual([])
      await store.subscriptions.update({ ...s, paused: false, held: false, updated: T0 + 50 })
      expect((await claim(store, T0 + 60)).length).toBe(2)
    })

    it('a lease given back, a replay or a test delivery of a held subscription waits too', async () => {
      const s = await aSubscription(store, envId)
      await store.events.publish(anEvent(envId, T0))
      const [c] = await claim(store, T0 + 1)
      await store.deliveries.complete([outcome(c!.id, c!.leaseToken, { kind: 'failed' })], T0 + 2, noDisable)
      await store.events.publish(anEvent(envId, T0 + 3))
      const [d] = await claim(store, T0 + 4)
      await store.subscriptions.update({ ...s, paused: true, held: true, updated: T0 + 5 })
      await store.deliveries.release([{ id: d!.id, leaseToken: d!.leaseToken }], T0 + 6)
      expect(await store.deliveries.get(envId, d!.id)).toMatchObject({
        status: 'pending',
        nextAttemptAt: null,
      })
      // A replay re-queues the failed one: held as well.
      await store.replays.create({
        id: newId('job'),
        envId,
        subscriptionId: s.id,
        since: T0 - 1,
        until: T0 + 100,
        statusFilter: 'failed',
        created: T0 + 7,
      })
      await store.replays.step(T0 + 8, { chunk: 10, extraAttempts: 2 })
      expect(await store.deliveries.get(envId, c!.id)).toMatchObject({
        status: 'pending',
        nextAttemptAt: null,
      })
      expect(
        await store.events.publishToSubscription({
          event: anEvent(envId, T0 + 9).event,
          subscriptionId: s.id,
          deliveryId: newId('dlv'),
          attemptLimit: 3,
        }),
      ).toBe(true)
      expect(await claim(store, T0 + 100_000)).toEqual([])
      expect((await store.deliveries.list(envId, { limit: 10, status: 'pending' })).length).toBe(3)
    })

    it('refuses a manual retry while the subscription is held', async () => {
      const s = await aSubscription(store, envId)
      await store.events.publish(anEvent(envId, T0))
      const [c] = await claim(store, T0 + 1)
      await store.deliveries.complete([outcome(c!.id, c!.leaseToken, { kind: 'failed' })], T0 + 2, noDisable)
      await store.subscriptions.update({ ...s, paused: true, held: true, updated: T0 + 3 })
      const failed = (await store.deliveries.get(envId, c!.id))!
      const change = { attemptLimit: failed.attempts + 1, seen: failed }
      expect(await store.deliveries.retryNow(envId, c!.id, T0 + 4, change)).toBeUndefined()
      await store.subscriptions.update({ ...s, paused: false, held: false, updated: T0 + 5 })
      expect(await store.deliveries.retryNow(envId, c!.id, T0 + 6, change)).toMatchObject({
        status: 'pending',
      })
    })

    it("an ordered subscription released after a hold sends each key's chain in publish order", async () => {
      const s = await aSubscription(store, envId, { ordered: true, paused: true, held: true })
      for (let i = 0; i < 3; i++) await store.events.publish(anEvent(envId, T0 + i, {}, 'k1'))
      await store.events.publish(anEvent(envId, T0 + 3, {}, 'k2'))
      await store.subscriptions.update({ ...s, paused: false, held: false, updated: T0 + 10 })
      const order: number[] = []
      for (let round = 0; round < 3; round++) {
        const got = await claim(store, T0 + 100 + round)
        for (const g of got) {
          order.push((await store.deliveries.get(envId, g.id))!.created)
          await store.deliveries.complete(
            [outcome(g.id, g.leaseToken, { kind: 'delivered' }, 200)],
            T0 + 100,
            noDisable,
          )
        }
      }
      expect(order).toEqual([T0, T0 + 3, T0 + 1, T0 + 2])
    })

    it('leases due verifications to one claimer, and fences outcomes by challenge', async () => {
      const s = await aSubscription(store, envId, { held: true, verification: pending(T0) })
      await aSubscription(store, envId, { held: true, verification: { ...pending(T0), nextAt: T0 + 60_000 } })
      await store.events.publish(anEvent(envId, T0 + 1))
      const [first] = await store.subscriptions.claimVerifications(T0 + 10, 10, 30_000)
      expect(first).toMatchObject({
        id: s.id,
        verification: { state: 'pending', attempts: 1, nextAt: T0 + 30_010 },
      })
      expect(await store.subscriptions.claimVerifications(T0 + 20, 10, 30_000)).toEqual([])
      // The lease runs out (the node died): due again.
      expect(
        (await store.subscriptions.claimVerifications(T0 + 30_010, 10, 30_000)).map((x) => x.id),
      ).toEqual([s.id])
      expect(
        await store.subscriptions.recordVerification(s.id, 'other', { kind: 'verified' }, T0 + 40_000),
      ).toBe(false)
      expect(
        await store.subscriptions.recordVerification(
          s.id,
          `ch-${T0}`,
          { kind: 'retry', at: T0 + 50_000, error: 'http_500' },
          T0 + 40_000,
        ),
      ).toBe(true)
      expect((await store.subscriptions.get(envId, s.id))?.verification).toMatchObject({
        state: 'pending',
        attempts: 2,
        nextAt: T0 + 50_000,
        lastError: 'http_500',
      })
      expect(await claim(store, T0 + 45_000)).toEqual([])
      expect(
        await store.subscriptions.recordVerification(s.id, `ch-${T0}`, { kind: 'verified' }, T0 + 46_000),
      ).toBe(true)
      const verified = (await store.subscriptions.get(envId, s.id))!
      expect(verified).toMatchObject({ held: false, updated: T0 + 46_000 })
      expect(verified.verification).toMatchObject({ state: 'verified', nextAt: null, lastError: null })
      expect((await claim(store, T0 + 47_000)).length).toBe(1)
      // Recorded twice (two nodes answered): the second changes nothing.
      expect(
        await store.subscriptions.recordVerification(s.id, `ch-${T0}`, { kind: 'verified' }, T0 + 48_000),
      ).toBe(false)
    })

    it('a verified subscription that is paused stays held; a failed one stays held with its error', async () => {
      const paused = await aSubscription(store, envId, {
        paused: true,
        held: true,
        verification: pending(T0),
      })
      const failing = await aSubscription(store, envId, { held: true, verification: pending(T0 + 1) })
      await store.events.publish(anEvent(envId, T0 + 2))
      await store.subscriptions.recordVerification(paused.id, `ch-${T0}`, { kind: 'verified' }, T0 + 3)
      await store.subscriptions.recordVerification(
        failing.id,
        `ch-${T0 + 1}`,
        { kind: 'failed', error: 'http_404' },
        T0 + 3,
      )
      expect(await store.subscriptions.get(envId, paused.id)).toMatchObject({
        held: true,
        verification: { state: 'verified' },
      })
      expect(await store.subscriptions.get(envId, failing.id)).toMatchObject({
        held: true,
        verification: { state: 'failed', nextAt: null, lastError: 'http_404' },
      })
      expect(await store.subscriptions.claimVerifications(T0 + 1_000_000, 10, 1000)).toEqual([])
      expect(await claim(store, T0 + 1_000_000)).toEqual([])
    })

    it('never hands one verification to two claimers at once', async () => {
      for (let i = 0; i < 20; i++)
        await aSubscription(store, envId, { held: true, verification: pending(T0 + i) })
      const stores = [store]
      if (h.second) stores.push(await h.second(), await h.second())
      const got = await Promise.all(
        stores.flatMap((s) => [0, 1].map(() => s.subscriptions.claimVerifications(T0 + 100, 4, 60_000))),
      )
      const ids = got.flat().map((s) => s.id)
      expect(new Set(ids).size).toBe(ids.length)
      for (const s of stores.slice(1)) await s.close()
    })
  })
}
