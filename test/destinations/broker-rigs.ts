// Each broker as the destination tests drive it: where Hookpost publishes (a destination), and
// a consumer side with the broker's own client (amqplib, @nats-io/jetstream, ioredis).
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as natsConnect } from '@nats-io/transport-node'
import amqp from 'amqplib'
import { Redis } from 'ioredis'
import { type Broker, brokerPorts, brokerUrls, unique } from '../support/brokers.ts'

export interface Received {
  body: Buffer
  headers: Record<string, string>
  /** AMQP: delivery mode 2. */
  persistent?: boolean
}

/** One broker as the tests drive it: where to publish, and a consumer with its own client. */
export interface Rig {
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
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(m.properties.headers ?? {})) headers[k] = String(v)
    got.push({ body: m.content, headers, persistent: m.properties.deliveryMode === 2 })
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

export const rigs: Record<Broker, () => Promise<Rig>> = { amqp: amqpRig, nats: natsRig, redis: redisRig }
