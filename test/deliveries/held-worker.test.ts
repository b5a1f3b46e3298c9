// A worker never sends for a held subscription, even a delivery that became due behind the
// hold's back: the lease of an attempt in flight when the subscription was paused expired (its
// worker died). The worker gives it back, held; resumed, it goes out.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

describe('worker and held subscriptions', () => {
  let h: WorkerHarness
  let rx: TestReceiver
  beforeEach(async () => {
    rx = await new TestReceiver().start()
    h = await workerHarness()
  })
  afterEach(async () => {
    await h.close()
    await rx.stop()
  })

  it('gives back, held, a delivery whose expired lease made it due while paused', async () => {
    await h.worker.stop()
    const sub = await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: rx.url,
      active: true,
    })
    const body = Buffer.from(JSON.stringify(eventTypes.find((t) => t.name === 'site.publish')!.example))
    await h.hookpost.publisher.publish(h.envId, body)
    // Another worker claims it for 300 ms and dies; the subscription is paused meanwhile.
    const now = Date.now()
    const [dead] = (
      await h.store.deliveries.claimDue({ now, limit: 10, leaseMs: 300, scan: { exclude: [] } })
    ).deliveries
    await h.hookpost.subscriptions.setPaused(h.envId, sub.id, true)
    expect((await h.store.deliveries.get(h.envId, dead!.id))?.leaseToken).toBe(dead!.leaseToken)
    h.worker.start()
    // Due again once the lease ends: claimed, not sent, held.
    await eventually(async () => {
      const d = await h.store.deliveries.get(h.envId, dead!.id)
      expect(d).toMatchObject({ status: 'pending', nextAttemptAt: null, leaseToken: null, attempts: 1 })
    })
    expect(rx.received).toEqual([])
    await h.hookpost.subscriptions.setPaused(h.envId, sub.id, false)
    await eventually(() => expect(rx.received).toHaveLength(1))
    await eventually(async () =>
      expect(await h.store.deliveries.get(h.envId, dead!.id)).toMatchObject({
        status: 'delivered',
        attempts: 2,
      }),
    )
  })
})
