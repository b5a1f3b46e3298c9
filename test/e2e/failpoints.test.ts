// Crash points made deterministic (reliability.md 7.2, R01–R05): the service kills itself with
// SIGKILL at a named point (HOOKPOST_FAILPOINT), or the receiver kills it mid-request; it is
// restarted on the same data and the outcome is checked.
import { afterEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, freePort, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

const example = eventTypes.find((t) => t.name === 'site.publish')!.example
const base = {
  HOOKPOST_ALLOW_HTTP: 'true',
  HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
  HOOKPOST_REQUEST_TIMEOUT: '1s',
  HOOKPOST_RETRY_SCHEDULE: '200ms,500ms',
  HOOKPOST_ADMIN_TOKEN: 'failpoint-admin-token-123456',
}

interface Setup {
  svc: ServiceProcess
  consumer: ReturnType<typeof client>
  publisher: ReturnType<typeof client>
  env: Record<string, string>
}

describe('crash points (R01–R05)', { timeout: 90_000 }, () => {
  let rx: TestReceiver
  let current: ServiceProcess | undefined
  afterEach(async () => {
    await current?.stop('SIGKILL')
    current?.cleanup()
    await rx?.stop()
  })

  async function setup(failpoint?: string, subscriptions = 2): Promise<Setup> {
    rx = await new TestReceiver().start()
    const env = { ...base, HOOKPOST_PORT: String(await freePort()) }
    const svc = await startService(failpoint ? { ...env, HOOKPOST_FAILPOINT: failpoint } : env)
    current = svc
    const tenant = await createTenant(svc, 'crash')
    const consumer = client(svc.url, tenant.consumer.authorization)
    const publisher = client(svc.url, tenant.publisher.authorization)
    for (const path of ['a', 'b'].slice(0, subscriptions)) {
      await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: `${rx.url}/${path}`,
        active: true,
      })
    }
    return { svc, consumer, publisher, env }
  }

  async function restart(s: Setup): Promise<ServiceProcess> {
    await eventually(() => expect(s.svc.child.exitCode ?? s.svc.child.signalCode).not.toBeNull(), 10_000)
    const again = await startService(s.env, { dataDir: s.svc.dataDir })
    current = again
    return again
  }

  async function publishExpectingNoAnswer(s: Setup, key: string) {
    await expect(s.publisher('POST', '/events', example, { 'idempotency-key': key })).rejects.toThrow()
  }

  it('R01: killed after sending, before reading the response: delivered again under the same webhook-id', async () => {
    const s = await setup()
    let killed = false
    rx.respond = () => {
      if (!killed) {
        killed = true
        s.svc.child.kill('SIGKILL')
        return { status: 200, delayMs: 500 }
      }
      return { status: 200 }
    }
    expect((await s.publisher('POST', '/events', { ...example, site: { ref: 1 } })).status).toBe(202)
    await eventually(() => expect(killed).toBe(true))
    await restart(s)
    await eventually(() => expect(rx.received.length).toBeGreaterThanOrEqual(3), 20_000)
    const ids = rx.received.map((r) => `${r.path} ${r.headers['webhook-id']}`)
    const first = ids[0]!
    expect(ids.filter((i) => i === first)).toHaveLength(2)
    const list = (await s.consumer('GET', '/webhooks/deliveries')).json.deliveries as { status: string }[]
    await eventually(async () => {
      const l = (await s.consumer('GET', '/webhooks/deliveries')).json.deliveries as { status: string }[]
      expect(l.map((d) => d.status)).toEqual(['delivered', 'delivered'])
    }, 20_000)
    expect(list).toHaveLength(2)
  })

  for (const [id, failpoint] of [
    ['R02', 'worker.after_send'],
    ['R02b', 'worker.before_complete'],
  ] as const) {
    it(`${id}: killed after a 2xx, before the commit (${failpoint}): at least once, same webhook-id`, async () => {
      const s = await setup(failpoint)
      expect((await s.publisher('POST', '/events', example)).status).toBe(202)
      await eventually(() => expect(rx.received.length).toBeGreaterThanOrEqual(1))
      await restart(s)
      await eventually(async () => {
        const l = (await s.consumer('GET', '/webhooks/deliveries')).json.deliveries as { status: string }[]
        expect(l.map((d) => d.status)).toEqual(['delivered', 'delivered'])
      }, 20_000)
      const byId = new Map<string, number>()
      for (const r of rx.received)
        byId.set(String(r.headers['webhook-id']), (byId.get(String(r.headers['webhook-id'])) ?? 0) + 1)
      expect(byId.size).toBe(2)
      expect([...byId.values()].some((n) => n >= 2)).toBe(true)
    })
  }

  it('R03: killed after the commit: no redelivery', async () => {
    // One subscription: its outcome is the whole first batch, so the kill comes right after the
    // commit that recorded it (with two, their outcomes may land in two batches on a busy box).
    const s = await setup('worker.after_complete', 1)
    expect((await s.publisher('POST', '/events', example)).status).toBe(202)
    await eventually(() => expect(rx.received).toHaveLength(1))
    await restart(s)
    const l = (await s.consumer('GET', '/webhooks/deliveries')).json.deliveries as { status: string }[]
    expect(l.map((d) => d.status)).toEqual(['delivered'])
    await new Promise((r) => setTimeout(r, 1500))
    expect(rx.received).toHaveLength(1)
  })

  it('R04: killed inside the ingest transaction: nothing is half-written; a retry with the key creates one event', async () => {
    const s = await setup('publish.before_commit')
    await publishExpectingNoAnswer(s, 'order-1')
    await restart(s)
    expect((await s.consumer('GET', '/webhooks/deliveries')).json.deliveries).toHaveLength(0)
    const r = await s.publisher('POST', '/events', example, { 'idempotency-key': 'order-1' })
    expect(r.status).toBe(202)
    expect(r.json.event.deliveries).toBe(2)
    const again = await s.publisher('POST', '/events', example, { 'idempotency-key': 'order-1' })
    expect(again.json.event.id).toBe(r.json.event.id)
    await eventually(() => expect(rx.received).toHaveLength(2))
  })

  it('R05: killed after the commit, before the answer: a retry with the key returns the original event', async () => {
    const s = await setup('publish.after_commit')
    await publishExpectingNoAnswer(s, 'order-2')
    await restart(s)
    const r = await s.publisher('POST', '/events', example, { 'idempotency-key': 'order-2' })
    expect(r.status).toBe(202)
    const list = (await s.consumer('GET', '/webhooks/deliveries')).json.deliveries as { eventId: string }[]
    expect(list).toHaveLength(2)
    expect(list.every((d) => d.eventId === r.json.event.id)).toBe(true)
    await eventually(() => expect(rx.received).toHaveLength(2))
  })
})
