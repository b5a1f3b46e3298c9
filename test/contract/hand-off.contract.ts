// The Store contract of the hand-off at commit (store.ts HandOff): the deliveries a publish's
// hand-off takes are committed leased (fenced by their token like a claim's), given to it only
// after the commit, and claimed again by anyone once the lease expires. Run on every adapter.
import { describe, expect, it } from 'vitest'
import { completionRules } from '../../src/deliveries/completion-rules.ts'
import { newId } from '../../src/shared/ids.ts'
import type {
  ClaimedDelivery,
  CompleteInput,
  HandOff,
  HandOffCandidate,
  PublishInput,
  Store,
} from '../../src/store/store.ts'
import { anEnvironmentId, aSubscription, T0 } from './fixtures.ts'
import { freshStoreEachTest, type StoreHarness } from './store-harness.ts'

const leaseMs = 30_000
const noDisable = completionRules({ disableAfterMs: 1e12 })

/** A hand-off that takes what `takes` says and records what it is offered and handed. */
function aHandOff(takes: (c: HandOffCandidate) => boolean = () => true) {
  const offered: HandOffCandidate[] = []
  const handed: ClaimedDelivery[][] = []
  const handOff: HandOff = {
    leaseMs,
    take: (c) => {
      offered.push(c)
      return takes(c)
    },
    handed: (d) => handed.push(d),
  }
  return { handOff, offered, handed }
}

function anEvent(envId: string, handOff: HandOff, over: Partial<PublishInput> = {}): PublishInput {
  return {
    event: {
      id: newId('evt', T0),
      envId,
      eventName: 'site.publish',
      body: Buffer.from('{"eventName":"site.publish","n":1}'),
      orderingKey: null,
      created: T0,
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
    idempotencyKey: null,
    idempotencySince: T0 - 86_400_000,
    attemptLimit: 3,
    newDeliveryId: () => newId('dlv', T0),
    handOff,
    ...over,
  }
}

function delivered(d: { id: string; leaseToken: string; attempts: number }): CompleteInput {
  return {
    id: d.id,
    leaseToken: d.leaseToken,
    statusCode: 200,
    error: null,
    outcome: { kind: 'delivered' },
    attempt: {
      deliveryId: d.id,
      number: d.attempts,
      started: T0,
      durationMs: 5,
      statusCode: 200,
      error: null,
      responseBody: 'ok',
      requestHeaders: {},
      responseHeaders: {},
    },
  }
}

const claimAll = async (store: Store, now: number) =>
  (await store.deliveries.claimDue({ now, limit: 100, leaseMs: 60_000, scan: { exclude: [] } })).deliveries

export function handOffContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract, hand-off at commit`, () => {
    let store: Store
    freshStoreEachTest(makeHarness, (fresh) => {
      store = fresh.store
    })

    it('commits the taken deliveries leased and hands them over as a claim would', async () => {
      const envId = await anEnvironmentId(store)
      const sub = await aSubscription(store, envId, { url: 'https://example.com/a', updated: T0 + 7 })
      const { handOff, offered, handed } = aHandOff()
      const input = anEvent(envId, handOff)
      const r = await store.events.publish(input)
      expect(r.deliveries).toBe(1)
      expect(offered).toEqual([{ subscriptionId: sub.id, held: false, orderingKey: null, limited: false }])
      expect(handed).toHaveLength(1)
      const [d] = handed[0]!
      expect(d).toMatchObject({
        envId,
        eventId: input.event.id,
        subscriptionId: sub.id,
        event: 'site.publish',
        attempts: 1,
        attemptLimit: 3,
        url: 'https://example.com/a',
        subscriptionUpdated: T0 + 7,
        orderingKey: null,
        traceparent: input.event.traceparent,
        dueAt: T0,
      })
      expect(d!.body.toString()).toBe('{"eventName":"site.publish","n":1}')
      expect(d!.leaseToken.length).toBeGreaterThan(8)
      // Leased in the store: no claim takes it while the lease runs; the attempt is counted.
      expect(await claimAll(store, T0 + leaseMs - 1)).toEqual([])
      expect(await store.deliveries.get(envId, d!.id)).toMatchObject({
        status: 'pending',
        attempts: 1,
        nextAttemptAt: T0 + leaseMs,
      })
      // Fenced by its token, like a claimed one.
      expect(
        await store.deliveries.complete([delivered({ ...d!, leaseToken: 'not-it' })], T0, noDisable),
      ).toEqual([])
      expect(await store.deliveries.complete([delivered(d!)], T0 + 1, noDisable)).toEqual([d!.id])
      expect((await store.deliveries.get(envId, d!.id))?.status).toBe('delivered')
    })

    it('claims a handed-off delivery again once its lease expires, and fences the first holder out', async () => {
      const envId = await anEnvironmentId(store)
      await aSubscription(store, envId)
      const { handOff, handed } = aHandOff()
      await store.events.publish(anEvent(envId, handOff))
      const stale = handed[0]![0]!
      const [again] = await claimAll(store, T0 + leaseMs)
      expect(again).toMatchObject({ id: stale.id, attempts: 2, dueAt: T0 + leaseMs })
      expect(again!.leaseToken).not.toBe(stale.leaseToken)
      expect(await store.deliveries.complete([delivered(stale)], T0 + leaseMs, noDisable)).toEqual([])
      expect(await store.deliveries.complete([delivered(again!)], T0 + leaseMs, noDisable)).toEqual([
        again!.id,
      ])
    })

    it('inserts what the hand-off declines due, and offers held and ordered deliveries as such', async () => {
      const envId = await anEnvironmentId(store)
      const plain = await aSubscription(store, envId)
      const ordered = await aSubscription(store, envId, { ordered: true })
      const paused = await aSubscription(store, envId, { paused: true, held: true })
      const { handOff, offered, handed } = aHandOff((c) => c.subscriptionId === plain.id)
      const r = await store.events.publish(
        anEvent(envId, handOff, {
          event: { ...anEvent(envId, handOff).event, orderingKey: 'k1' },
        }),
      )
      expect(r.deliveries).toBe(3)
      const bySub = new Map(offered.map((c) => [c.subscriptionId, c]))
      expect(bySub.get(plain.id)).toMatchObject({ held: false, orderingKey: null })
      expect(bySub.get(ordered.id)).toMatchObject({ held: false, orderingKey: 'k1' })
      expect(bySub.get(paused.id)).toMatchObject({ held: true })
      expect(handed.flat().map((d) => d.subscriptionId)).toEqual([plain.id])
      // The ordered one is due for a claim; the paused one waits for its release.
      expect((await claimAll(store, T0)).map((c) => c.subscriptionId)).toEqual([ordered.id])
    })

    it('offers a subscription with a budget as limited', async () => {
      const envId = await anEnvironmentId(store)
      const sub = await aSubscription(store, envId, {
        settings: { retryScheduleMs: null, timeoutMs: null, rateLimit: null, maxInFlight: 2 },
      })
      const { handOff, offered } = aHandOff(() => false)
      await store.events.publish(anEvent(envId, handOff))
      expect(offered).toEqual([{ subscriptionId: sub.id, held: false, orderingKey: null, limited: true }])
      expect(await claimAll(store, T0)).toHaveLength(1)
    })

    it('hands over nothing when the transaction fails, and each event of a batch its own deliveries', async () => {
      const envId = await anEnvironmentId(store)
      await aSubscription(store, envId)
      await aSubscription(store, envId)
      const failing = aHandOff()
      const boom = new Error('before commit')
      await expect(
        store.events.publish(
          anEvent(envId, failing.handOff, {
            beforeCommit: () => {
              throw boom
            },
          }),
        ),
      ).rejects.toBe(boom)
      expect(failing.handed).toEqual([])
      expect(await claimAll(store, T0 + 10 * leaseMs)).toEqual([])

      const { handOff, handed } = aHandOff()
      const a = anEvent(envId, handOff)
      const b = anEvent(envId, handOff)
      const rs = await store.events.publishBatch([a, b])
      expect(rs.map((r) => r.deliveries)).toEqual([2, 2])
      expect(handed.map((list) => list.map((d) => d.eventId))).toEqual([
        [a.event.id, a.event.id],
        [b.event.id, b.event.id],
      ])
    })

    // SQLite keeps hand-offs out of its due indexes until their lease runs out
    // (src/store/sql/handed-deliveries.ts): every way to find, count, hold, give back or retry
    // pending deliveries still sees them.
    it('counts a handed-off delivery in the backlog and reports its subscription due once the lease ran out', async () => {
      const envId = await anEnvironmentId(store)
      const sub = await aSubscription(store, envId)
      await store.events.publish(anEvent(envId, aHandOff().handOff))
      expect(await store.deliveries.backlog(T0 + 1)).toEqual({ pending: 1, held: 0, oldestDueAt: null })
      expect(await store.deliveries.dueSubscriptions(T0 + leaseMs - 1, 10)).toEqual([])
      expect(await store.deliveries.backlog(T0 + leaseMs)).toEqual({
        pending: 1,
        held: 0,
        oldestDueAt: T0 + leaseMs,
      })
      expect(await store.deliveries.dueSubscriptions(T0 + leaseMs, 10)).toEqual([sub.id])
      const [again] = (
        await store.deliveries.claimDue({
          now: T0 + leaseMs,
          limit: 10,
          leaseMs: 60_000,
          serve: [{ subscriptionId: sub.id, limit: 10 }],
        })
      ).deliveries
      expect(again).toMatchObject({ subscriptionId: sub.id, attempts: 2 })
    })

    it('retries a handed-off delivery at its retry time and gives one back due at once', async () => {
      const envId = await anEnvironmentId(store)
      await aSubscription(store, envId)
      const { handOff, handed } = aHandOff()
      await store.events.publish(anEvent(envId, handOff))
      await store.events.publish(anEvent(envId, handOff))
      const [first, second] = handed.flat()
      const retry: CompleteInput = {
        ...delivered(first!),
        statusCode: 500,
        error: 'http_500',
        outcome: { kind: 'retry', at: T0 + 1000 },
      }
      expect(await store.deliveries.complete([retry], T0 + 10, noDisable)).toEqual([first!.id])
      await store.deliveries.release([second!], T0 + 20)
      // Both are due long before the hand-off's lease would have run out.
      expect((await claimAll(store, T0 + 20)).map((d) => d.id)).toEqual([second!.id])
      expect((await claimAll(store, T0 + 1000)).map((d) => d.id)).toEqual([first!.id])
    })

    it('counts the hand-offs in flight against a maxInFlight set after they were taken', async () => {
      const envId = await anEnvironmentId(store)
      const sub = await aSubscription(store, envId)
      const { handOff, handed } = aHandOff()
      await store.events.publish(anEvent(envId, handOff))
      expect(handed.flat()).toHaveLength(1)
      await store.subscriptions.update({
        ...sub,
        settings: { retryScheduleMs: null, timeoutMs: null, rateLimit: null, maxInFlight: 1 },
        updated: T0 + 1,
      })
      // Inserted due (declined), but the one handed off is in flight: the budget is spent.
      await store.events.publish(anEvent(envId, aHandOff(() => false).handOff))
      expect(await claimAll(store, T0 + 2)).toEqual([])
      await store.deliveries.complete([delivered(handed[0]![0]!)], T0 + 3, noDisable)
      expect(await claimAll(store, T0 + 4)).toHaveLength(1)
    })

    it("holds a paused subscription's expired hand-off and cancels a deleted one's hand-offs", async () => {
      const envId = await anEnvironmentId(store)
      const paused = await aSubscription(store, envId)
      const deleted = await aSubscription(store, envId)
      const { handOff, handed } = aHandOff()
      await store.events.publish(anEvent(envId, handOff))
      const byId = new Map(handed.flat().map((d) => [d.subscriptionId, d]))
      await store.subscriptions.update({ ...paused, paused: true, held: true, updated: T0 + leaseMs + 1 })
      expect(await store.subscriptions.delete(envId, deleted.id, T0 + leaseMs + 1)).toBe(true)
      expect(await claimAll(store, T0 + 10 * leaseMs)).toEqual([])
      expect(await store.deliveries.get(envId, byId.get(paused.id)!.id)).toMatchObject({
        status: 'pending',
        nextAttemptAt: null,
      })
      expect((await store.deliveries.get(envId, byId.get(deleted.id)!.id))?.status).toBe('cancelled')
      await store.subscriptions.update({ ...paused, paused: false, held: false, updated: T0 + leaseMs + 2 })
      expect((await claimAll(store, T0 + 10 * leaseMs)).map((d) => d.id)).toEqual([byId.get(paused.id)!.id])
    })
  })
}
