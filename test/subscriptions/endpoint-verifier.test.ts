// Endpoint ownership verification against a real loopback receiver: the challenge request
// (signed like a delivery), what verifies (the bare challenge, or it as JSON), what does not
// (a wrong echo, a non-2xx), the schedule running out, verifying again, and the deliveries kept
// while pending going out once verified, oldest first.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { HttpSender } from '../../src/outbound/http-sender.ts'
import { SigningKeyring } from '../../src/secrets/signing-keyring.ts'
import { AppError } from '../../src/shared/errors.ts'
import { silentLogger } from '../../src/shared/logger.ts'
import { EndpointVerifier } from '../../src/subscriptions/endpoint-verifier.ts'
import { eventually } from '../support/eventually.ts'
import { standardHeadersValid } from '../support/independent-verify.ts'
import { type Received, TestReceiver } from '../support/receiver.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const example = (n: number) => {
  const e = structuredClone(eventTypes.find((t) => t.name === 'site.publish')!.example) as {
    site: { ref: number }
  }
  e.site.ref = n
  return Buffer.from(JSON.stringify(e))
}

const isChallenge = (r: Received) => r.headers['x-delivery-event'] === 'webhook.verification'
const challengeOf = (r: Received) => (JSON.parse(r.body.toString()) as { challenge: string }).challenge

describe('endpoint verification (HOOKPOST_VERIFY_ENDPOINTS=true)', () => {
  let h: WorkerHarness
  let rx: TestReceiver
  let verifier: EndpointVerifier
  let sender: HttpSender

  beforeEach(async () => {
    rx = await new TestReceiver().start()
    h = await workerHarness({ verifyEndpoints: true })
    sender = new HttpSender()
    verifier = new EndpointVerifier({
      store: h.store,
      sender,
      keyring: new SigningKeyring(h.store, h.box),
      userAgent: 'Hookpost/test',
      timeoutMs: 2000,
      log: silentLogger,
      scheduleMs: [1, 1],
    })
  })
  afterEach(async () => {
    await h.close()
    await sender.close()
    await rx.stop()
  })

  /** Runs the verifier until the subscription leaves `pending` or n challenges were sent. */
  async function challenge(subId: string, n = 1) {
    for (let sent = 0; sent < n; ) {
      sent += await verifier.tick()
      await new Promise((r) => setTimeout(r, 5))
    }
    return h.hookpost.subscriptions.get(h.envId, subId)
  }

  const subscribe = () =>
    h.hookpost.subscriptions.create(h.envId, { event: 'site.publish', url: `${rx.url}/hook`, active: true })

  it('echoing the challenge as the body verifies; deliveries kept meanwhile go out oldest first', async () => {
    rx.respond = (r) => (isChallenge(r) ? { status: 200, body: challengeOf(r) } : { status: 200, body: 'ok' })
    // Ordered, with one key: "oldest first" is then the order they arrive in, not a race.
    const sub = await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${rx.url}/hook`,
      active: true,
      ordered: true,
    })
    expect(sub.verification).toMatchObject({ state: 'pending', attempts: 0 })
    expect(sub.held).toBe(true)
    for (let i = 1; i <= 3; i++) await h.hookpost.publisher.publish(h.envId, example(i), { orderingKey: 'k' })
    // The worker runs: nothing is sent while pending.
    await new Promise((r) => setTimeout(r, 100))
    expect(rx.received).toEqual([])
    await expect(
      h.hookpost.deliveries.retry(h.envId, (await h.hookpost.deliveries.list(h.envId, {})).deliveries[0]!.id),
    ).rejects.toMatchObject({ code: 'delivery_held' })

    const after = await challenge(sub.id)
    expect(after.verification).toMatchObject({ state: 'verified', attempts: 1, lastError: null })
    expect(after.held).toBe(false)
    const [c] = rx.received
    expect(c!.path).toBe('/hook')
    expect(JSON.parse(c!.body.toString())).toEqual({
      type: 'webhook.verification',
      challenge: sub.verification!.challenge,
    })
    expect(c!.headers['content-type']).toBe('application/json')
    expect(c!.headers['user-agent']).toBe('Hookpost/test')
    expect(c!.headers['webhook-id']).toMatch(/^vrf_/)
    expect(c!.headers['x-delivery-hmac-sha256']).toMatch(/^[0-9a-f]{64}$/)
    expect(standardHeadersValid(h.secret, c!.body, c!.headers)).toBe(true)

    await eventually(() => expect(rx.received.filter((r) => !isChallenge(r))).toHaveLength(3))
    const refs = rx.received.filter((r) => !isChallenge(r)).map((r) => JSON.parse(r.body.toString()).site.ref)
    expect(refs).toEqual([1, 2, 3])
  })

  it('echoing {"challenge": "<same>"} verifies', async () => {
    rx.respond = (r) => ({
      status: 202,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ challenge: challengeOf(r) }),
    })
    const sub = await subscribe()
    expect((await challenge(sub.id)).verification?.state).toBe('verified')
  })

  it('a wrong echo is retried on the schedule, then fails with its error; nothing is delivered', async () => {
    rx.respond = (r) => (isChallenge(r) ? { status: 200, body: 'nope' } : { status: 200, body: 'ok' })
    const sub = await subscribe()
    await h.hookpost.publisher.publish(h.envId, example(1))
    const once = await challenge(sub.id)
    expect(once.verification).toMatchObject({ state: 'pending', attempts: 1 })
    expect(once.verification?.lastError).toMatch(/^challenge_mismatch/)
    // Every attempt carries the same challenge; after the schedule (two more): failed.
    const failed = await challenge(sub.id, 2)
    expect(failed.verification).toMatchObject({ state: 'failed', attempts: 3, nextAt: null })
    expect(failed.held).toBe(true)
    expect(new Set(rx.received.map(challengeOf)).size).toBe(1)
    expect(await verifier.tick()).toBe(0)
    expect(rx.received.filter((r) => !isChallenge(r))).toEqual([])
    const [d] = (await h.hookpost.deliveries.list(h.envId, {})).deliveries
    expect(d).toMatchObject({ status: 'pending', nextAttemptAt: null })
  })

  it('a non-2xx answer does not verify, even with the challenge as its body', async () => {
    rx.respond = (r) => ({ status: 500, body: challengeOf(r) })
    const sub = await subscribe()
    expect((await challenge(sub.id)).verification).toMatchObject({ state: 'pending', lastError: 'http_500' })
  })

  it('verify sends a new challenge: a failed subscription verified again gets its kept deliveries', async () => {
    let echo = false
    rx.respond = (r) =>
      isChallenge(r)
        ? { status: echo ? 200 : 404, body: echo ? challengeOf(r) : '' }
        : { status: 200, body: 'ok' }
    const sub = await subscribe()
    await h.hookpost.publisher.publish(h.envId, example(7))
    expect((await challenge(sub.id, 3)).verification?.state).toBe('failed')
    echo = true
    const again = await h.hookpost.subscriptions.verify(h.envId, sub.id)
    expect(again.verification).toMatchObject({ state: 'pending', attempts: 0, lastError: null })
    expect(again.verification?.challenge).not.toBe(sub.verification?.challenge)
    expect((await challenge(sub.id)).verification?.state).toBe('verified')
    await eventually(() => expect(rx.received.filter((r) => !isChallenge(r))).toHaveLength(1))
    // The last challenge sent was the new one.
    expect(challengeOf(rx.received.filter(isChallenge).at(-1)!)).toBe(again.verification?.challenge)
  })

  it('a new URL must be verified again; other changes keep the verification', async () => {
    rx.respond = (r) => (isChallenge(r) ? { status: 200, body: challengeOf(r) } : { status: 200, body: 'ok' })
    const sub = await subscribe()
    await challenge(sub.id)
    const same = await h.hookpost.subscriptions.update(h.envId, sub.id, {
      event: 'site.publish',
      url: `${rx.url}/hook`,
      active: true,
      filter: { 'site.ref': 1 },
    })
    expect(same.verification?.state).toBe('verified')
    const moved = await h.hookpost.subscriptions.update(h.envId, sub.id, {
      event: 'site.publish',
      url: `${rx.url}/elsewhere`,
      active: true,
    })
    expect(moved.verification).toMatchObject({ state: 'pending', attempts: 0 })
    expect(moved.held).toBe(true)
    expect((await challenge(sub.id)).verification?.state).toBe('verified')
    expect(rx.received.filter(isChallenge).at(-1)!.path).toBe('/elsewhere')
  })
})

describe('endpoint verification off (the default)', () => {
  it('a new subscription is not asked, yet verify can still be asked for', async () => {
    const h = await workerHarness()
    try {
      const sub = await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'http://127.0.0.1:9/hook',
        active: true,
      })
      expect(sub.verification).toBeNull()
      expect(sub.held).toBe(false)
      const asked = await h.hookpost.subscriptions.verify(h.envId, sub.id)
      expect(asked.verification?.state).toBe('pending')
      expect(asked.held).toBe(true)
      await expect(h.hookpost.subscriptions.verify(h.envId, 'sub_missing')).rejects.toBeInstanceOf(AppError)
    } finally {
      await h.close()
    }
  })
})

describe('endpoint verification of a destination that is not HTTP', () => {
  it('is not asked for, and cannot be', async () => {
    const h = await workerHarness({ verifyEndpoints: true })
    try {
      // The harness's URL check accepts anything: a broker URL stands for a destination.
      const sub = await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'amqp://broker.example/vhost',
        active: true,
      })
      expect(sub.verification).toBeNull()
      expect(sub.held).toBe(false)
      await expect(h.hookpost.subscriptions.verify(h.envId, sub.id)).rejects.toMatchObject({
        code: 'invalid_request',
        details: [{ path: '/url', message: 'not an http(s) URL' }],
      })
    } finally {
      await h.close()
    }
  })
})

describe('endpoint verification of an endpoint with its own authentication', () => {
  it('sends the challenge with the endpoint auth and static headers a delivery carries', async () => {
    const rx = await new TestReceiver().start()
    const h = await workerHarness({ verifyEndpoints: true })
    const sender = new HttpSender()
    try {
      rx.respond = (r) =>
        r.headers['authorization'] === 'Bearer s3cret' && r.headers['x-team'] === 'billing'
          ? { status: 200, body: challengeOf(r) }
          : { status: 401, body: 'who are you' }
      const verifier = new EndpointVerifier({
        store: h.store,
        sender,
        keyring: new SigningKeyring(h.store, h.box),
        box: h.box,
        userAgent: 'Hookpost/test',
        timeoutMs: 2000,
        log: silentLogger,
      })
      const sub = await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: `${rx.url}/hook`,
        active: true,
        auth: { type: 'bearer', token: 's3cret' },
        headers: { 'X-Team': 'billing' },
      })
      expect(await verifier.tick()).toBe(1)
      expect((await h.hookpost.subscriptions.get(h.envId, sub.id)).verification?.state).toBe('verified')
    } finally {
      await h.close()
      await sender.close()
      await rx.stop()
    }
  })
})
