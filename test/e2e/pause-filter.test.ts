// Pause and resume through the real service (API and worker in one process, HTTP both ways):
// deliveries made while paused are kept pending and none is sent; resumed, every one goes out,
// an ordered subscription's in publish order. Filters decide at publish which subscriptions an
// event goes to, and `deliveries` counts only those.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { freshDatabase, postgresAvailable } from '../support/postgres.ts'
import { type Received, TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

const pg = await postgresAvailable()

const example = (ref: number) => {
  const e = structuredClone(eventTypes.find((t) => t.name === 'site.publish')!.example) as {
    site: { ref: number }
  }
  e.site.ref = ref
  return JSON.stringify(e)
}
const refsAt = (rx: TestReceiver, path: string) =>
  rx.received
    .filter((r: Received) => r.path === path)
    .map((r) => JSON.parse(r.body.toString()).site.ref as number)

function pauseAndFilterSuite(store: 'SQLite' | 'PostgreSQL') {
  let svc: ServiceProcess
  let rx: TestReceiver
  let consumer: ReturnType<typeof client>
  let publisher: ReturnType<typeof client>
  let dropDatabase: (() => Promise<void>) | undefined

  beforeAll(async () => {
    rx = await new TestReceiver().start()
    const db = store === 'PostgreSQL' ? await freshDatabase() : undefined
    dropDatabase = db?.drop
    svc = await startService({
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_RETRY_SCHEDULE: '50ms,100ms',
      ...(db ? { HOOKPOST_DATABASE_URL: db.url } : {}),
    })
    const tenant = await createTenant(svc, 'pause')
    consumer = client(svc.url, tenant.consumer.authorization)
    publisher = client(svc.url, tenant.publisher.authorization)
  }, 120_000)
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await rx?.stop()
    await dropDatabase?.()
  })

  const subscribe = async (path: string, extra: Record<string, unknown> = {}) => {
    const r = await consumer('POST', '/webhooks/subscription', {
      event: 'site.publish',
      url: `${rx.url}${path}`,
      active: true,
      ...extra,
    })
    expect(r.status).toBe(201)
    return r.json.subscription as { id: string; paused: boolean; filter: unknown }
  }
  const publish = async (ref: number) => {
    const r = await publisher('POST', '/events', example(ref), { 'x-ordering-key': 'one-key' })
    expect(r.status).toBe(202)
    return r.json.event as { id: string; deliveries: number }
  }

  it('keeps what is published while paused and sends all of it, in order, once resumed', async () => {
    const plain = await subscribe('/plain')
    const ordered = await subscribe('/ordered', { ordered: true })
    const barrier = await subscribe('/barrier')
    expect(plain.paused).toBe(false)
    await publish(1)
    await eventually(() => expect(rx.received).toHaveLength(3))

    // Paused both ways: PUT with the field, and the pause route.
    const put = await consumer('PUT', `/webhooks/subscription/${plain.id}`, {
      event: 'site.publish',
      url: `${rx.url}/plain`,
      active: true,
      paused: true,
    })
    expect(put.status).toBe(200)
    expect(put.json.subscription.paused).toBe(true)
    expect(
      (await consumer('POST', `/webhooks/subscription/${ordered.id}/pause`)).json.subscription.paused,
    ).toBe(true)
    // BaseKit's form without the field leaves it as it is.
    const again = await consumer('PUT', `/webhooks/subscription/${plain.id}`, {
      event: 'site.publish',
      url: `${rx.url}/plain`,
      active: true,
    })
    expect(again.json.subscription.paused).toBe(true)

    for (let ref = 2; ref <= 21; ref++) expect((await publish(ref)).deliveries).toBe(3)
    // The barrier subscription got all 20: the worker has been through that work, and sent
    // nothing to the paused ones.
    await eventually(() => expect(refsAt(rx, '/barrier')).toHaveLength(21))
    expect(refsAt(rx, '/plain')).toEqual([1])
    expect(refsAt(rx, '/ordered')).toEqual([1])
    const kept = await consumer(
      'GET',
      `/webhooks/deliveries?subscriptionId=${ordered.id}&status=pending&limit=100`,
    )
    expect(kept.json.deliveries).toHaveLength(20)
    expect(kept.json.deliveries.every((d: { nextAttemptAt: unknown }) => d.nextAttemptAt === null)).toBe(true)
    const retry = await consumer('POST', `/webhooks/deliveries/${kept.json.deliveries[0].id}/retry`)
    expect(retry.status).toBe(409)
    expect(retry.json.error.code).toBe('delivery_held')

    for (const s of [plain, ordered]) {
      const r = await consumer('POST', `/webhooks/subscription/${s.id}/resume`)
      expect(r.json.subscription.paused).toBe(false)
    }
    const all = Array.from({ length: 21 }, (_, i) => i + 1)
    await eventually(() => expect([...new Set(refsAt(rx, '/plain'))].sort((a, b) => a - b)).toEqual(all))
    await eventually(() => expect(refsAt(rx, '/ordered')).toEqual(all))
    await eventually(async () => {
      const left = await consumer('GET', '/webhooks/deliveries?status=pending&limit=100')
      expect(left.json.deliveries).toEqual([])
    })
    for (const s of [plain, ordered, barrier]) {
      await consumer('DELETE', `/webhooks/subscription/${s.id}`)
    }
  }, 60_000)

  it('sends an event only to the subscriptions whose filter it matches, counted in deliveries', async () => {
    const big = await subscribe('/big', { filter: { 'site.ref': { $gte: 100 } } })
    const brand = await subscribe('/brand', {
      filter: { 'site.accountHolder.brand.name': { $prefix: 'BaseKit' } },
    })
    expect(big.filter).toEqual({ 'site.ref': { $gte: 100 } })
    const bad = await consumer('POST', '/webhooks/subscription', {
      event: 'site.publish',
      url: `${rx.url}/bad`,
      active: true,
      filter: { $and: [{ 'site.ref': 1 }, { 'site.ref': { $gt: [] } }] },
    })
    expect(bad.status).toBe(400)
    expect(bad.json.error.code).toBe('invalid_filter')
    expect(bad.json.error.details[0].path).toBe('/filter/$and/1/site.ref/$gt')
    expect((await publish(5)).deliveries).toBe(1)
    expect((await publish(500)).deliveries).toBe(2)
    await eventually(() => expect(refsAt(rx, '/brand')).toHaveLength(2))
    await eventually(() => expect(refsAt(rx, '/big')).toEqual([500]))
    // Removing the filter (null): every event again.
    const cleared = await consumer('PUT', `/webhooks/subscription/${big.id}`, {
      event: 'site.publish',
      url: `${rx.url}/big`,
      active: true,
      filter: null,
    })
    expect(cleared.json.subscription.filter).toBeNull()
    expect((await publish(6)).deliveries).toBe(2)
    const tried = await consumer('POST', '/webhooks/filter/test', {
      filter: { 'site.ref': { $in: [6, 7] } },
      payload: JSON.parse(example(6)),
    })
    expect(tried.json).toEqual({ matches: true })
    void brand
  }, 60_000)
}

describe('pause, resume and filters through the real service (SQLite)', () => pauseAndFilterSuite('SQLite'))
describe.runIf(pg.ok)('pause, resume and filters through the real service (PostgreSQL)', () =>
  pauseAndFilterSuite('PostgreSQL'),
)

describe('endpoint verification through the real service (HOOKPOST_VERIFY_ENDPOINTS=true)', () => {
  let svc: ServiceProcess
  let rx: TestReceiver
  let consumer: ReturnType<typeof client>
  let publisher: ReturnType<typeof client>
  let echo = false

  beforeAll(async () => {
    rx = await new TestReceiver().start()
    rx.respond = (r) => {
      if (r.headers['x-delivery-event'] !== 'webhook.verification') return { status: 200, body: 'ok' }
      const { challenge } = JSON.parse(r.body.toString()) as { challenge: string }
      return echo ? { status: 200, body: challenge } : { status: 200, body: 'not the challenge' }
    }
    svc = await startService({
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_VERIFY_ENDPOINTS: 'true',
    })
    const tenant = await createTenant(svc, 'verify')
    consumer = client(svc.url, tenant.consumer.authorization)
    publisher = client(svc.url, tenant.publisher.authorization)
  }, 120_000)
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await rx?.stop()
  })

  it('holds a new subscription until its endpoint echoes the challenge, then sends what was kept', async () => {
    const created = await consumer('POST', '/webhooks/subscription', {
      event: 'site.publish',
      url: `${rx.url}/hook`,
      active: true,
    })
    expect(created.status).toBe(201)
    const sub = created.json.subscription
    expect(sub.verification).toBe('pending')
    expect((await publisher('POST', '/events', example(1))).json.event.deliveries).toBe(1)
    // A wrong echo: still pending, the error visible.
    await eventually(async () => {
      const s = (await consumer('GET', `/webhooks/subscription/${sub.id}`)).json.subscription
      expect(s.verificationDetail.lastError).toMatch(/^challenge_mismatch/)
      expect(s.verification).toBe('pending')
    })
    expect(rx.received.filter((r) => r.headers['x-delivery-event'] === 'site.publish')).toEqual([])
    echo = true
    const asked = await consumer('POST', `/webhooks/subscription/${sub.id}/verify`)
    expect(asked.status).toBe(202)
    expect(asked.json.subscription.verification).toBe('pending')
    await eventually(async () => {
      expect((await consumer('GET', `/webhooks/subscription/${sub.id}`)).json.subscription.verification).toBe(
        'verified',
      )
    })
    await eventually(() =>
      expect(rx.received.filter((r) => r.headers['x-delivery-event'] === 'site.publish')).toHaveLength(1),
    )
  }, 60_000)
})
