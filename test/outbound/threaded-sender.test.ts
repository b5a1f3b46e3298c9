// The Sender that sends from a worker thread: the same outcomes as HttpSender, the sending
// policy applied inside the thread, and no send left hanging when the thread dies or closes;
// broker destinations published from the same thread.
import { Worker } from 'node:worker_threads'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import type { BrokerRequest } from '../../src/outbound/broker-port.ts'
import { batchSize, startSenderThread, ThreadedSender } from '../../src/outbound/threaded-sender.ts'
import { brokerUrls, describeWithBroker, unique } from '../support/brokers.ts'
import { TestReceiver } from '../support/receiver.ts'

const receivers: TestReceiver[] = []
const senders: ThreadedSender[] = []

async function receiver(respond?: TestReceiver['respond']): Promise<TestReceiver> {
  const r = await new TestReceiver().start()
  if (respond) r.respond = respond
  receivers.push(r)
  return r
}

function sender(start?: ConstructorParameters<typeof ThreadedSender>[1]): ThreadedSender {
  const s = new ThreadedSender(
    {
      policy: { allowHttp: true, allowedCidrs: ['127.0.0.0/8'] },
      ownApi: { host: '127.0.0.1', port: 0 },
      connectionsPerOrigin: 8,
      brokerConnectTimeoutMs: 2000,
    },
    start,
  )
  senders.push(s)
  return s
}

/** A message to a Redis stream on the local broker, as the DestinationSender hands it over. */
const toStream = (stream: string, over: Partial<BrokerRequest> = {}): BrokerRequest => ({
  type: 'redis',
  key: `redis ${stream}`,
  url: `${brokerUrls.redis}/0`,
  fields: { stream },
  body: Buffer.from('{}'),
  headers: {},
  timeoutMs: 3000,
  ...over,
})

const post = (s: ThreadedSender, url: string, body = '{"a":1}', timeoutMs = 3000) =>
  s.send({
    url,
    headers: { 'content-type': 'application/json', 'x-n': body },
    body: Buffer.from(body),
    timeoutMs,
  })

afterEach(async () => {
  for (const s of senders.splice(0)) await s.close()
  for (const r of receivers.splice(0)) await r.stop()
})

describe('ThreadedSender', () => {
  it('starts its thread on start() and says when it can send; a thread that fails to start does not hang it', async () => {
    const rx = await receiver()
    const s = sender()
    await s.start()
    expect(await post(s, `${rx.url}/warm`)).toMatchObject({ kind: 'response', statusCode: 200 })
    const broken = sender(() => new Worker('throw new Error("no thread")', { eval: true }))
    await broken.start()
    expect(await post(broken, `${rx.url}/x`)).toMatchObject({ kind: 'error' })
  })

  it('delivers every request byte for byte and hands back each answer to its own send', async () => {
    const rx = await receiver((r) => ({
      status: 201,
      body: `got ${r.body.toString()}`,
      headers: { 'x-reply': 'yes' },
    }))
    const s = sender()
    const bodies = Array.from({ length: 300 }, (_, i) => JSON.stringify({ i, pad: 'é'.repeat(i % 7) }))
    const outcomes = await Promise.all(bodies.map((b) => post(s, `${rx.url}/hook?x=1`, b)))
    outcomes.forEach((o, i) => {
      expect(o).toMatchObject({ kind: 'response', statusCode: 201, body: `got ${bodies[i]}` })
      expect(o.kind === 'response' && o.headers['x-reply']).toBe('yes')
    })
    expect(rx.received.map((r) => r.body.toString()).sort()).toEqual([...bodies].sort())
    expect(rx.received.every((r) => r.path === '/hook?x=1' && r.headers['x-n'] === r.body.toString())).toBe(
      true,
    )
  })

  it('applies the sending policy inside the thread, our own API port included', async () => {
    const s = sender()
    expect(await post(s, 'http://10.1.2.3/hook')).toMatchObject({ kind: 'error', code: 'blocked_address' })
    // As at start-up: the API's real port is known before any attempt.
    const own = await receiver()
    const other = await receiver()
    s.setOwnPort(Number(new URL(own.url).port))
    expect(await post(s, `${own.url}/loop`)).toMatchObject({ kind: 'error', code: 'blocked_address' })
    expect(await post(s, `${other.url}/ok`)).toMatchObject({ kind: 'response', statusCode: 200 })
    expect(own.received).toHaveLength(0)
  })

  it('keeps the attempt deadline', async () => {
    const rx = await receiver(() => ({ status: 200, delayMs: 5000 }))
    const o = await post(sender(), `${rx.url}/slow`, '{}', 300)
    expect(o).toMatchObject({ kind: 'error', code: 'timeout' })
    expect(o.durationMs).toBeGreaterThanOrEqual(250)
    expect(o.durationMs).toBeLessThan(4000)
  })

  it('answers for the sends of a thread that died, then sends through a new one', async () => {
    let started = 0
    const s = sender((config) => {
      started++
      // The first thread dies on its first batch.
      if (started === 1)
        return new Worker(`require('node:worker_threads').parentPort.on('message', () => process.exit(3))`, {
          eval: true,
        })
      return startSenderThread(config)
    })
    const rx = await receiver()
    const [a, b, message] = await Promise.all([
      post(s, `${rx.url}/a`),
      post(s, `${rx.url}/b`),
      // A broker message lost with the thread reads like any unreachable broker's.
      s.publish(toStream('lost')),
    ])
    for (const o of [a, b]) expect(o).toMatchObject({ kind: 'error', code: 'network_error' })
    expect(message).toMatchObject({ kind: 'error', code: 'broker_unreachable' })
    expect(a!.kind === 'error' && a!.message).toMatch(/sender thread exited \(3\)/)
    expect(await post(s, `${rx.url}/c`)).toMatchObject({ kind: 'response', statusCode: 200 })
    expect(started).toBe(2)
    expect(rx.received.map((r) => r.path)).toEqual(['/c'])
  })

  it('hands sends over in batches of batchSize as they are queued, the rest at the end of the turn', async () => {
    // A thread that answers each send with the size of the batch it came in.
    const s = sender(
      () =>
        new Worker(
          `const { parentPort } = require('node:worker_threads')
           parentPort.on('message', (m) => m.t === 'send' && parentPort.postMessage({ t: 'done',
             batch: m.batch.map((r) => ({ id: r.id, outcome: { kind: 'response', statusCode: 200, durationMs: m.batch.length } })) }))`,
          { eval: true },
        ),
    )
    const n = 2 * batchSize + 6
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) => post(s, `http://127.0.0.1:9/${i}`)),
    )
    const sizes = outcomes.map((o) => o.durationMs)
    expect(sizes).toEqual([
      ...Array(batchSize).fill(batchSize),
      ...Array(batchSize).fill(batchSize),
      ...Array(6).fill(6),
    ])
  })

  it('answers a send the thread never answers for, in whole milliseconds, past its deadline', async () => {
    // A thread that takes requests and never answers.
    const s = sender(
      () => new Worker(`require('node:worker_threads').parentPort.on('message', () => {})`, { eval: true }),
    )
    const o = await post(s, 'http://127.0.0.1:9/never', '{}', 100)
    expect(o).toMatchObject({ kind: 'error', code: 'timeout', message: 'no answer from the sender thread' })
    expect(Number.isInteger(o.durationMs)).toBe(true)
    expect(o.durationMs).toBeGreaterThanOrEqual(5000)
  }, 20_000)

  it('answers for what is in flight when closed, and refuses sends after', async () => {
    const rx = await receiver(() => ({ status: 200, delayMs: 10_000 }))
    const s = sender()
    const inFlight = post(s, `${rx.url}/hang`, '{}', 20_000)
    await new Promise((r) => setTimeout(r, 200))
    await s.close()
    expect(await inFlight).toMatchObject({ kind: 'error', code: 'network_error' })
    expect(await post(s, `${rx.url}/after`)).toMatchObject({ kind: 'error', message: 'sender is closed' })
  })
})

// Broker destinations publish from the same thread (src/destinations/broker-publisher.ts).
await describeWithBroker('redis', 'ThreadedSender: broker destinations', () => {
  it('publishes from the thread: the exact bytes, the carrier headers, the entry id as the answer', async () => {
    const s = sender()
    const stream = unique('thread')
    const r = new Redis(brokerUrls.redis)
    try {
      const body = Buffer.from('{"b":"\u00e9\u0000x"}')
      const req = toStream(stream, {
        body,
        headers: {
          'webhook-id': 'dlv_thread1',
          'x-delivery-hmac-sha256': 'sig',
          'user-agent': 'Hookpost/test',
        },
      })
      const first = await s.publish(req)
      expect(first).toMatchObject({ kind: 'acknowledged' })
      const second = await s.publish({ ...req, headers: { ...req.headers, 'webhook-id': 'dlv_thread2' } })
      const entries = await r.xrangeBuffer(stream, '-', '+')
      expect(entries.map(([id]) => id.toString())).toEqual([
        (first as { answer: string }).answer,
        (second as { answer: string }).answer,
      ])
      const fields = entries[0]![1].map((b) => b.toString('latin1'))
      expect(Buffer.from(fields[1]!, 'latin1').equals(body)).toBe(true)
      // HTTP's lower-case names become the contract's spelling; user-agent is HTTP's own.
      expect(fields.slice(2)).toEqual(['webhook-id', 'dlv_thread1', 'X-Delivery-Hmac-SHA256', 'sig'])
    } finally {
      await r.del(stream)
      r.disconnect()
    }
  })

  it('applies the address policy to broker hosts inside the thread', async () => {
    const s = new ThreadedSender({
      policy: { allowHttp: true, allowedCidrs: [] },
      ownApi: { host: '127.0.0.1', port: 0 },
      connectionsPerOrigin: 8,
      brokerConnectTimeoutMs: 2000,
    })
    senders.push(s)
    const out = await s.publish(toStream(unique('blocked')))
    expect(out).toMatchObject({ kind: 'error', code: 'blocked_address' })
  })

  it('closes its broker connections when closed', async () => {
    const s = sender()
    const r = new Redis(brokerUrls.redis)
    // Its own database: other suites running meanwhile open connections named hookpost too.
    const ours = async () =>
      String(await r.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((l) => / name=hookpost /.test(l) && / db=11 /.test(l)).length
    try {
      const before = await ours()
      const out = await s.publish(toStream(unique('close'), { url: `${brokerUrls.redis}/11` }))
      expect(out).toMatchObject({ kind: 'acknowledged' })
      expect(await ours()).toBe(before + 1)
      await s.close()
      for (let i = 0; i < 50 && (await ours()) > before; i++) await new Promise((res) => setTimeout(res, 20))
      expect(await ours()).toBe(before)
    } finally {
      r.disconnect()
    }
  })
})
