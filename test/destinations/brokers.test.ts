// Deliveries to real brokers on loopback, consumed with each broker's own client: the exact
// bytes, the contract's headers, signatures verified with @hookpost/verify; failures recorded
// with statusCode null and an error code, then retried; a broker "down" (a TCP proxy the test
// stops) and back; the sending policy at connect time; one pooled connection per broker URL.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { verifyWebhookDetailed } from '../../packages/verify/src/index.ts'
import { brokerPorts, describeWithBroker, TcpProxy } from '../support/brokers.ts'
import { eventually } from '../support/eventually.ts'
import { type Rig, rigs } from './broker-rigs.ts'
import { type DestinationHarness, destinationHarness } from './destination-harness.ts'

// Bytes a parse + stringify would change: the broker must carry these, not a re-serialisation.
const raw = () =>
  Buffer.from(`{"eventName":"site.publish",  "site":{"ref":1.0,"x":"\\u00e9","n":${Math.random()}}}`)

for (const broker of ['amqp', 'nats', 'redis'] as const) {
  await describeWithBroker(broker, `${broker} destination`, () => {
    let rig: Rig
    let h: DestinationHarness | undefined
    beforeAll(async () => {
      rig = await rigs[broker]()
    })
    afterAll(async () => {
      await rig?.dispose()
    })
    afterEach(async () => {
      await h?.close()
      h = undefined
    })

    const subscribe = (destination: Record<string, string>, extra: { ordered?: boolean } = {}) =>
      h!.hookpost.subscriptions.create(h!.envId, {
        event: 'site.publish',
        destination: destination as { type: string; url: string },
        active: true,
        ...extra,
      })

    it('delivers the exact bytes with every contract header; @hookpost/verify accepts the signature', async () => {
      h = await destinationHarness()
      const before = (await rig.received()).length
      const sub = await subscribe(rig.destination())
      const body = raw()
      await h.hookpost.publisher.publish(h.envId, body)
      const msg = await eventually(async () => {
        const all = await rig.received()
        expect(all.length).toBe(before + 1)
        return all[before]!
      })
      expect(Buffer.compare(msg.body, body)).toBe(0)
      if (broker === 'amqp') expect(msg.persistent).toBe(true)
      const hd = msg.headers
      expect(hd['content-type']).toBe('application/json')
      expect(hd['X-Delivery-Event']).toBe('site.publish')
      expect(hd['X-Delivery-Attempt']).toBe('1')
      expect(hd['webhook-id']).toMatch(/^dlv_/)
      expect(hd['X-Delivery-Hmac-SHA256']).toMatch(/^[0-9a-f]{64}$/)
      expect(hd['webhook-signature']).toMatch(/^v1,/)
      const verified = await verifyWebhookDetailed(msg.body, hd, h.secret)
      expect(verified.id).toBe(hd['webhook-id'])
      await verifyWebhookDetailed(msg.body, hd, h.secret, { scheme: 'basekit' })
      await eventually(async () => {
        const d = await h!.hookpost.deliveries.get(h!.envId, hd['webhook-id']!)
        expect(d.delivery).toMatchObject({
          status: 'delivered',
          attempts: 1,
          subscriptionId: sub.id,
          lastStatusCode: null,
          lastError: null,
        })
        // No HTTP status for a broker: its acknowledgement is the response body.
        expect(d.attempts[0]).toMatchObject({ number: 1, statusCode: null, error: null })
        expect(d.attempts[0]!.responseBody).toMatch(broker === 'redis' ? /^\d+-\d+$/ : /\S/)
        const s = await h!.hookpost.subscriptions.get(h!.envId, sub.id)
        expect(s.health).toMatchObject({ successCount: 1, failureCount: 0, consecutiveFailures: 0 })
      })
      // Shown back: the destination, never a password.
      const shown = await h.hookpost.subscriptions.get(h.envId, sub.id)
      expect(JSON.stringify(shown.destination)).not.toContain(':guest@')
    })

    it('reuses one connection per broker URL for every delivery and subscription', async () => {
      h = await destinationHarness()
      const before = (await rig.received()).length
      await subscribe(rig.destination())
      await subscribe(rig.destination())
      for (let i = 0; i < 10; i++) await h.hookpost.publisher.publish(h.envId, raw())
      await eventually(async () => expect((await rig.received()).length).toBe(before + 20))
      expect(h.brokers.connections()[broker]).toBe(1)
      await h.close()
      expect(h.brokers.connections()[broker]).toBe(0)
      h = undefined
    })

    it('records a refusal as an attempt with statusCode null and an error code, then retries it', async () => {
      h = await destinationHarness({ scheduleMs: [100, 100, 100, 100] })
      const sub = await subscribe(rig.breakIt())
      await h.hookpost.publisher.publish(h.envId, raw())
      await eventually(async () => {
        const { deliveries } = await h!.hookpost.deliveries.list(h!.envId, { subscriptionId: sub.id })
        const d = await h!.hookpost.deliveries.get(h!.envId, deliveries[0]!.id)
        expect(d.attempts.length).toBeGreaterThanOrEqual(2)
        expect(d.attempts[0]).toMatchObject({ statusCode: null })
        expect(d.attempts[0]!.error).toMatch(new RegExp(`^${rig.brokenError}: `))
        expect(d.delivery.lastError).toBe(rig.brokenError)
      })
      const s = await h.hookpost.subscriptions.get(h.envId, sub.id)
      expect(s.health.consecutiveFailures).toBeGreaterThanOrEqual(2)
    })

    it('broker down, then up: unreachable attempts, then delivered on a retry over a new connection', async () => {
      const proxy = new TcpProxy(brokerPorts[broker])
      const port = await proxy.start()
      try {
        h = await destinationHarness({ scheduleMs: [150, 150, 150, 150, 150, 150, 150, 150] })
        const before = (await rig.received()).length
        const sub = await subscribe(rig.destination(port))
        await h.hookpost.publisher.publish(h.envId, raw())
        await eventually(async () => expect((await rig.received()).length).toBe(before + 1))
        // Down: the listener is gone and the pooled connection is cut.
        await proxy.stop()
        await h.hookpost.publisher.publish(h.envId, raw())
        await eventually(async () => {
          const { deliveries } = await h!.hookpost.deliveries.list(h!.envId, {
            subscriptionId: sub.id,
            status: 'pending',
          })
          expect(deliveries).toHaveLength(1)
          expect(['broker_unreachable', 'timeout']).toContain(deliveries[0]!.lastError)
        })
        await proxy.start()
        await eventually(async () => expect((await rig.received()).length).toBe(before + 2), 15_000)
        await eventually(async () => {
          const { deliveries } = await h!.hookpost.deliveries.list(h!.envId, {
            subscriptionId: sub.id,
            status: 'delivered',
          })
          expect(deliveries).toHaveLength(2)
        })
      } finally {
        await proxy.stop()
      }
    })

    it('refuses a broker address outside the sending policy at connect time (blocked_address)', async () => {
      h = await destinationHarness({ allowedCidrs: [] })
      const sub = await subscribe(rig.destination())
      await h.hookpost.publisher.publish(h.envId, raw())
      await eventually(async () => {
        const { deliveries } = await h!.hookpost.deliveries.list(h!.envId, { subscriptionId: sub.id })
        expect(deliveries[0]).toMatchObject({ lastError: 'blocked_address', lastStatusCode: null })
      })
      expect(h.brokers.connections()[broker]).toBe(0)
    })

    it('keeps per-key order on an ordered subscription', async () => {
      h = await destinationHarness()
      const before = (await rig.received()).length
      await subscribe(rig.destination(), { ordered: true })
      const bodies = Array.from({ length: 8 }, (_, i) =>
        Buffer.from(`{"eventName":"site.publish","site":{"ref":7,"i":${i}}}`),
      )
      for (const b of bodies) await h.hookpost.publisher.publish(h.envId, b, { orderingKey: 'site-1' })
      const got = await eventually(async () => {
        const all = await rig.received()
        expect(all.length).toBe(before + bodies.length)
        return all.slice(before)
      })
      expect(got.map((g) => g.body.toString())).toEqual(bodies.map((b) => b.toString()))
    })
  })
}

await describeWithBroker('nats', 'nats destination: manual retry', () => {
  it('a subject no stream captures fails (no_stream); once a stream captures it, a manual retry delivers', async () => {
    const { jetstreamManager } = await import('@nats-io/jetstream')
    const { connect } = await import('@nats-io/transport-node')
    const nc = await connect({ servers: '127.0.0.1:4222' })
    const jsm = await jetstreamManager(nc)
    const stream = `RETRY_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
    const h = await destinationHarness({ scheduleMs: [600_000] })
    try {
      const sub = await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        destination: { type: 'nats', url: 'nats://127.0.0.1:4222', subject: `${stream}.in` },
        active: true,
      })
      await h.hookpost.publisher.publish(h.envId, raw())
      const d = await eventually(async () => {
        const { deliveries } = await h.hookpost.deliveries.list(h.envId, { subscriptionId: sub.id })
        expect(deliveries[0]).toMatchObject({
          status: 'pending',
          lastError: 'no_stream',
          lastStatusCode: null,
        })
        return deliveries[0]!
      })
      await jsm.streams.add({ name: stream, subjects: [`${stream}.in`] })
      await h.hookpost.deliveries.retry(h.envId, d.id)
      await eventually(async () => {
        const got = await h.hookpost.deliveries.get(h.envId, d.id)
        expect(got.delivery.status).toBe('delivered')
        expect(got.attempts.map((a) => a.error?.split(':')[0] ?? null)).toEqual(['no_stream', null])
      })
      const m = await jsm.streams.getMessage(stream, { seq: 1 })
      expect(m?.header.get('webhook-id')).toBe(d.id)
      expect(m?.header.get('X-Delivery-Attempt')).toBe('2')
    } finally {
      await h.close()
      await jsm.streams.delete(stream).catch(() => {})
      await nc.close()
    }
  })
})
