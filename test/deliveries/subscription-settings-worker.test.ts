// The worker honours a subscription's own settings (docs/subscription-settings.md): its retry
// schedule and attempt limit, its timeout (never past what the lease was sized for), its
// maxInFlight across two workers on one store, and its rate limit. Real HTTP on loopback.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeliveryWorker } from '../../src/deliveries/worker.ts'
import { eventTypes } from '../../src/events/event-types.ts'
import { HttpSender } from '../../src/outbound/http-sender.ts'
import { SigningKeyring } from '../../src/secrets/signing-keyring.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import type { SubscriptionIn } from '../../src/subscriptions/subscriptions.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const body = () => Buffer.from(JSON.stringify(eventTypes.find((t) => t.name === 'site.publish')!.example))

describe('delivery worker: per-subscription settings', () => {
  let h: WorkerHarness
  let rx: TestReceiver
  const extra: { stop(): Promise<void> }[] = []
  beforeEach(async () => {
    rx = await new TestReceiver().start()
  })
  afterEach(async () => {
    for (const e of extra.splice(0)) await e.stop()
    await h?.close()
    await rx.stop()
  })

  const subscribe = (settings: Partial<SubscriptionIn> = {}, path = '/hook') =>
    h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: rx.url + path,
      active: true,
      ...settings,
    })

  /** Another worker on the harness's store (stopped after the test), with this keyring. */
  const startWorker = (keyring: SigningKeyring) => {
    const sender = new HttpSender()
    const w = new DeliveryWorker({
      store: h.store,
      sender,
      keyring,
      policy: { scheduleMs: [50], jitter: 0.2, maxRetryAfterMs: 1000 },
      requestTimeoutMs: 2000,
      concurrency: 64,
      perSubscription: 8,
      userAgent: 'Hookpost/test',
      log: silentLogger,
      pollIntervalMs: 20,
    })
    w.start()
    extra.push({
      stop: async () => {
        await w.stop(1000)
        await sender.close()
      },
    })
  }

  const deliveriesOf = async (subscriptionId: string) =>
    (await h.hookpost.deliveries.list(h.envId, { subscriptionId })).deliveries

  it("retries on the subscription's own schedule and fails when it runs out; others keep the global one", async () => {
    h = await workerHarness({ scheduleMs: [3_600_000, 3_600_000], worker: { random: () => 0.5 } })
    rx.respond = () => ({ status: 500 })
    const own = await subscribe({ retrySchedule: ['30ms', '40ms', '50ms'] }, '/own')
    const plain = await subscribe({}, '/plain')
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => {
      const [d] = await deliveriesOf(own.id)
      expect(d).toMatchObject({ status: 'failed', attempts: 4, attemptLimit: 4 })
    })
    const [d] = await deliveriesOf(own.id)
    const attempts = (await h.hookpost.deliveries.get(h.envId, d!.id)).attempts
    // random 0.5: no jitter, so each gap is at least its delay.
    const gaps = attempts.slice(1).map((a, i) => a.started - attempts[i]!.started)
    expect(gaps[0]).toBeGreaterThanOrEqual(30)
    expect(gaps[1]).toBeGreaterThanOrEqual(40)
    expect(gaps[2]).toBeGreaterThanOrEqual(50)
    await eventually(async () => {
      const [p] = await deliveriesOf(plain.id)
      expect(p).toMatchObject({ status: 'pending', attempts: 1, attemptLimit: 3, leaseToken: null })
      const [a] = (await h.hookpost.deliveries.get(h.envId, p!.id)).attempts
      expect(p!.nextAttemptAt! - a!.started).toBeGreaterThanOrEqual(3_600_000)
    })
  })

  it('an updated schedule applies to a pending delivery from its next retry on; its attempt limit stays', async () => {
    h = await workerHarness({ worker: { random: () => 0.5 } })
    const sub = await subscribe({ retrySchedule: ['200ms', '200ms', '200ms'] })
    let updating: Promise<unknown> | undefined
    rx.respond = () => {
      // Changed while attempt 1 is in flight: attempt 1 was claimed under the old schedule
      // (its retry comes after 200 ms), attempt 2 is claimed under the new one.
      updating ??= h.hookpost.subscriptions.update(h.envId, sub.id, {
        event: sub.event,
        url: sub.url,
        active: true,
        retrySchedule: ['1h'],
      })
      return { status: 500, delayMs: 300 }
    }
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => {
      const [d] = await deliveriesOf(sub.id)
      expect(d).toMatchObject({ status: 'pending', attempts: 2, attemptLimit: 4, leaseToken: null })
    })
    await updating
    const [d] = await deliveriesOf(sub.id)
    const attempts = (await h.hookpost.deliveries.get(h.envId, d!.id)).attempts
    expect(attempts[1]!.started - attempts[0]!.started).toBeLessThan(3_600_000)
    // After attempt 2 the new schedule gives the delay (its one delay repeats for the two
    // attempts left); the limit fixed at publish (4) is unchanged.
    expect(d!.nextAttemptAt! - attempts[1]!.started).toBeGreaterThanOrEqual(3_600_000)
  })

  it("gives up an attempt at the subscription's timeout, and never waits past the one the lease was sized for", async () => {
    h = await workerHarness({ scheduleMs: [3_600_000], timeoutMs: 1500 })
    rx.respond = () => ({ status: 200, delayMs: 900 })
    const quick = await subscribe({ timeout: '200ms' }, '/quick')
    const plain = await subscribe({}, '/plain')
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => {
      const [q] = await deliveriesOf(quick.id)
      expect(q?.lastError).toBe('timeout')
      const [p] = await deliveriesOf(plain.id)
      expect(p?.status).toBe('delivered')
    })
    const [q] = await deliveriesOf(quick.id)
    const [a] = (await h.hookpost.deliveries.get(h.envId, q!.id)).attempts
    expect(a!.durationMs).toBeLessThan(900)
    // A stored timeout above the worker's maximum (lowered since) is cut to it.
    const long = await subscribe({ timeout: '4s' }, '/long')
    rx.respond = () => ({ status: 200, delayMs: 3000 })
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => expect((await deliveriesOf(long.id))[0]?.lastError).toBe('timeout'), 10_000)
  })

  it('sizes the lease for the longest per-subscription timeout', () => {
    const base = {
      store: {} as never,
      sender: {} as never,
      keyring: {} as never,
      policy: { scheduleMs: [1000], jitter: 0, maxRetryAfterMs: 0 },
      concurrency: 1,
      perSubscription: 1,
      userAgent: 'x',
      log: silentLogger,
    }
    expect(new DeliveryWorker({ ...base, requestTimeoutMs: 15_000 }).leaseMs).toBe(35_000)
    expect(new DeliveryWorker({ ...base, requestTimeoutMs: 15_000, maxTimeoutMs: 60_000 }).leaseMs).toBe(
      125_000,
    )
  })

  it('holds maxInFlight across two workers on one store', async () => {
    h = await workerHarness()
    let open = 0
    let most = 0
    rx.respond = () => {
      open++
      most = Math.max(most, open)
      setTimeout(() => open--, 150).unref()
      return { status: 200, delayMs: 150 }
    }
    startWorker(new SigningKeyring(h.store, h.box))
    const sub = await subscribe({ maxInFlight: 2 })
    for (let i = 0; i < 12; i++) await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => {
      const ds = await deliveriesOf(sub.id)
      expect(ds.filter((d) => d.status === 'delivered')).toHaveLength(12)
    }, 20_000)
    expect(most).toBe(2)
  })

  it('gives back a rate-limited delivery whose claim window ended before it could start', async () => {
    h = await workerHarness()
    // Only the worker below, whose first claim is slow to be accepted (a loaded machine).
    await h.worker.stop(1000)
    const sub = await subscribe({ rateLimit: '2/s' })
    for (let i = 0; i < 6; i++) await h.hookpost.publisher.publish(h.envId, body())
    const real = new SigningKeyring(h.store, h.box)
    let slow = true
    const keyring = {
      keysFor: async (...args: Parameters<SigningKeyring['keysFor']>) => {
        if (slow) {
          slow = false
          await new Promise((r) => setTimeout(r, 1100))
        }
        return real.keysFor(...args)
      },
    } as unknown as SigningKeyring
    startWorker(keyring)
    await eventually(async () => {
      const ds = await deliveriesOf(sub.id)
      expect(ds.filter((d) => d.status === 'delivered')).toHaveLength(6)
    }, 20_000)
    const perWindow = new Map<number, number>()
    for (const r of rx.received)
      perWindow.set(Math.floor(r.at / 1000), (perWindow.get(Math.floor(r.at / 1000)) ?? 0) + 1)
    // Sent late, the first claim's two would start beside the next window's own two.
    for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(3)
    // Given back, not attempted: one attempt each.
    for (const d of await deliveriesOf(sub.id)) expect(d.attempts).toBe(1)
  })

  it('starts at most rateLimit deliveries per window', async () => {
    h = await workerHarness()
    const sub = await subscribe({ rateLimit: '4/s' })
    for (let i = 0; i < 10; i++) await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => {
      const ds = await deliveriesOf(sub.id)
      expect(ds.filter((d) => d.status === 'delivered')).toHaveLength(10)
    }, 20_000)
    const perWindow = new Map<number, number>()
    for (const r of rx.received)
      perWindow.set(Math.floor(r.at / 1000), (perWindow.get(Math.floor(r.at / 1000)) ?? 0) + 1)
    // Claimed in one window, a request may reach the receiver a few ms into the next: one over.
    for (const n of perWindow.values()) expect(n).toBeLessThanOrEqual(5)
    // 10 at 4 per window cannot fit in fewer than three windows.
    expect(perWindow.size).toBeGreaterThanOrEqual(3)
    // Held back, never failed: one attempt each.
    for (const d of await deliveriesOf(sub.id)) expect(d.attempts).toBe(1)
  })
})
