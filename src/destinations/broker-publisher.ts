// Publishes one delivery to a broker destination whose URL is already opened: the connection
// pool of each registered type, one deadline for connecting and publishing, the carrier's
// headers. It runs where the broker sockets are: in the worker's sending thread (beside the
// HTTP sender, src/outbound/sender-thread.ts), or on the main thread when that thread is off.
import type { AttemptOutcome } from '../deliveries/sender.ts'
import type { BrokerPort, BrokerRequest } from '../outbound/broker-port.ts'
import { brokerAddress, timedOut, unreachable, withDeadline } from './broker-address.ts'
import { brokerHeaders } from './broker-message.ts'
import { ConnectionPool } from './connection-pool.ts'
import type { BrokerDestinationType, BrokerTarget, ConnectContext } from './destination-type.ts'

export class BrokerPublisher implements BrokerPort {
  readonly #types = new Map<string, { type: BrokerDestinationType; pool: ConnectionPool }>()
  /** Targets by key: a URL is parsed once, not per delivery (the thread gets copies of fields). */
  readonly #targets = new Map<string, BrokerTarget>()

  constructor(types: readonly BrokerDestinationType[], connect: ConnectContext) {
    for (const type of types) {
      const pool = new ConnectionPool(async (url) => {
        const address = await brokerAddress(url, connect)
        return type.connect(url, address, connect)
      })
      this.#types.set(type.type, { type, pool })
    }
  }

  /** Open connections per type (tests, metrics). */
  connections(): Record<string, number> {
    return Object.fromEntries([...this.#types].map(([k, v]) => [k, v.pool.size]))
  }

  #targetOf(req: BrokerRequest): BrokerTarget {
    let t = this.#targets.get(req.key)
    if (!t) {
      if (this.#targets.size > 10_000) this.#targets.clear()
      t = { url: new URL(req.url), fields: req.fields }
      this.#targets.set(req.key, t)
    }
    return t
  }

  async publish(req: BrokerRequest): Promise<AttemptOutcome> {
    const t0 = performance.now()
    const took = () => Math.round(performance.now() - t0)
    const entry = this.#types.get(req.type)
    if (!entry) {
      return {
        kind: 'error',
        code: 'broker_refused',
        message: `destination type ${req.type} is not available on this node`,
        durationMs: 0,
      }
    }
    const target = this.#targetOf(req)
    const url = target.url
    const message = {
      body: req.body,
      headers: brokerHeaders(req.headers),
      id: req.headers['webhook-id'] ?? '',
    }
    // One deadline for connecting and publishing, as for HTTP (an open connection has no
    // connecting to wait for: the usual case costs no second timer).
    let c = entry.pool.ready(url)
    if (!c) {
      const conn = await withDeadline(
        entry.pool.get(url).then(
          (c) => ({ c }),
          (e: unknown) => ({ e }),
        ),
        req.timeoutMs,
        () => ({ e: 'timeout' as const }),
      )
      if ('e' in conn)
        return conn.e === 'timeout' ? timedOut(req.timeoutMs, took()) : unreachable(conn.e, url, took())
      c = conn.c
    }
    const open = c
    const left = Math.max(1, req.timeoutMs - took())
    try {
      const outcome = await withDeadline(open.publish(target, message, left), left, () => {
        // No answer in time: this connection may be wedged; the next attempt gets a fresh one.
        entry.pool.discard(url, open)
        return timedOut(req.timeoutMs, took())
      })
      outcome.durationMs = took()
      return outcome
    } catch (e) {
      entry.pool.discard(url, open)
      return unreachable(e, url, took())
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#types.values()].map((t) => t.pool.close()))
  }
}
