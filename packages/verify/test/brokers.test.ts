// The broker recipes (examples/brokers.ts) on real brokers on 127.0.0.1: a message carrying a
// delivery as Hookpost publishes it (contract section 11: the body's bytes, the headers in the
// broker's header mechanism, signed with node:crypto independently of the library) is published
// and consumed with each broker's own client, then verified; a tampered body is refused.
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node'
import amqp from 'amqplib'
import { Redis } from 'ioredis'
import { expect, it } from 'vitest'
import { describeWithBroker, unique } from '../../../test/support/brokers.js'
import { verifyAmqpMessage, verifyNatsMessage, verifyRedisEntry } from '../examples/brokers.js'
import { deliveryId, newSecret, nodeSign, nowSeconds } from './helpers.js'

// Bytes a parse + stringify would rewrite.
const body = Buffer.from('{"eventName":"site.publish","site":{"ref":1.0,"x":"\\u00e9"}}')

/** The headers as a broker message carries them: the names contract section 11 spells. */
function brokerHeaders(secret: string) {
  const h = nodeSign({ secrets: [secret], id: deliveryId(), timestamp: nowSeconds(), body })
  return {
    'webhook-id': h['webhook-id']!,
    'webhook-timestamp': h['webhook-timestamp']!,
    'webhook-signature': h['webhook-signature']!,
    'X-Delivery-Hmac-SHA256': h['x-delivery-hmac-sha256']!,
    'X-Delivery-Event': h['x-delivery-event']!,
    'X-Delivery-Attempt': h['x-delivery-attempt']!,
    'content-type': 'application/json',
  }
}

const tampered = Buffer.from(body.toString().replace('1.0', '2.0'))

await describeWithBroker('amqp', 'RabbitMQ recipe (amqplib)', () => {
  it('verifies a consumed message, and refuses one whose body changed', async () => {
    const secret = newSecret()
    const conn = await amqp.connect('amqp://guest:guest@127.0.0.1:5672')
    try {
      const ch = await conn.createConfirmChannel()
      const { queue } = await ch.assertQueue(unique('verify_q'), { exclusive: true })
      const headers = brokerHeaders(secret)
      ch.sendToQueue(queue, body, { persistent: true, headers })
      ch.sendToQueue(queue, tampered, { persistent: true, headers })
      await ch.waitForConfirms()
      const first = await ch.get(queue, { noAck: true })
      const second = await ch.get(queue, { noAck: true })
      if (!first || !second) throw new Error('no message')
      const ok = await verifyAmqpMessage(first, secret)
      expect(ok.id).toBe(headers['webhook-id'])
      expect(ok.payload).toMatchObject({ eventName: 'site.publish' })
      await expect(verifyAmqpMessage(second, secret)).rejects.toMatchObject({ code: 'bad_signature' })
    } finally {
      await conn.close()
    }
  })
})

await describeWithBroker('nats', 'NATS JetStream recipe (@nats-io/jetstream)', () => {
  it('verifies a consumed message, and refuses one whose body changed', async () => {
    const secret = newSecret()
    const nc = await natsConnect({ servers: '127.0.0.1:4222' })
    const jsm = await jetstreamManager(nc)
    const stream = unique('VERIFY')
    try {
      await jsm.streams.add({ name: stream, subjects: [`${stream}.in`] })
      const js = jsm.jetstream()
      const headers = brokerHeaders(secret)
      for (const b of [body, tampered]) {
        const h = natsHeaders()
        for (const [k, v] of Object.entries(headers)) h.set(k, v)
        await js.publish(`${stream}.in`, b, { headers: h })
      }
      await jsm.consumers.add(stream, { durable_name: 'verify', ack_policy: 'explicit' })
      const consumer = await js.consumers.get(stream, 'verify')
      const first = await consumer.next()
      const second = await consumer.next()
      if (!first || !second) throw new Error('no message')
      const ok = await verifyNatsMessage(first, secret)
      expect(ok.id).toBe(headers['webhook-id'])
      first.ack()
      await expect(verifyNatsMessage(second, secret)).rejects.toMatchObject({ code: 'bad_signature' })
      second.ack()
    } finally {
      await jsm.streams.delete(stream).catch(() => {})
      await nc.close()
    }
  })
})

await describeWithBroker('redis', 'Redis streams recipe (ioredis)', () => {
  it('verifies a read entry, and refuses one whose body changed', async () => {
    const secret = newSecret()
    const r = new Redis({ host: '127.0.0.1', port: 6379 })
    const stream = unique('verify_stream')
    try {
      const headers = brokerHeaders(secret)
      for (const b of [body, tampered])
        await r.xadd(stream, '*', 'body', b, ...Object.entries(headers).flat())
      const read = await r.xreadBuffer('COUNT', 10, 'STREAMS', stream, '0')
      const entries = read![0]![1]
      const ok = await verifyRedisEntry(entries[0]![1], secret)
      expect(ok.id).toBe(headers['webhook-id'])
      await expect(verifyRedisEntry(entries[1]![1], secret)).rejects.toMatchObject({ code: 'bad_signature' })
    } finally {
      await r.del(stream)
      r.disconnect()
    }
  })
})
