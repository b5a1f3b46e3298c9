import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { basekitHeaderValid, standardHeadersValid } from '../support/independent-verify.ts'
import { TestReceiver } from '../support/receiver.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const body = (name = 'site.publish') =>
  Buffer.from(JSON.stringify(eventTypes.find((t) => t.name === name)!.example))

describe('delivery worker', () => {
  let h: WorkerHarness
  let rx: TestReceiver
  beforeEach(async () => {
    rx = await new TestReceiver().start()
  })
  afterEach(async () => {
    await h?.close()
    await rx.stop()
  })

  async function subscribe(path = '/hook', event = 'site.publish') {
    return h.hookpost.subscriptions.create(h.envId, { event, url: rx.url + path, active: true })
  }

  it('sends the exact bytes with every contract header, both signatures valid', async () => {
    h = await workerHarness()
    await subscribe()
    const raw = Buffer.from('{"eventName":"site.publish",  "site":{"ref":1.0,"x":"\\u00e9"}}')
    const r = await h.hookpost.publisher.publish(h.envId, raw)
    await eventually(() => expect(rx.received).toHaveLength(1))
    const got = rx.received[0]!
    expect(Buffer.compare(got.body, raw)).toBe(0)
    const hd = got.headers
    expect(hd['content-type']).toBe('application/json')
    expect(hd['user-agent']).toBe('Hookpost/test')
    expect(hd['x-delivery-event']).toBe('site.publish')
    expect(hd['x-delivery-attempt']).toBe('1')
    expect(hd['webhook-id']).toMatch(/^dlv_[0-9A-Za-z]+$/)
    expect(Math.abs(Number(hd['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5)
    expect(hd['x-delivery-hmac-sha256']).toMatch(/^[0-9a-f]{64}$/)
    expect(basekitHeaderValid(h.secret, got.body, hd['x-delivery-hmac-sha256'] as string)).toBe(true)
    // The environment's first secret, never shown to anyone, was replaced at once: one v1 entry.
    const sigs = String(hd['webhook-signature']).split(' ')
    expect(sigs).toHaveLength(1)
    expect(standardHeadersValid(h.secret, got.body, hd)).toBe(true)
    await eventually(async () => {
      const d = await h.hookpost.deliveries.get(h.envId, String(hd['webhook-id']))
      expect(d.delivery).toMatchObject({
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 200,
        eventId: r.eventId,
      })
      expect(d.attempts).toHaveLength(1)
      expect(d.attempts[0]).toMatchObject({ number: 1, statusCode: 200, error: null, responseBody: 'ok' })
      expect(d.attempts[0]!.requestHeaders['webhook-id']).toBe(hd['webhook-id'])
    })
  })

  it('retries failures on the schedule with the same webhook-id and a new timestamp per attempt, then fails', async () => {
    h = await workerHarness({ scheduleMs: [50, 50] })
    await subscribe()
    rx.respond = () => ({ status: 500, body: 'nope' })
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(() => expect(rx.received).toHaveLength(3))
    const ids = new Set(rx.received.map((r) => r.headers['webhook-id']))
    expect(ids.size).toBe(1)
    expect(rx.received.map((r) => r.headers['x-delivery-attempt'])).toEqual(['1', '2', '3'])
    const id = String(rx.received[0]!.headers['webhook-id'])
    await eventually(async () => {
      const d = await h.hookpost.deliveries.get(h.envId, id)
      expect(d.delivery).toMatchObject({
        status: 'failed',
        attempts: 3,
        lastStatusCode: 500,
        lastError: 'http_500',
      })
      expect(d.attempts.map((a) => a.number)).toEqual([1, 2, 3])
    })
    await new Promise((r) => setTimeout(r, 200))
    expect(rx.received).toHaveLength(3)
    // A manual retry is one more attempt under the same id.
    rx.respond = () => ({ status: 204 })
    await h.hookpost.deliveries.retry(h.envId, id)
    await eventually(() => expect(rx.received).toHaveLength(4))
    expect(rx.received[3]!.headers['webhook-id']).toBe(id)
    await eventually(async () =>
      expect((await h.hookpost.deliveries.get(h.envId, id)).delivery.status).toBe('delivered'),
    )
  })

  it('stores only the request headers that vary, and the attempt log shows every one as sent', async () => {
    h = await workerHarness({ scheduleMs: [50] })
    await subscribe()
    let n = 0
    rx.respond = () => (++n === 1 ? { status: 500, body: 'nope' } : { status: 200 })
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    await h.hookpost.publisher.publish(h.envId, body(), { traceparent })
    await eventually(() => expect(rx.received).toHaveLength(2))
    const id = String(rx.received[0]!.headers['webhook-id'])
    const d = await eventually(async () => {
      const d = await h.hookpost.deliveries.get(h.envId, id)
      expect(d.attempts).toHaveLength(2)
      return d
    })
    // What the receiver got, in order, but for what the HTTP client adds itself.
    const transport = new Set(['host', 'content-length', 'connection', 'keep-alive'])
    for (const [i, a] of d.attempts.entries()) {
      const sent = Object.entries(rx.received[i]!.headers).filter(([k]) => !transport.has(k))
      expect(Object.entries(a.requestHeaders)).toEqual(sent)
      expect(a.requestHeaders['traceparent']).toBe(traceparent)
    }
    const stored = await h.store.deliveries.attempts(id)
    expect(stored.map((a) => a.leanHeaders)).toEqual([true, true])
    expect(Object.keys(stored[0]!.requestHeaders).sort()).toEqual([
      'traceparent',
      'user-agent',
      'webhook-signature',
      'x-delivery-hmac-sha256',
    ])
  })

  it('a manual retry of a failing pending delivery is one extra attempt: the schedule goes on after it', async () => {
    h = await workerHarness({ scheduleMs: [60_000, 600_000], worker: { random: () => 0.5 } })
    await subscribe()
    rx.respond = () => ({ status: 500 })
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(() => expect(rx.received).toHaveLength(1))
    const id = String(rx.received[0]!.headers['webhook-id'])
    await eventually(async () =>
      expect((await h.hookpost.deliveries.get(h.envId, id)).delivery).toMatchObject({
        status: 'pending',
        attempts: 1,
        attemptLimit: 3,
        leaseToken: null,
      }),
    )
    await h.hookpost.deliveries.retry(h.envId, id)
    await eventually(() => expect(rx.received).toHaveLength(2))
    await eventually(async () => {
      const d = (await h.hookpost.deliveries.get(h.envId, id)).delivery
      expect(d).toMatchObject({ status: 'pending', attempts: 2, attemptLimit: 4, leaseToken: null })
      // The next automatic attempt comes after the schedule's first delay (not its second), as
      // it would have without the manual one.
      const lastAttempt = (await h.hookpost.deliveries.get(h.envId, id)).attempts[1]!
      expect(d.nextAttemptAt! - lastAttempt.started).toBeGreaterThanOrEqual(60_000)
      expect(d.nextAttemptAt! - lastAttempt.started).toBeLessThan(600_000)
    })
  })

  it('succeeds after a failure, keeping both attempts in the log', async () => {
    h = await workerHarness({ scheduleMs: [30] })
    await subscribe()
    let n = 0
    rx.respond = () => (++n === 1 ? { status: 503 } : { status: 200 })
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(() => expect(rx.received).toHaveLength(2))
    const id = String(rx.received[0]!.headers['webhook-id'])
    await eventually(async () => {
      const d = await h.hookpost.deliveries.get(h.envId, id)
      expect(d.delivery.status).toBe('delivered')
      expect(d.attempts.map((a) => a.statusCode)).toEqual([503, 200])
    })
  })

  it('treats a redirect as a failure, records Location, never follows it', async () => {
    h = await workerHarness({ scheduleMs: [10_000] })
    await subscribe()
    rx.respond = (r) =>
      r.path === '/hook' ? { status: 302, headers: { location: `${rx.url}/elsewhere` } } : { status: 200 }
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(() => expect(rx.received).toHaveLength(1))
    const id = String(rx.received[0]!.headers['webhook-id'])
    await eventually(async () => {
      const d = await h.hookpost.deliveries.get(h.envId, id)
      expect(d.delivery).toMatchObject({ status: 'pending', lastStatusCode: 302 })
      expect(d.delivery.lastError).toBe(`redirect_not_followed: ${rx.url}/elsewhere`)
    })
    await new Promise((r) => setTimeout(r, 100))
    expect(rx.received.map((r) => r.path)).toEqual(['/hook'])
  })

  it('deactivates the subscription on 410 and stops sending to it', async () => {
    h = await workerHarness()
    const s = await subscribe()
    rx.respond = () => ({ status: 410 })
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () =>
      expect((await h.hookpost.subscriptions.get(h.envId, s.id)).active).toBe(false),
    )
    const r = await h.hookpost.publisher.publish(h.envId, body())
    expect(r.deliveries).toBe(0)
    expect(rx.received).toHaveLength(1)
  })

  it('enforces one total deadline per attempt, even against a trickling body', async () => {
    h = await workerHarness({ scheduleMs: [60_000], timeoutMs: 300 })
    await subscribe()
    rx.respond = () => ({ status: 200, delayMs: 2000 })
    const started = Date.now()
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => {
      const [d] = (await h.hookpost.deliveries.list(h.envId, {})).deliveries
      expect(d?.lastError).toBe('timeout')
    })
    expect(Date.now() - started).toBeLessThan(1900)
  })

  it('records at most 64 KiB of the response body', async () => {
    h = await workerHarness()
    await subscribe()
    rx.respond = () => ({ status: 200, body: 'y'.repeat(200_000) })
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => {
      const [d] = (await h.hookpost.deliveries.list(h.envId, {})).deliveries
      expect(d?.status).toBe('delivered')
      const full = await h.hookpost.deliveries.get(h.envId, d!.id)
      expect(full.attempts[0]!.responseBody).toHaveLength(64 * 1024)
    })
  })

  it('honours Retry-After on 429 within the cap', async () => {
    h = await workerHarness({ scheduleMs: [10, 10] })
    await subscribe()
    let n = 0
    rx.respond = () => (++n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 })
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(() => expect(rx.received).toHaveLength(2), 5000)
    expect(rx.received[1]!.at - rx.received[0]!.at).toBeGreaterThanOrEqual(950)
  })

  it('signs with base64 when the environment chose it', async () => {
    h = await workerHarness()
    const env = await h.hookpost.environments.create({ name: 'b64', signatureEncoding: 'base64' })
    const { secret } = await h.hookpost.secrets.rotate(env.id)
    await h.hookpost.subscriptions.create(env.id, { event: 'site.publish', url: rx.url, active: true })
    await h.hookpost.publisher.publish(env.id, body())
    await eventually(() => expect(rx.received).toHaveLength(1))
    const got = rx.received[0]!
    expect(got.headers['x-delivery-hmac-sha256']).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    expect(
      basekitHeaderValid(secret, got.body, got.headers['x-delivery-hmac-sha256'] as string, 'base64'),
    ).toBe(true)
  })

  it('records a refused connection as a failed attempt, never a crash', async () => {
    h = await workerHarness({ scheduleMs: [60_000] })
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: 'http://127.0.0.1:1/x',
      active: true,
    })
    await h.hookpost.publisher.publish(h.envId, body())
    await eventually(async () => {
      const [d] = (await h.hookpost.deliveries.list(h.envId, {})).deliveries
      expect(d).toMatchObject({ status: 'pending', lastError: 'connection_refused', attempts: 1 })
    })
  })
})
