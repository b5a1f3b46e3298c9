// The nats type's own JetStream acks (src/destinations/nats.ts): one inbox per connection takes
// every publish's answer and one timer answers the late ones. Against the real server: a subject
// whose responder never answers times out (and the connection goes on serving), a responder that
// answers like a refusing stream or with something else is a broker_nack, a subject nobody
// listens on is no_stream, the header block arrives exactly, closing waits for the acks in
// flight, and publishes waiting when the connection is lost fail (so the pool drops it).
import { jetstreamManager } from '@nats-io/jetstream'
import { type NatsConnection, connect as natsConnect, headers as natsHeaders } from '@nats-io/transport-node'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { BrokerConnection } from '../../src/destinations/destination-type.ts'
import { natsDestination } from '../../src/destinations/nats.ts'
import { compileAddressPolicy } from '../../src/network/address-policy.ts'
import { brokerPorts, brokerUrls, describeWithBroker, TcpProxy, unique } from '../support/brokers.ts'

const headers = {
  'content-type': 'application/json',
  'webhook-id': 'dlv_acks1',
  'webhook-timestamp': '1700000000',
  'webhook-signature': 'v1,abc=',
  'X-Delivery-Event': 'site.publish',
}

function open(port: number = brokerPorts.nats): Promise<BrokerConnection> {
  return natsDestination.connect(new URL(`nats://127.0.0.1:${port}`), '127.0.0.1', {
    policy: compileAddressPolicy({ allowHttp: true, allowedCidrs: ['127.0.0.0/8'] }),
    connectTimeoutMs: 2000,
  })
}

/** A header object's bytes on the wire (the client's headers encode themselves). */
const wire = (h: unknown) => Buffer.from((h as { encode(): Uint8Array }).encode()).toString()

const publish = (
  c: BrokerConnection,
  subject: string,
  timeoutMs = 5000,
  h: Record<string, string> = headers,
) =>
  c.publish(
    { url: new URL(brokerUrls.nats), fields: { subject } },
    { body: Buffer.from('{"a":1}'), headers: h, id: 'dlv_acks1' },
    timeoutMs,
  )

await describeWithBroker('nats', 'nats destination: JetStream acks on the connection inbox', () => {
  let nc: NatsConnection
  const streams: string[] = []
  beforeAll(async () => {
    nc = await natsConnect({ servers: '127.0.0.1:4222' })
  })
  afterAll(async () => {
    const jsm = await jetstreamManager(nc)
    for (const s of streams) await jsm.streams.delete(s).catch(() => {})
    await nc.close()
  })

  async function stream(): Promise<string> {
    const jsm = await jetstreamManager(nc)
    const name = unique('HPACKS')
    await jsm.streams.add({ name, subjects: [`${name}.>`] })
    streams.push(name)
    return name
  }

  it('a publish nobody acknowledges times out; the connection still delivers afterwards', async () => {
    const silent = unique('hpacks_silent')
    nc.subscribe(silent, { callback: () => {} }) // takes the message, never answers
    await nc.flush()
    const s = await stream()
    const c = await open()
    try {
      const t0 = performance.now()
      const late = await publish(c, silent, 300)
      const took = performance.now() - t0
      expect(late).toMatchObject({
        kind: 'error',
        code: 'timeout',
        message: 'no JetStream ack within 300 ms',
      })
      // Answered by the sweep: at the deadline, at most one sweep late.
      expect(took).toBeGreaterThanOrEqual(290)
      expect(took).toBeLessThan(2000)
      const ok = await publish(c, `${s}.in`)
      expect(ok.kind).toBe('acknowledged')
      expect(JSON.parse((ok as { answer: string }).answer)).toEqual({ stream: s, seq: 1 })
    } finally {
      await c.close()
    }
  })

  it("a responder answering like a refusing stream, or with no ack at all, is the broker's nack", async () => {
    const refusing = unique('hpacks_refusing')
    nc.subscribe(refusing, {
      callback: (_e, m) => {
        m.respond(
          JSON.stringify({ error: { code: 503, err_code: 10077, description: 'maximum messages exceeded' } }),
        )
      },
    })
    const odd = unique('hpacks_odd')
    nc.subscribe(odd, {
      callback: (_e, m) => {
        m.respond('hello')
      },
    })
    await nc.flush()
    const c = await open()
    try {
      expect(await publish(c, refusing)).toMatchObject({
        kind: 'error',
        code: 'broker_nack',
        message: 'the stream did not accept the message: maximum messages exceeded',
      })
      expect(await publish(c, odd)).toMatchObject({ kind: 'error', code: 'broker_nack' })
    } finally {
      await c.close()
    }
  })

  it('a subject no stream captures is no_stream, at once', async () => {
    const c = await open()
    try {
      const subject = unique('hpacks_none')
      expect(await publish(c, subject)).toMatchObject({
        kind: 'error',
        code: 'no_stream',
        message: `no JetStream stream captures ${subject}`,
      })
    } finally {
      await c.close()
    }
  })

  it('carries the headers exactly, names as given, as the client would; a line break in a value is refused', async () => {
    const s = await stream()
    const c = await open()
    try {
      expect((await publish(c, `${s}.in`)).kind).toBe('acknowledged')
      const jsm = await jetstreamManager(nc)
      const stored = await jsm.streams.getMessage(s, { seq: 1 })
      const expected = natsHeaders()
      for (const [k, v] of Object.entries(headers)) expected.set(k, v)
      expect(wire(stored!.header)).toBe(wire(expected))
      expect(stored!.header.get('X-Delivery-Event')).toBe('site.publish')
      await expect(publish(c, `${s}.in`, 5000, { ...headers, 'webhook-id': 'a\r\nb: c' })).rejects.toThrow(
        /cannot be carried/,
      )
      expect((await jsm.streams.info(s)).state.messages).toBe(1)
    } finally {
      await c.close()
    }
  })

  it('closing waits for the acks of publishes in flight', async () => {
    const slow = unique('hpacks_slow')
    nc.subscribe(slow, {
      callback: (_e, m) => {
        setTimeout(() => m.respond(JSON.stringify({ stream: 'SLOW', seq: 7 })), 300)
      },
    })
    await nc.flush()
    const c = await open()
    const inFlight = publish(c, slow)
    await new Promise((r) => setTimeout(r, 20))
    await c.close()
    expect(await inFlight).toMatchObject({ kind: 'acknowledged', answer: '{"stream":"SLOW","seq":7}' })
  })

  it('publishes still waiting when the connection is lost fail, so that the pool drops it', async () => {
    const silent = unique('hpacks_lost')
    nc.subscribe(silent, { callback: () => {} })
    await nc.flush()
    const proxy = new TcpProxy(brokerPorts.nats)
    const c = await open(await proxy.start())
    const closed = new Promise<void>((r) => c.onClose(r))
    const waiting = publish(c, silent, 30_000)
    await new Promise((r) => setTimeout(r, 100))
    // The broker goes away (its connections cut), with the publish still waiting for its ack.
    await proxy.stop()
    await closed
    await expect(waiting).rejects.toThrow(/closed/)
  })
})
