// The whole BaseKit flow against the real service process and a real receiver, verified by
// code independent of the service (node:crypto and the standardwebhooks reference package).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { basekitHeaderValid, standardHeadersValid } from '../support/independent-verify.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'

// Both ways a worker can send: from its thread (the default) and from the main thread.
describe.each([
  ['its sending thread', 'true'],
  ['the main thread', 'false'],
])('end to end: the BaseKit flow over real HTTP, sent from %s', (_how, sendThread) => {
  let svc: ServiceProcess
  let rx: TestReceiver
  beforeAll(async () => {
    rx = await new TestReceiver().start()
    svc = await startService({
      HOOKPOST_ALLOW_HTTP: 'true',
      HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
      HOOKPOST_RETRY_SCHEDULE: '200ms,400ms',
      HOOKPOST_SEND_THREAD: sendThread,
    })
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await rx?.stop()
  })

  it('generates the operator token into the data directory and logs where, not what', async () => {
    expect(svc.adminToken).toMatch(/^hpa_/)
    // The child's output arrives through a pipe: wait for it rather than race it.
    await eventually(() => expect(svc.output()).toContain('admin-token'))
    expect(svc.output()).not.toContain(svc.adminToken)
  })

  it('delivers every catalogue example, byte-identical and signed both ways, then retries a failure', async () => {
    const tenant = await createTenant(svc, 'brand-1')
    const consumer = client(svc.url, tenant.consumer.authorization)
    const publisher = client(svc.url, tenant.publisher.authorization)

    const secretRes = await consumer('POST', '/webhooks/hmac-secret')
    expect(secretRes.status).toBe(201)
    const secret: string = secretRes.json.hmacSecret.secret

    for (const t of eventTypes) {
      const r = await consumer('POST', '/webhooks/subscription', {
        event: t.name,
        url: `${rx.url}/${t.name}`,
        active: true,
      })
      expect(r.status).toBe(201)
    }
    const sent = new Map<string, string>()
    for (const t of eventTypes) {
      // Pretty-printed with odd spacing: the bytes must survive exactly.
      const body = JSON.stringify(t.example, null, 3)
      const r = await publisher('POST', '/events', body)
      expect(r.status).toBe(202)
      expect(r.json.event).toMatchObject({ eventName: t.name, deliveries: 1 })
      sent.set(t.name, body)
    }
    await eventually(() => expect(rx.received).toHaveLength(eventTypes.length), 15_000)
    for (const got of rx.received) {
      const name = String(got.headers['x-delivery-event'])
      expect(got.path).toBe(`/${name}`)
      expect(got.body.toString('utf8')).toBe(sent.get(name))
      expect(basekitHeaderValid(secret, got.body, got.headers['x-delivery-hmac-sha256'] as string)).toBe(true)
      expect(standardHeadersValid(secret, got.body, got.headers)).toBe(true)
      expect(got.headers['user-agent']).toMatch(/^Hookpost\/\d+\.\d+\.\d+/)
      expect(got.headers['x-delivery-attempt']).toBe('1')
    }
    await eventually(async () => {
      const list = (await consumer('GET', '/webhooks/deliveries')).json.deliveries as { status: string }[]
      expect(list.filter((d) => d.status === 'delivered')).toHaveLength(6)
    })

    // A failing receiver: retried on the short schedule, then failed; a manual retry succeeds.
    rx.respond = () => ({ status: 500, body: 'down' })
    rx.received.length = 0
    const pub = await publisher('POST', '/events', JSON.stringify(eventTypes[0]!.example))
    await eventually(() => expect(rx.received).toHaveLength(3), 10_000)
    const id = String(rx.received[0]!.headers['webhook-id'])
    expect(rx.received.every((r) => r.headers['webhook-id'] === id)).toBe(true)
    await eventually(async () => {
      const d = (await consumer('GET', `/webhooks/deliveries/${id}`)).json.delivery
      expect(d).toMatchObject({
        status: 'failed',
        attempts: 3,
        eventId: pub.json.event.id,
        lastStatusCode: 500,
      })
      expect(d.attemptLog.map((a: { number: number }) => a.number)).toEqual([1, 2, 3])
      expect(d.attemptLog[0].responseBody).toBe('down')
    })
    rx.respond = () => ({ status: 200 })
    expect((await consumer('POST', `/webhooks/deliveries/${id}/retry`)).status).toBe(202)
    await eventually(async () =>
      expect((await consumer('GET', `/webhooks/deliveries/${id}`)).json.delivery.status).toBe('delivered'),
    )
    expect(rx.received[3]!.headers['x-delivery-attempt']).toBe('4')
  })

  it('never writes a secret into its log', async () => {
    const out = svc.output()
    expect(out).not.toMatch(/whsec_[A-Za-z0-9+/]{20}/)
    expect(out).not.toMatch(/hps_[A-Za-z0-9]{20}/)
  })
})
