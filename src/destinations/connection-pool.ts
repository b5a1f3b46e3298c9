// One connection per distinct broker URL (credentials included), shared by every subscription
// that names it and reused across deliveries. A connection that fails to open is forgotten at
// once; one that closes later is forgotten when it closes: the next publish opens a new one.
import { withDeadline } from './broker-address.ts'
import type { BrokerConnection } from './destination-type.ts'

const closeDeadlineMs = 5000

export class ConnectionPool {
  readonly #open = new Map<string, Promise<BrokerConnection>>()
  /** The connections of #open that have opened, by the same key: no promise to wait for. */
  readonly #ready = new Map<string, BrokerConnection>()
  #closed = false

  readonly connect: (url: URL) => Promise<BrokerConnection>

  constructor(connect: (url: URL) => Promise<BrokerConnection>) {
    this.connect = connect
  }

  get size(): number {
    return this.#open.size
  }

  /** The open connection for `url`, when there is one (the common case: no deadline to set). */
  ready(url: URL): BrokerConnection | undefined {
    return this.#closed ? undefined : this.#ready.get(url.href)
  }

  get(url: URL): Promise<BrokerConnection> {
    if (this.#closed) return Promise.reject(new Error('shutting down'))
    const key = url.href
    let c = this.#open.get(key)
    if (!c) {
      c = this.connect(url).then(
        (conn) => {
          if (this.#open.get(key) === c) this.#ready.set(key, conn)
          conn.onClose(() => {
            if (this.#open.get(key) === c) this.#forget(key)
          })
          return conn
        },
        (e: unknown) => {
          if (this.#open.get(key) === c) this.#forget(key)
          throw e
        },
      )
      this.#open.set(key, c)
    }
    return c
  }

  /** Drops a connection that misbehaved (a publish timed out on it): the next one reconnects. */
  discard(url: URL, conn: BrokerConnection): void {
    const key = url.href
    if (this.#ready.get(key) === conn) {
      this.#forget(key)
      void conn.close().catch(() => {})
      return
    }
    const c = this.#open.get(key)
    if (!c) return
    void c.then(
      (open) => {
        if (open === conn && this.#open.get(key) === c) {
          this.#forget(key)
          void conn.close().catch(() => {})
        }
      },
      () => {},
    )
  }

  #forget(key: string): void {
    this.#open.delete(key)
    this.#ready.delete(key)
  }

  async close(): Promise<void> {
    this.#closed = true
    const all = [...this.#open.values()]
    this.#open.clear()
    this.#ready.clear()
    // A connection whose broker went silent must not hold up a shutdown.
    await Promise.all(
      all.map((c) =>
        withDeadline(
          c.then((conn) => conn.close()).catch(() => {}),
          closeDeadlineMs,
          () => {},
        ),
      ),
    )
  }
}
