// A hanging endpoint must not hold back healthy ones. The assertions are causal, not timings:
// the healthy endpoint gets everything while the hanging one's first attempts are still open.
import { afterEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const body = Buffer.from(JSON.stringify(eventTypes.find((t) => t.name === 'site.publish')!.example))

describe('isolation between endpoints', () => {
  let h: WorkerHarness | undefined
  const receivers: TestReceiver[] = []
  afterEach(async () => {
    await h?.close()
    for (const r of receivers.splice(0)) await r.stop()
  })

  async function receiver(respond?: TestReceiver['respond']) {
    const r = await new TestReceiver().start()
    if (respond) r.respond = respond
    receivers.push(r)
    return r
  }

  it('keeps delivering to a healthy endpoint while another hangs', async () => {
    h = await workerHarness({
      timeoutMs: 8000,
      scheduleMs: [60_000],
      worker: { concurrency: 64, perSubscription: 8 },
    })
    const hanging = await receiver(() => ({ status: 200, delayMs: 20_000 }))
    const healthy = await receiver()
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${hanging.url}/slow`,
      active: true,
    })
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${healthy.url}/fast`,
      active: true,
    })
    for (let i = 0; i < 60; i++) await h.hookpost.publisher.publish(h.envId, body)
    await eventually(() => expect(healthy.received).toHaveLength(60), 7000)
    // The hanging endpoint holds at most its own slots, and none of its attempts has ended yet.
    expect(hanging.received.length).toBeLessThanOrEqual(8)
    const slowDone = (await h.hookpost.deliveries.list(h.envId, { status: 'pending' })).deliveries.filter(
      (d) => d.lastError !== null,
    )
    expect(slowDone).toHaveLength(0)
  })

  it('gives a starved subscription its share while the worker is saturated by others', async () => {
    h = await workerHarness({
      timeoutMs: 9000,
      scheduleMs: [60_000],
      worker: { concurrency: 16, perSubscription: 8 },
    })
    const hanging = await receiver(() => ({ status: 200, delayMs: 20_000 }))
    const late = await receiver()
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${hanging.url}/a`,
      active: true,
    })
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${hanging.url}/b`,
      active: true,
    })
    for (let i = 0; i < 40; i++) await h.hookpost.publisher.publish(h.envId, body)
    await eventually(() => expect(hanging.received).toHaveLength(16))
    // A newcomer behind a backlog of 64 older due deliveries, with every slot taken.
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'booking.updated',
      url: `${late.url}/c`,
      active: true,
    })
    await h.hookpost.publisher.publish(
      h.envId,
      Buffer.from(JSON.stringify(eventTypes.find((t) => t.name === 'booking.updated')!.example)),
    )
    await eventually(() => expect(late.received).toHaveLength(1), 8000)
    expect(hanging.received).toHaveLength(16)
  })

  it('keeps an ordered chain moving while the worker only scans what fell due lately', async () => {
    // The worker's clock runs 10 s ahead: every row published here is older than what a scan
    // after a dry one looks at, so the chain moves only if the worker feeds it from its own
    // range after each recorded outcome (one delivery per full scan otherwise: ≥ 1 s each).
    h = await workerHarness({
      timeoutMs: 9000,
      scheduleMs: [60_000],
      worker: { concurrency: 16, perSubscription: 4, now: () => Date.now() + 10_000 },
    })
    const slow = await receiver(() => ({ status: 200, delayMs: 1500 }))
    const chain = await receiver()
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${slow.url}/backlog`,
      active: true,
    })
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'booking.updated',
      url: `${chain.url}/chain`,
      active: true,
      ordered: true,
    })
    for (let i = 0; i < 40; i++) await h.hookpost.publisher.publish(h.envId, body)
    const booking = eventTypes.find((t) => t.name === 'booking.updated')!.example as Record<string, unknown>
    for (let i = 0; i < 12; i++) {
      await h.hookpost.publisher.publish(h.envId, Buffer.from(JSON.stringify({ ...booking, seq: i })), {
        orderingKey: 'one-booking',
      })
    }
    await eventually(() => expect(chain.received).toHaveLength(12), 6000)
    expect(chain.received.map((r) => JSON.parse(r.body.toString()).seq)).toEqual([...Array(12).keys()])
  })
})
