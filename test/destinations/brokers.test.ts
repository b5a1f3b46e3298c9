// Deliveries to real brokers on loopback, consumed with each broker's own client: the exact
// bytes, the contract's headers, signatures verified with @hookpost/verify; failures recorded
// with statusCode null and an error code, then retried; a broker "down" (a TCP proxy the test
// stops) and back; the sending policy at connect time; one pooled connection per broker URL.

import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import amqp from 'amqplib'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { verifyWebhookDetailed } from '../../packages/verify/src/index.ts'
import {
  type Broker,
  brokerPorts,
  brokerUrls,
  describeWithBroker,
  TcpProxy,
  unique,
} from '../support/brokers.ts'
import { eventually } from '../support/eventually.ts'
import { type DestinationHarness, destinationHarness } from './destination-harness.ts'

interface Received {
  body: Buffer
  headers: Record<string, string>
}

/** One broker as the tests drive it: where to publish, and a consumer with its own client. */
interface Rig {
  destination(port?: number): Record<string, string>
  /** Every message that reached the consumer side so far, in order. */
  received(): Promise<Received[]>
  /** Makes the destination fail in the broker's own way (no exchange, no stream, wrong type). */
  breakIt(): Record<string, string>
  brokenError: string
  dispose(): Promise<void>
}

async function amqpRig(): Promise<Rig> {
  const conn = await amqp.connect(brokerUrls.amqp)
  const ch = await conn.createChannel()
  const exchange = unique('hp_ex')
  await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: false })
  const { queue } = await ch.assertQueue('', { exclusive: true })
  await ch.bindQueue(queue, exchange, 'orders')
  const got: Received[] = []
  await ch.consume(queue, (m) => {
    if (!m) return
    expect(m.properties.deliveryMode).toBe(2) // persistent
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(m.properties.headers ?? {})) headers[k] = String(v)
    got.push({ body: m.content, headers })
    ch.ack(m)
  })
  return {
    destination: (port = brokerPorts.amqp) => ({
      type: 'amqp',
      url: `amqp://guest:guest@127.0.0.1:${port}/`,
      exchange,
      routingKey: 'orders',
    }),
    received: async () => got,
    breakIt: () => ({
      type: 'amqp',
      url: 'amqp://guest:guest@127.0.0.1:5672/',
      exchange: unique('hp_none'),
      routingKey: 'x',
    }),
    brokenError: 'broker_refused',
    async dispose() {
      await ch.deleteExchange(exchange).catch(() => {})
      await conn.close()
    },
  }
}

async function natsRig(): Promise<Rig> {
  const nc = await natsConnect({ servers: '127.0.0.1:4222' })
  const jsm = await jetstreamManager(nc)
  const stream = unique('HP')
  const subject = `${stream}.events`
  await jsm.streams.add({ name: stream, subjects: [subject] })
  return {
    destination: (port = brokerPorts.nats) => ({ type: 'nats', url: `nats://127.0.0.1:${port}`, subject }),
    async received() {
      const info = await jsm.streams.info(stream)
      const out: Received[] = []
      for (let seq = 1; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq })
        if (!m) continue
        const headers: Record<string, string> = {}
        for (const k of m.header.keys()) headers[k] = m.header.get(k)
        out.push({ body: Buffer.from(m.data), headers })
      }
      return out
    },
    breakIt: () => ({ type: 'nats', url: 'nats://127.0.0.1:4222', subject: `${unique('nostream')}.x` }),
    brokenError: 'no_stream',
    async dispose() {
      await jsm.streams.delete(stream).catch(() => {})
      await nc.close()
    },
  }
}

async function redisRig(): Promise<Rig> {
  const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true })
  await r.connect()
  const stream = unique('hp_stream')
  const wrong = unique('hp_string')
  await r.set(wrong, 'not a stream')
  return {
    destination: (port = brokerPorts.redis) => ({
      type: 'redis',
      url: `redis://127.0.0.1:${port}/0`,
      stream,
    }),
    async received() {
      const entries = await r.xrangeBuffer(stream, '-', '+')
      return entries.map(([, fields]) => {
        const headers: Record<string, string> = {}
        let body: Buffer = Buffer.alloc(0)
        for (let i = 0; i < fields.length; i += 2) {
          const k = fields[i]!.toString()
          if (k === 'body') body = fields[i + 1]!
          else headers[k] = fields[i + 1]!.toString()
        }
        return { body, headers }
      })
    },
    breakIt: () => ({ type: 'redis', url: 'redis://127.0.0.1:6379/0', stream: wrong }),
    brokenError: 'broker_refused',
    async dispose() {
      await r.del(stream, wrong)
      await r.quit()
    },
  }
}

const rigs: Record<Broker, () => Promise<Rig>> = { amqp: amqpRig, nats: natsRig, redis: redisRig }

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
        expect(d.delivery).toMatchObject({ status: 'delivered', attempts: 1, subscriptionId: sub.id })
        expect(d.attempts[0]).toMatchObject({ number: 1, error: null })
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
      expect(h.sender.connections()[broker]).toBe(1)
      await h.close()
      expect(h.sender.connections()[broker]).toBe(0)
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
      expect(h.sender.connections()[broker]).toBe(0)
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
