// The hand-off at commit (role all): which new deliveries skip the claim (the rule), how
// concurrent publishes share the worker's room (the desk), and a worker with the core on one
// store delivering handed-off deliveries with no claim while the others are claimed as before.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { HandOffDesk, type HandOffTarget, handOffEligible } from '../../src/deliveries/hand-off.ts'
import { eventTypes } from '../../src/events/event-types.ts'
import type { ClaimedDelivery } from '../../src/store/store.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const plain = { subscriptionId: 'sub_a', held: false, orderingKey: null, limited: false }

describe('hand-off rule', () => {
  it('takes only what a claim would hand out at once, unbudgeted', () => {
    expect(handOffEligible(plain)).toBe(true)
    expect(handOffEligible({ ...plain, held: true })).toBe(false)
    expect(handOffEligible({ ...plain, orderingKey: 'k' })).toBe(false)
    expect(handOffEligible({ ...plain, limited: true })).toBe(false)
  })
})

describe('hand-off desk', () => {
  /** A worker with `free` slots and `room` per subscription; accept resolves when told. */
  function target(free: number, room: number) {
    const accepts: { rows: ClaimedDelivery[]; done: () => void }[] = []
    const t: HandOffTarget = {
      leaseMs: 1000,
      free: () => free,
      roomFor: () => room,
      accept: (rows) => new Promise<void>((done) => accepts.push({ rows, done })),
    }
    return { t, accepts }
  }

  it('keeps concurrent publishes within the room until the worker has what they handed', async () => {
    const { t, accepts } = target(3, 2)
    const desk = new HandOffDesk(t)
    const a = desk.open()
    const b = desk.open()
    expect([a.take(plain), a.take(plain)]).toEqual([true, true])
    // The subscription's room is reserved by a; another one's fits the worker's last slot.
    expect(b.take(plain)).toBe(false)
    expect(b.take({ ...plain, subscriptionId: 'sub_b' })).toBe(true)
    expect(b.take({ ...plain, subscriptionId: 'sub_c' })).toBe(false)
    a.handed([])
    a.close()
    expect(desk.open().take(plain)).toBe(false)
    accepts[0]!.done()
    await new Promise((r) => setImmediate(r))
    // a's reservations are gone (the fake worker still reports the same room).
    expect(desk.open().take(plain)).toBe(true)
  })

  it('frees the reservations of a publish that failed, and takes nothing after close', async () => {
    const desk = new HandOffDesk(target(1, 1).t)
    const a = desk.open()
    expect(a.take(plain)).toBe(true)
    a.close()
    await new Promise((r) => setImmediate(r))
    expect(a.take(plain)).toBe(false)
    expect(a.handedCount).toBe(0)
    expect(desk.open().take(plain)).toBe(true)
  })

  it('refuses ineligible deliveries whatever the room', () => {
    const desk = new HandOffDesk(target(100, 100).t)
    expect(desk.open().take({ ...plain, orderingKey: 'k' })).toBe(false)
  })

  it('tells the worker which subscription an eligible delivery found no room in (left due for a claim)', () => {
    const refused: string[] = []
    const desk = new HandOffDesk({ ...target(5, 1).t, refused: (sub) => refused.push(sub) })
    const t = desk.open()
    expect(t.take(plain)).toBe(true)
    expect(t.take(plain)).toBe(false)
    // Not for one the rule leaves to the claim anyway.
    expect(t.take({ ...plain, held: true })).toBe(false)
    expect(refused).toEqual(['sub_a'])
  })
})

const example = eventTypes.find((t) => t.name === 'site.publish')!.example
const body = (n: number) => Buffer.from(JSON.stringify({ ...example, n }))

describe('delivery worker with hand-off at commit', () => {
  let h: WorkerHarness
  let rx: TestReceiver
  /** Ids of every delivery a claim handed out. */
  let claimed: Set<string>
  beforeEach(async () => {
    rx = await new TestReceiver().start()
  })
  afterEach(async () => {
    await h?.close()
    await rx.stop()
  })

  async function harness(worker: Parameters<typeof workerHarness>[0] = {}) {
    // Polls rarely: what is claimed here was announced by a publish or a resume.
    h = await workerHarness({
      handOff: true,
      ...worker,
      worker: { pollIntervalMs: 60_000, ...worker.worker },
    })
    claimed = new Set()
    const claimDue = h.store.deliveries.claimDue
    h.store.deliveries.claimDue = async (input) => {
      const r = await claimDue(input)
      for (const d of r.deliveries) claimed.add(d.id)
      return r
    }
  }

  const subscribe = (path: string, more: Record<string, unknown> = {}) =>
    h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${rx.url}/${path}`,
      active: true,
      ...more,
    })

  const ids = (path: string) =>
    rx.received.filter((r) => r.path === `/${path}`).map((r) => String(r.headers['webhook-id']))

  it('delivers what a publish commits with no claim, on its first attempt', async () => {
    await harness()
    await subscribe('a')
    await subscribe('b')
    await h.hookpost.publisher.publish(h.envId, body(1))
    await h.hookpost.publisher.publishBatch(
      h.envId,
      Buffer.from(
        JSON.stringify({ events: [{ payload: { ...example, n: 2 } }, { payload: { ...example, n: 3 } }] }),
      ),
    )
    await eventually(() => expect(rx.received).toHaveLength(6))
    const sent = [...ids('a'), ...ids('b')]
    expect(new Set(sent).size).toBe(6)
    expect(sent.filter((id) => claimed.has(id))).toEqual([])
    expect(rx.received.map((r) => r.headers['x-delivery-attempt'])).toEqual(Array(6).fill('1'))
    await eventually(async () => {
      for (const id of sent) {
        expect((await h.hookpost.deliveries.get(h.envId, id)).delivery).toMatchObject({
          status: 'delivered',
          attempts: 1,
          leaseToken: null,
        })
      }
    })
  })

  it('leaves ordered, paused and budgeted subscriptions to the claim', async () => {
    await harness()
    await subscribe('plain')
    await subscribe('ordered', { ordered: true })
    const paused = await subscribe('paused', { paused: true })
    await subscribe('budget', { maxInFlight: 2 })
    await h.hookpost.publisher.publish(h.envId, body(1), { orderingKey: 'k' })
    await eventually(() => expect(rx.received).toHaveLength(3))
    await h.hookpost.subscriptions.setPaused(h.envId, paused.id, false)
    // A resume is found by the worker's poll (rare here): look now.
    h.worker.wake()
    await eventually(() => expect(rx.received).toHaveLength(4))
    expect(ids('plain').filter((id) => claimed.has(id))).toEqual([])
    for (const path of ['ordered', 'paused', 'budget']) {
      expect(ids(path)).toHaveLength(1)
      expect(claimed.has(ids(path)[0]!)).toBe(true)
    }
  })

  it('hands off only as much as the subscription has room for; the rest is claimed', async () => {
    // One attempt at a time per subscription, one more waiting: room for 2.
    await harness({ worker: { perSubscription: 1 } })
    await subscribe('slow')
    rx.respond = () => ({ status: 200, delayMs: 100 })
    const events = Array.from({ length: 6 }, (_, n) => ({ payload: { ...example, n } }))
    await h.hookpost.publisher.publishBatch(h.envId, Buffer.from(JSON.stringify({ events })))
    await eventually(() => expect(rx.received).toHaveLength(6), 10_000)
    const sent = ids('slow')
    expect(new Set(sent).size).toBe(6)
    expect(sent.filter((id) => !claimed.has(id))).toHaveLength(2)
  })

  /** Events published in one batch request. */
  const burst = (n: number, from = 0) =>
    h.hookpost.publisher.publishBatch(
      h.envId,
      Buffer.from(
        JSON.stringify({
          events: Array.from({ length: n }, (_, k) => ({ payload: { ...example, n: from + k } })),
        }),
      ),
    )

  /** Publishes one event and waits for its attempt to be over: the subscription's pace is known. */
  const timed = async (payload: Buffer) => {
    await h.hookpost.publisher.publish(h.envId, payload)
    await eventually(() => expect(rx.received).toHaveLength(1))
    await eventually(() => expect(h.worker.stats).toEqual({ inFlight: 0, queued: 0 }))
  }

  it('once its attempts are timed, hands a burst beyond the room to the overflow: no claim', async () => {
    await harness({ worker: { perSubscription: 1 } })
    await subscribe('paced')
    rx.respond = () => ({ status: 200, delayMs: 20 })
    await timed(body(0))
    await burst(8, 1)
    await eventually(() => expect(rx.received).toHaveLength(9), 10_000)
    const sent = ids('paced')
    expect(new Set(sent).size).toBe(9)
    expect(sent.filter((id) => claimed.has(id))).toEqual([])
    // One in flight at a time, publish order.
    expect(rx.received.map((r) => JSON.parse(r.body.toString()).n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
  })

  it('goes on taking hand-offs for a subscription that is only full, not known to have due work', async () => {
    // Polls often: claims run while the subscription is full of hand-offs and find nothing else.
    await harness({ worker: { perSubscription: 1, pollIntervalMs: 10 } })
    await subscribe('busy')
    rx.respond = () => ({ status: 200, delayMs: 200 })
    await timed(body(0))
    await burst(8, 1)
    // Full for 1.6 s: claims in the meantime find nothing else due (a full scan runs every second).
    await new Promise((r) => setTimeout(r, 1300))
    await burst(4, 9)
    await eventually(() => expect(rx.received).toHaveLength(13), 10_000)
    expect(ids('busy').filter((id) => claimed.has(id))).toEqual([])
  })

  it('gives back, for a claim, what waited in the overflow until its lease no longer covers an attempt', async () => {
    let skew = 0
    // Lease 2 × 2 s + 5 s = 9 s; an attempt must start with 2 s + 2 s of it left.
    await harness({ worker: { perSubscription: 1, now: () => Date.now() + skew } })
    await subscribe('late')
    rx.respond = () => ({ status: 200, delayMs: 300 })
    await timed(body(0))
    await burst(4, 1)
    // One in flight, one queued, two in the overflow; then 6 s pass for the worker.
    await eventually(() => expect(rx.received).toHaveLength(2))
    skew = 6000
    await eventually(() => expect(rx.received).toHaveLength(5), 10_000)
    const sent = ids('late')
    expect(new Set(sent).size).toBe(5)
    // Those that waited past their lease's margin were given back and claimed again: each sent once.
    expect(sent.filter((id) => claimed.has(id)).length).toBeGreaterThanOrEqual(2)
    await eventually(async () => {
      for (const id of sent)
        expect((await h.hookpost.deliveries.get(h.envId, id)).delivery).toMatchObject({ status: 'delivered' })
    })
  })

  /** A subscription sending one at a time, `delayMs` an attempt, timed, then 10 events for it: most overflow. */
  async function overflowing(path: string, delayMs: number) {
    await harness({ worker: { perSubscription: 1 } })
    const sub = await subscribe(path)
    rx.respond = () => ({ status: 200, delayMs })
    await timed(body(0))
    await burst(10, 1)
    return sub
  }

  it('gives back the overflow of a subscription paused meanwhile: none of it is sent until resumed', async () => {
    const sub = await overflowing('paused-later', 150)
    await h.hookpost.subscriptions.setPaused(h.envId, sub.id, true)
    // The one in flight and the one queued may go; the overflow is given back at once.
    await new Promise((r) => setTimeout(r, 1500))
    expect(rx.received.length).toBeLessThanOrEqual(3)
    const before = rx.received.length
    await h.hookpost.subscriptions.setPaused(h.envId, sub.id, false)
    h.worker.wake()
    await eventually(() => expect(rx.received).toHaveLength(11), 10_000)
    expect(new Set(ids('paused-later')).size).toBe(11)
    expect(before).toBeGreaterThanOrEqual(2)
  })

  it('gives back within a second the overflow of a subscription paused by another process', async () => {
    const sub = await overflowing('paused-elsewhere', 300)
    // Straight in the store, as another node's API would: this worker is not told.
    const row = (await h.store.subscriptions.getMany([sub.id]))[0]!
    await h.store.subscriptions.update({ ...row, paused: true, held: true, updated: row.updated + 1 })
    await new Promise((r) => setTimeout(r, 2000))
    const sentWhilePaused = rx.received.length
    await new Promise((r) => setTimeout(r, 1500))
    expect(rx.received).toHaveLength(sentWhilePaused)
    expect(sentWhilePaused).toBeLessThan(11)
    await h.hookpost.subscriptions.setPaused(h.envId, sub.id, false)
    h.worker.wake()
    await eventually(() => expect(rx.received).toHaveLength(11), 10_000)
    expect(new Set(ids('paused-elsewhere')).size).toBe(11)
  })

  it('hands nothing to a stopped worker', async () => {
    await harness()
    await h.worker.stop(0)
    expect(h.worker.handOff()).toBeUndefined()
  })
})
