// Many publishes in flight on one pooled connection (docs/destinations.md, "Throughput"): each
// delivery waits for its own confirm, not for the others'; a broker that refuses some of them
// fails only those, the others are delivered, and everything went over one connection.
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import amqp from 'amqplib'
import { Redis } from 'ioredis'
import { afterEach, expect, it } from 'vitest'
import type { AttemptOutcome, OutboundDestination } from '../../src/deliveries/sender.ts'
import { BrokerPublisher } from '../../src/destinations/broker-publisher.ts'
import { DestinationSender } from '../../src/destinations/destination-sender.ts'
import { brokerDestinationTypes } from '../../src/destinations/registry.ts'
import { compileAddressPolicy } from '../../src/network/address-policy.ts'
import { HttpSender } from '../../src/outbound/http-sender.ts'
import { brokerUrls, describeWithBroker, unique } from '../support/brokers.ts'

let sender: DestinationSender | undefined
let brokers: BrokerPublisher | undefined
afterEach(async () => {
  await sender?.close()
  sender = undefined
})

function newSender(): DestinationSender {
  brokers = new BrokerPublisher(brokerDestinationTypes, {
    policy: compileAddressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'] }),
    connectTimeoutMs: 2000,
  })
  sender = new DestinationSender({
    http: new HttpSender(),
    brokers,
    openUrl: () => {
      throw new Error('no sealed URLs here')
    },
  })
  return sender
}

/** `n` deliveries sent at once (none waits for another), each to its destination. */
function sendAll(s: DestinationSender, to: (i: number) => OutboundDestination, n: number) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      s.send({
        url: '',
        headers: {
          'content-type': 'application/json',
          'webhook-id': `dlv_inflight${i}`,
          'webhook-timestamp': '1700000000',
          'webhook-signature': 'v1,x',
          'x-delivery-event': 'site.publish',
          'x-delivery-attempt': '1',
        },
        body: Buffer.from(`{"n":${i}}`),
        timeoutMs: 5000,
        destination: to(i),
      }),
    ),
  )
}

const kinds = (outcomes: AttemptOutcome[]) => outcomes.map((o) => (o.kind === 'error' ? o.code : o.kind))

await describeWithBroker('amqp', 'amqp: many publishes in flight on one confirm channel', () => {
  it('a queue that rejects past 5 messages nacks the rest: only those fail', async () => {
    const conn = await amqp.connect(brokerUrls.amqp)
    const ch = await conn.createChannel()
    const exchange = unique('hp_inflight')
    const queue = unique('hp_inflight_q')
    try {
      await ch.assertExchange(exchange, 'direct', { durable: false })
      await ch.assertQueue(queue, {
        durable: false,
        arguments: { 'x-max-length': 5, 'x-overflow': 'reject-publish' },
      })
      await ch.bindQueue(queue, exchange, 'k')
      const s = newSender()
      const fields = { url: `${brokerUrls.amqp}/`, exchange, routingKey: 'k' }
      const outcomes = await sendAll(s, () => ({ envId: 'env_t', type: 'amqp', fields, sealedUrl: null }), 20)
      // One channel, confirmed in publish order: the first five fit, the broker nacks the others.
      expect(kinds(outcomes)).toEqual([...Array(5).fill('acknowledged'), ...Array(15).fill('broker_nack')])
      expect(brokers!.connections()['amqp']).toBe(1)
      expect((await ch.checkQueue(queue)).messageCount).toBe(5)
      // The channel is still good after the nacks.
      await ch.purgeQueue(queue)
      expect(
        kinds(await sendAll(s, () => ({ envId: 'env_t', type: 'amqp', fields, sealedUrl: null }), 3)),
      ).toEqual(Array(3).fill('acknowledged'))
    } finally {
      await ch.deleteQueue(queue).catch(() => {})
      await ch.deleteExchange(exchange).catch(() => {})
      await conn.close()
    }
  })
})

await describeWithBroker('nats', 'nats: many JetStream publishes in flight on one connection', () => {
  it('a stream full at 5 messages (discard new) refuses the rest: only those fail', async () => {
    const nc = await natsConnect({ servers: '127.0.0.1:4222' })
    const jsm = await jetstreamManager(nc)
    const stream = unique('HPINFLIGHT')
    try {
      await jsm.streams.add({
        name: stream,
        subjects: [`${stream}.x`],
        max_msgs: 5,
        discard: 'new' as never,
      })
      const s = newSender()
      const fields = { url: brokerUrls.nats, subject: `${stream}.x` }
      const outcomes = await sendAll(s, () => ({ envId: 'env_t', type: 'nats', fields, sealedUrl: null }), 20)
      expect(kinds(outcomes)).toEqual([...Array(5).fill('acknowledged'), ...Array(15).fill('broker_nack')])
      expect(brokers!.connections()['nats']).toBe(1)
      expect((await jsm.streams.info(stream)).state.messages).toBe(5)
    } finally {
      await jsm.streams.delete(stream).catch(() => {})
      await nc.close()
    }
  })
})

await describeWithBroker('redis', 'redis: many XADDs in flight on one connection', () => {
  it('interleaved with XADDs Redis refuses (wrong type), the others are appended in order', async () => {
    const r = new Redis({ host: '127.0.0.1', port: 6379 })
    const good = unique('hp_inflight')
    const wrong = unique('hp_inflight_str')
    try {
      await r.set(wrong, 'not a stream')
      const s = newSender()
      const url = `${brokerUrls.redis}/0`
      const ok = { url, stream: good }
      const bad = { url, stream: wrong }
      const outcomes = await sendAll(
        s,
        (i) => ({ envId: 'env_t', type: 'redis', fields: i % 3 === 1 ? bad : ok, sealedUrl: null }),
        30,
      )
      expect(kinds(outcomes)).toEqual(
        Array.from({ length: 30 }, (_, i) => (i % 3 === 1 ? 'broker_refused' : 'acknowledged')),
      )
      expect(brokers!.connections()['redis']).toBe(1)
      // Appended in the order they were sent.
      const bodies = (await r.xrange(good, '-', '+')).map(([, f]) => JSON.parse(f[1]!).n)
      expect(bodies).toEqual(Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 1))
    } finally {
      await r.del(good, wrong)
      r.disconnect()
    }
  })
})
