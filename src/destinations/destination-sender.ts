// The Sender the worker talks to, over every registered destination type: a request without a
// broker destination goes to the HTTP sender (the threaded undici sender, unchanged), one with
// a destination to its type's publisher. Each type keeps its own connection pool.
import type { AttemptOutcome, OutboundDestination, OutboundRequest, Sender } from '../deliveries/sender.ts'
import { brokerAddress, timedOut, unreachable, withDeadline } from './broker-address.ts'
import { brokerHeaders } from './broker-message.ts'
import { ConnectionPool } from './connection-pool.ts'
import type { BrokerDestinationType, BrokerTarget, ConnectContext } from './destination-type.ts'

export interface DestinationSenderOptions {
  /** The http type: the existing HTTP sender. */
  http: Sender
  brokers: readonly BrokerDestinationType[]
  connect: ConnectContext
  /** Opens a sealed destination URL (the secret box, bound to the environment). */
  openUrl(sealed: { keyId: string; ciphertext: string }, envId: string): string
}

export class DestinationSender implements Sender {
  readonly #o: DestinationSenderOptions
  readonly #types = new Map<string, { type: BrokerDestinationType; pool: ConnectionPool }>()
  /** Opened URLs by ciphertext: opening costs an AES-GCM decryption per delivery otherwise. */
  readonly #urls = new Map<string, URL>()
  readonly #targets = new WeakMap<object, BrokerTarget>()

  constructor(o: DestinationSenderOptions) {
    this.#o = o
    for (const type of o.brokers) {
      const pool = new ConnectionPool(async (url) => {
        const address = await brokerAddress(url, o.connect)
        return type.connect(url, address, o.connect)
      })
      this.#types.set(type.type, { type, pool })
    }
  }

  /** Open connections per type (tests, metrics). */
  connections(): Record<string, number> {
    return Object.fromEntries([...this.#types].map(([k, v]) => [k, v.pool.size]))
  }

  send(req: OutboundRequest): Promise<AttemptOutcome> {
    const d = req.destination
    if (!d || d.type === 'http') return this.#o.http.send(req)
    return this.#publish(d, req)
  }

  #urlOf(d: OutboundDestination): URL {
    const sealed = d.sealedUrl
    if (!sealed) return new URL(d.fields['url'] ?? '')
    let u = this.#urls.get(sealed.ciphertext)
    if (!u) {
      u = new URL(this.#o.openUrl(sealed, d.envId))
      if (this.#urls.size > 10_000) this.#urls.clear()
      this.#urls.set(sealed.ciphertext, u)
    }
    return u
  }

  /** Where a destination publishes: its URL opened, its fields without the (shown) url. */
  #targetOf(d: OutboundDestination): BrokerTarget {
    // Keyed by the fields object, which the subscription cache keeps for as long as the row.
    let t = this.#targets.get(d.fields)
    if (!t) {
      const { url: _shown, ...fields } = d.fields
      t = { url: this.#urlOf(d), fields }
      this.#targets.set(d.fields, t)
    }
    return t
  }

  async #publish(d: OutboundDestination, req: OutboundRequest): Promise<AttemptOutcome> {
    const t0 = performance.now()
    const took = () => Math.round(performance.now() - t0)
    const entry = this.#types.get(d.type)
    if (!entry) {
      return {
        kind: 'error',
        code: 'broker_refused',
        message: `destination type ${d.type} is not available on this node`,
        durationMs: 0,
      }
    }
    const target = this.#targetOf(d)
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
    await Promise.all([this.#o.http.close(), ...[...this.#types.values()].map((t) => t.pool.close())])
  }
}
