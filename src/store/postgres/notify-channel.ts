// A PostgreSQL LISTEN/NOTIFY channel used as a wake-up hint ("something changed, look now"),
// never as the carrier of the change itself: a lost notification costs a listener one poll.
//
// Why NOTIFY is sent after the commit, from a connection of its own, with synchronous_commit off:
// a transaction that NOTIFYs takes a cluster-wide lock at commit and holds it through its WAL
// flush, so with NOTIFY inside the publish transaction every publish on every node committed one
// after the other, one fsync each (~100 publishes/s on a busy disk, whatever the pool size). A
// separate NOTIFY-only transaction that does not wait for its flush holds that lock for
// microseconds; bursts are coalesced, so there is at most one in flight and one more queued
// (carrying each distinct payload once).
import pg from 'pg'

export interface NotifyChannelOptions {
  /** Runs one NOTIFY statement for these payloads; tests replace it to count and pace them. */
  send?: (payloads: readonly string[]) => Promise<void>
  /** How long a dropped listening connection waits before reconnecting. */
  reconnectMs?: number
}

export class NotifyChannel {
  readonly #url: string
  readonly #channel: string
  readonly #send: (payloads: readonly string[]) => Promise<void>
  readonly #reconnectMs: number
  #client: Promise<pg.Client> | undefined
  #sending: Promise<void> | undefined
  #again = false
  #closed = false
  /** Payloads announced since the last NOTIFY was sent (a set: bursts repeat them). */
  #pending = new Set<string>()
  readonly #listeners = new Set<() => Promise<void>>()

  constructor(url: string, channel: string, options: NotifyChannelOptions = {}) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name ${channel}`)
    this.#url = url
    this.#channel = channel
    this.#send = options.send ?? ((payloads) => this.#notifyOnce(payloads))
    this.#reconnectMs = options.reconnectMs ?? 1000
  }

  /**
   * Announces a change that is already committed. Never waits and never throws: a NOTIFY in
   * flight absorbs every call made meanwhile into exactly one more after it. The payload (at
   * most 8000 bytes) tells listeners what changed, e.g. which environment.
   */
  notify(payload = ''): void {
    if (this.#closed) return
    this.#pending.add(payload)
    if (this.#sending !== undefined) {
      this.#again = true
      return
    }
    this.#sending = this.#loop()
  }

  /** Resolves once no NOTIFY is in flight or queued (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#sending !== undefined) await this.#sending
  }

  async #loop(): Promise<void> {
    try {
      do {
        this.#again = false
        const payloads = [...this.#pending]
        this.#pending.clear()
        await this.#send(payloads).catch(() => {
          // Listeners poll: a hint that could not be sent only costs them one poll interval.
        })
      } while (this.#again && !this.#closed)
    } finally {
      this.#sending = undefined
    }
  }

  async #notifyOnce(payloads: readonly string[]): Promise<void> {
    this.#client ??= this.#connect()
    let client: pg.Client
    try {
      client = await this.#client
      await client.query('select pg_notify($1, p) from unnest($2::text[]) as p', [this.#channel, payloads])
    } catch (e) {
      const dead = this.#client
      this.#client = undefined
      void dead?.then((c) => c.end()).catch(() => {})
      throw e
    }
  }

  async #connect(): Promise<pg.Client> {
    // Only a wake-up hint: committing it must not wait for the disk.
    const c = new pg.Client({ connectionString: this.#url, options: '-c synchronous_commit=off' })
    c.on('error', () => {
      if (this.#client !== undefined) this.#client = undefined
    })
    await c.connect()
    return c
  }

  /**
   * Calls onNotify for every notification on the channel, over a connection of its own that
   * reconnects after a drop (listeners keep polling meanwhile). Resolves to an unsubscribe.
   */
  async listen(onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let client: pg.Client | undefined
    let stopped = false
    let retry: NodeJS.Timeout | undefined
    const later = () => {
      if (stopped) return
      retry = setTimeout(() => void connect(), this.#reconnectMs)
      retry.unref()
    }
    const connect = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.#url })
      c.on('notification', (n) => onNotify(n.payload ?? ''))
      c.on('error', () => {
        if (stopped) return
        c.end().catch(() => {})
        later()
      })
      try {
        await c.connect()
        await c.query(`listen ${this.#channel}`)
        client = c
        if (stopped) await c.end().catch(() => {})
      } catch {
        await c.end().catch(() => {})
        later()
      }
    }
    await connect()
    const stop = async () => {
      stopped = true
      if (retry) clearTimeout(retry)
      this.#listeners.delete(stop)
      await client?.end().catch(() => {})
    }
    this.#listeners.add(stop)
    return stop
  }

  /** Ends the notifying connection and every listener. */
  async close(): Promise<void> {
    this.#closed = true
    await this.settled()
    for (const stop of [...this.#listeners]) await stop()
    const c = this.#client
    this.#client = undefined
    await c?.then((x) => x.end()).catch(() => {})
  }
}
