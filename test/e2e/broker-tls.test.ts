// The real service in its production setting (HOOKPOST_ALLOW_HTTP unset: only amqps://, tls://,
// rediss:// brokers), delivering to each broker behind a TLS proxy whose certificate comes from
// a private CA: trusted only because HOOKPOST_EXTRA_CA_CERTS names it (main.ts hands the same
// CAs to the broker connections as to the HTTP sender). The URL's host is 127.0.0.1, which the
// test certificate covers as an IP address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { type Rig, rigs } from '../destinations/broker-rigs.ts'
import { brokerPorts, describeWithBroker } from '../support/brokers.ts'
import { eventually } from '../support/eventually.ts'
import { skipWithout } from '../support/external-tool.ts'
import { client, type ServiceProcess, startService } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'
import { makeTestPki, openssl, type TestPki } from '../support/test-pki.ts'
import { TlsBrokerProxy } from '../support/tls-broker-proxy.ts'

const t = eventTypes[0]!
const tlsScheme = { amqp: 'amqps:', nats: 'tls:', redis: 'rediss:' } as const

await describeWithBroker('amqp', 'broker destinations over TLS, the real service', () =>
  describe.skipIf(skipWithout(openssl))('HOOKPOST_EXTRA_CA_CERTS trusted by broker connections', () => {
    let pki: TestPki
    let svc: ServiceProcess
    const proxies: TlsBrokerProxy[] = []
    const rigged: Rig[] = []
    let consumer: ReturnType<typeof client>
    let publisher: ReturnType<typeof client>

    beforeAll(async () => {
      pki = makeTestPki()
      svc = await startService({ HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8', HOOKPOST_EXTRA_CA_CERTS: pki.caFile })
      const tenant = await createTenant(svc, 'brokers')
      consumer = client(svc.url, tenant.consumer.authorization)
      publisher = client(svc.url, tenant.publisher.authorization)
    }, 60_000)

    afterAll(async () => {
      await svc?.stop()
      svc?.cleanup()
      for (const p of proxies) await p.stop()
      for (const r of rigged) await r.dispose()
      pki?.cleanup()
    })

    for (const broker of ['amqp', 'nats', 'redis'] as const) {
      it(`delivers to ${broker} over TLS`, async () => {
        const rig = await rigs[broker]()
        rigged.push(rig)
        const proxy = new TlsBrokerProxy({
          target: brokerPorts[broker],
          identity: pki.server,
          nats: broker === 'nats',
        })
        proxies.push(proxy)
        await proxy.start()
        const d = rig.destination(proxy.port)
        const url = tlsScheme[broker] + d['url']!.slice(new URL(d['url']!).protocol.length)
        const r = await consumer('POST', '/webhooks/subscription', {
          event: t.name,
          destination: { ...d, url },
          active: true,
        })
        expect(r.status, JSON.stringify(r.json)).toBe(201)
        // A plain URL is refused in this setting (HOOKPOST_ALLOW_HTTP unset).
        const plain = await consumer('POST', '/webhooks/subscription', {
          event: t.name,
          destination: d,
          active: true,
        })
        expect(plain.status).toBe(400)
        const before = (await rig.received()).length
        const body = JSON.stringify(t.example)
        expect((await publisher('POST', '/events', body)).status).toBeLessThan(300)
        const msg = await eventually(async () => {
          const all = await rig.received()
          expect(all.length).toBeGreaterThan(before)
          return all[all.length - 1]!
        }, 20_000)
        expect(msg.body.toString()).toBe(body)
        expect(msg.headers['webhook-id']).toMatch(/^dlv_/)
      })
    }
  }),
)
