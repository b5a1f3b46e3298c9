// The Store contract for the event feed and traceparents, run on every adapter beside the main
// suite (store.contract.ts).
import { describe, expect, it } from 'vitest'
import { newId } from '../../src/shared/ids.ts'
import { type FeedQuery, freshHealth, type PublishInput, type Store } from '../../src/store/store.ts'
import { eventually } from '../support/eventually.ts'
import { anEnvironmentId, T0 } from './fixtures.ts'
import { freshStoreEachTest, type StoreHarness } from './store-harness.ts'

function input(envId: string, n: number, over: Partial<PublishInput['event']> = {}): PublishInput {
  return {
    event: {
      id: newId('evt', T0 + n),
      envId,
      eventName: 'site.publish',
      body: Buffer.from(`{"eventName":"site.publish", "n": ${n}}`),
      orderingKey: null,
      created: T0 + n,
      ...over,
    },
    idempotencyKey: null,
    idempotencySince: T0 - 86_400_000,
    attemptLimit: 3,
    newDeliveryId: () => newId('dlv', T0 + n),
  }
}

/**
 * The feed once `n` events show. PostgreSQL holds back events while any older transaction of the
 * cluster still runs (other tests' too), so a read right after a commit may show fewer for a moment.
 */
const shown = (store: Store, envId: string, q: FeedQuery, n: number) =>
  eventually(async () => {
    const rows = await store.feed.read(envId, q)
    expect(rows).toHaveLength(n)
    return rows
  })

/** Only PostgreSQL announces commits to other processes. */
const h0announces = (name: string) => name === 'postgres'

export function feedContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`${name}: Store contract, feed and traceparent`, () => {
    let h: StoreHarness
    let store: Store
    freshStoreEachTest(makeHarness, (fresh) => {
      h = fresh
      store = fresh.store
    })

    it('reads the events of one environment in commit order, from a position on, byte for byte', async () => {
      const env = await anEnvironmentId(store)
      const other = await anEnvironmentId(store)
      // Ids (and times) sort against the commit order here: the feed must follow the commits.
      const late = input(env, 9, { id: newId('evt', T0 + 9) })
      const early = input(env, 1, { id: newId('evt', T0 + 1) })
      await store.events.publish(late)
      await store.events.publishBatch([early, input(env, 2, { eventName: 'booking.updated' })])
      await store.events.publish(input(other, 3))
      const all = await shown(store, env, { after: null, limit: 10 }, 3)
      expect(all.map((r) => r.id)).toEqual([late.event.id, early.event.id, expect.any(String)])
      expect(all.map((r) => r.eventName)).toEqual(['site.publish', 'site.publish', 'booking.updated'])
      expect(all[0]!.created).toBe(T0 + 9)
      expect(Buffer.compare(all[0]!.body, late.event.body)).toBe(0)
      const page = await store.feed.read(env, { after: null, limit: 1 })
      expect(page.map((r) => r.id)).toEqual([late.event.id])
      const rest = await store.feed.read(env, { after: page[0]!.position, limit: 10 })
      expect(rest.map((r) => r.id)).toEqual(all.slice(1).map((r) => r.id))
      expect(await store.feed.read(env, { after: all[2]!.position, limit: 10 })).toEqual([])
      const filtered = await store.feed.read(env, { after: null, eventName: 'booking.updated', limit: 10 })
      expect(filtered.map((r) => r.eventName)).toEqual(['booking.updated'])
      expect((await shown(store, other, { after: null, limit: 10 }, 1)).map((r) => r.eventName)).toEqual([
        'site.publish',
      ])
    })

    it('leaves idempotent repeats and events sent to one subscription out of the feed', async () => {
      const env = await anEnvironmentId(store)
      const sub = newId('sub')
      await store.subscriptions.create({
        id: sub,
        envId: env,
        event: 'site.publish',
        url: 'https://example.com/hook',
        active: true,
        ordered: false,
        created: T0,
        updated: T0,
        health: freshHealth,
        deactivatedReason: null,
      })
      await store.events.publish({ ...input(env, 1), idempotencyKey: 'k' })
      await store.events.publish({
        ...input(env, 2, { body: input(env, 1).event.body }),
        idempotencyKey: 'k',
      })
      const test = input(env, 3).event
      expect(
        await store.events.publishToSubscription({
          event: test,
          subscriptionId: sub,
          deliveryId: newId('dlv'),
          attemptLimit: 1,
        }),
      ).toBe(true)
      expect((await shown(store, env, { after: null, limit: 10 }, 1)).map((r) => r.created)).toEqual([T0 + 1])
    })

    it.runIf(h0announces(name))(
      'tells a listener on another connection which environment got events',
      async () => {
        const env = await anEnvironmentId(store)
        const second = await h.second!()
        const heard: string[] = []
        const stop = await second.feed.listen((envId) => heard.push(envId))
        try {
          await store.events.publish(input(env, 1))
          await eventually(() => expect(heard).toContain(env))
        } finally {
          await stop()
          await second.close()
        }
      },
    )

    it('keeps the traceparent given at publish and hands it to every claim of its deliveries', async () => {
      const env = await anEnvironmentId(store)
      await store.subscriptions.create({
        id: newId('sub'),
        envId: env,
        event: 'site.publish',
        url: 'https://example.com/hook',
        active: true,
        ordered: false,
        created: T0,
        updated: T0,
        health: freshHealth,
        deactivatedReason: null,
      })
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
      const traced = input(env, 1, { traceparent })
      await store.events.publishBatch([traced, input(env, 2)])
      expect((await store.events.get(env, traced.event.id))?.traceparent).toBe(traceparent)
      const { deliveries } = await store.deliveries.claimDue({
        now: T0 + 10,
        limit: 10,
        leaseMs: 1000,
        scan: { exclude: [] },
      })
      expect(
        deliveries
          .map((d) => [d.eventId, d.traceparent])
          .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      ).toEqual([
        [traced.event.id, traceparent],
        [expect.any(String), null],
      ])
    })
  })
}
