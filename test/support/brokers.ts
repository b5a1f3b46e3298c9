// The message brokers of the destination tests, on loopback: RabbitMQ 5672 (guest/guest), NATS
// with JetStream 4222, Redis 6379. A suite whose broker is down is skipped locally and FAILS
// under CI=true (.ci/run starts all three), like PostgreSQL's.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { describe, it } from 'vitest'

export const brokerPorts = { amqp: 5672, nats: 4222, redis: 6379 } as const
export type Broker = keyof typeof brokerPorts
export const brokerUrls = {
  amqp: 'amqp://guest:guest@127.0.0.1:5672',
  nats: 'nats://127.0.0.1:4222',
  redis: 'redis://127.0.0.1:6379',
} as const

export const brokersRequired = process.env['CI'] === 'true'

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ port, host })
    s.setTimeout(1000)
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
    s.once('timeout', () => {
      s.destroy()
      resolve(false)
    })
  })
}

/** describe() when the broker answers; a failing test under CI=true; describe.skip otherwise. */
export async function describeWithBroker(broker: Broker, name: string, body: () => void): Promise<void> {
  const up = await portOpen(brokerPorts[broker])
  if (up) describe(name, body)
  else if (brokersRequired)
    describe(name, () => {
      it(`needs ${broker} on 127.0.0.1:${brokerPorts[broker]} (CI=true makes it mandatory)`, () => {
        throw new Error(`${broker} is not listening on 127.0.0.1:${brokerPorts[broker]}`)
      })
    })
  else describe.skip(`${name} (skipped: ${broker} is not on 127.0.0.1:${brokerPorts[broker]})`, body)
}

/**
 * A TCP proxy to a broker that a test stops and starts: "the broker is down" without touching
 * the machine's real service. Stopping closes the listener and cuts every open connection.
 */
export class TcpProxy {
  readonly #target: number
  #server: Server | undefined
  readonly #sockets = new Set<Socket>()
  port = 0

  constructor(targetPort: number) {
    this.#target = targetPort
  }

  /** Listens (on the same port as before after a stop). */
  async start(): Promise<number> {
    const server = createServer((client) => {
      const upstream = tcpConnect({ port: this.#target, host: '127.0.0.1' })
      for (const s of [client, upstream]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
    const a = server.address()
    this.port = typeof a === 'object' && a ? a.port : 0
    this.#server = server
    return this.port
  }

  async stop(): Promise<void> {
    const s = this.#server
    this.#server = undefined
    for (const c of this.#sockets) c.destroy()
    this.#sockets.clear()
    if (s) await new Promise((r) => s.close(r))
  }
}

export const unique = (prefix: string): string =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
