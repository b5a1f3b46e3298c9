// The relay: claims committed outbox rows (FOR UPDATE SKIP LOCKED, so several relays share the
// work), POSTs them to /events/batch with each row's idempotency key, and records the outcome
// in the same transaction. A relay that dies after Hookpost accepted a batch but before its
// commit leaves the rows pending: the next claim sends them again under the same keys, and
// Hookpost answers the events it already created. So every committed row is published at least
// once and becomes exactly one event.
import { type BatchAnswer, type HookpostTarget, postBatch } from './batch-publisher.js'
import type { MysqlPoolLike } from './mysql-relay-database.js'
import { DEFAULT_TABLE, OutboxTable, outboxMigration } from './outbox-table.js'
import type { PgPoolLike } from './postgres-relay-database.js'
import {
  type OutboxLag,
  openRelayDatabase,
  type PendingRow,
  type RelayDatabase,
  type RowOutcomes,
} from './relay-database.js'

export interface RelayLogEntry {
  level: 'info' | 'warn' | 'error'
  msg: string
  [field: string]: unknown
}

export interface RelayOptions {
  /**
   * The application's database: a URL (`postgres://…`, `mysql://…`, `mariadb://…`; the relay
   * opens a small pool of its own) or your own `pg` / `mysql2/promise` pool, with room for
   * `concurrency` + 2 connections (claims, the PostgreSQL LISTEN, lag queries).
   */
  database: string | { dialect: 'postgres'; pool: PgPoolLike } | { dialect: 'mysql'; pool: MysqlPoolLike }
  /** Default `hookpost_outbox`. */
  table?: string
  /** Where to publish, with a publisher credential. */
  hookpost: HookpostTarget
  /** Rows per POST /events/batch, 1 to 1000. Default 500. */
  batchSize?: number
  /**
   * Batches in flight at once, each claimed in its own transaction (SKIP LOCKED keeps them
   * apart). Default 1, which sends rows in id order; more trades that order for throughput, as
   * several relays do.
   */
  concurrency?: number
  /** A batch stops growing at this many bytes of payload. Default 4 MiB (the service takes 10 MB). */
  maxBatchBytes?: number
  /** Deadline of one POST. Default 30 s. */
  requestTimeoutMs?: number
  /** Polling when the table is empty starts at `min` and doubles up to `max`. Default 50 ms to 1 s. */
  idleDelayMs?: { min?: number; max?: number }
  /** Waiting after a failure doubles from `min` up to `max`. Default 500 ms to 30 s. */
  retryDelayMs?: { min?: number; max?: number }
  /** How often `run()` logs the lag (`outbox lag`); 0 never. Default 10 s. */
  lagLogIntervalMs?: number
  /** Receives the relay's log entries. Default: JSON lines on stderr. */
  log?: (entry: RelayLogEntry) => void
}

/** What one `step()` did. */
export type RelayStep =
  | { kind: 'idle' }
  /** Rows published and rows marked failed (refused by Hookpost, or not a JSON object). */
  | { kind: 'shipped'; published: number; failed: number }
  /** The batch as a whole was refused without naming a row: the next batches are smaller. */
  | { kind: 'split'; batchSize: number; error: string }
  /** Nothing was recorded; the rows stay pending and the relay waits `delayMs`. */
  | { kind: 'backoff'; delayMs: number; error: string }

export interface Relay {
  readonly table: string
  /** Claims one batch, ships it and records the outcome. */
  step(): Promise<RelayStep>
  /** Steps until `stop()`: straight on while there is work, polling with backoff when idle. */
  run(): Promise<void>
  /** Ends `run()` after the batch in flight is recorded. */
  stop(): Promise<void>
  /** Cuts an idle wait short (call it after committing rows, for a faster pick-up). */
  wake(): void
  /** How far behind the relay is. */
  lag(): Promise<OutboxLag>
  /** Creates the table and its index when missing (PostgreSQL: `notify` adds the NOTIFY trigger). */
  migrate(options?: { notify?: boolean }): Promise<void>
  /** Stops, then closes the pool the relay opened (never a pool you passed). */
  close(): Promise<void>
}

const MAX_RETRY_AFTER_MS = 5 * 60_000

function defaultLog(entry: RelayLogEntry): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`)
}

/** Why a row is not sent at all: its text must be one JSON object. */
function localProblem(payload: string): string | undefined {
  try {
    const v: unknown = JSON.parse(payload)
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'invalid_payload: not a JSON object'
    return undefined
  } catch (e) {
    return `invalid_json: ${(e as Error).message}`
  }
}

export async function createRelay(options: RelayOptions): Promise<Relay> {
  const db: RelayDatabase =
    typeof options.database === 'string'
      ? await openRelayDatabase(options.database, (options.concurrency ?? 1) + 2)
      : options.database.dialect === 'postgres'
        ? await (await import('./postgres-relay-database.js')).postgresRelayDatabase({
            pool: options.database.pool,
          })
        : await (await import('./mysql-relay-database.js')).mysqlRelayDatabase({
            pool: options.database.pool,
          })
  return new OutboxRelay(db, options)
}

class OutboxRelay implements Relay {
  readonly table: string
  readonly #db: RelayDatabase
  readonly #t: OutboxTable
  readonly #o: RelayOptions
  readonly #log: (entry: RelayLogEntry) => void
  readonly #batchSize: number
  #currentBatchSize: number
  #failures = 0
  #stopping = false
  #running: Promise<void> | undefined
  readonly #wakers = new Set<() => void>()
  #wokenEarly = false
  readonly #concurrency: number

  constructor(db: RelayDatabase, o: RelayOptions) {
    this.#db = db
    this.#o = o
    this.#t = new OutboxTable(db.dialect, o.table ?? DEFAULT_TABLE)
    this.table = this.#t.name
    const size = o.batchSize ?? 500
    if (!Number.isInteger(size) || size < 1 || size > 1000) {
      throw new RangeError('batchSize must be an integer from 1 to 1000 (POST /events/batch takes 1000)')
    }
    this.#batchSize = size
    this.#currentBatchSize = size
    const concurrency = o.concurrency ?? 1
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new RangeError('concurrency must be an integer from 1 to 64')
    }
    this.#concurrency = concurrency
    this.#log = o.log ?? defaultLog
  }

  lag(): Promise<OutboxLag> {
    return this.#db.lag(this.#t)
  }

  migrate(options: { notify?: boolean } = {}): Promise<void> {
    return this.#db.migrate(outboxMigration(this.#t, options))
  }

  async step(): Promise<RelayStep> {
    const claim = await this.#db.claim(this.#t, this.#currentBatchSize)
    if (claim === null) return { kind: 'idle' }
    try {
      return await this.#ship(claim.rows, claim.finish)
    } finally {
      await claim.abandon()
    }
  }

  async #ship(rows: PendingRow[], finish: (o: RowOutcomes) => Promise<void>): Promise<RelayStep> {
    const failed: RowOutcomes['failed'] = []
    const batch: PendingRow[] = []
    const maxBytes = this.#o.maxBatchBytes ?? 4 * 1024 * 1024
    let bytes = 0
    for (const row of rows) {
      const problem = localProblem(row.payload)
      if (problem !== undefined) {
        failed.push({ id: row.id, error: problem })
        continue
      }
      bytes += Buffer.byteLength(row.payload) + row.idempotencyKey.length + 64
      if (batch.length > 0 && bytes > maxBytes) break // the rest stays pending, for the next batch
      batch.push(row)
    }
    if (batch.length === 0) {
      await finish({ published: [], failed })
      this.#logFailed(failed)
      return { kind: 'shipped', published: 0, failed: failed.length }
    }
    const answer: BatchAnswer = await postBatch(this.#o.hookpost, batch, this.#o.requestTimeoutMs ?? 30_000)
    switch (answer.kind) {
      case 'accepted': {
        const published = batch.map((r, i) => ({ id: r.id, eventId: answer.eventIds[i] as string }))
        await finish({ published, failed })
        this.#logFailed(failed)
        this.#failures = 0
        this.#currentBatchSize = Math.min(this.#batchSize, this.#currentBatchSize * 2)
        return { kind: 'shipped', published: published.length, failed: failed.length }
      }
      case 'refused-items': {
        for (const [i, error] of answer.errors) failed.push({ id: (batch[i] as PendingRow).id, error })
        await finish({ published: [], failed })
        this.#logFailed(failed)
        return { kind: 'shipped', published: 0, failed: failed.length }
      }
      case 'refused-batch': {
        if (batch.length === 1) {
          failed.push({ id: (batch[0] as PendingRow).id, error: answer.error })
          await finish({ published: [], failed })
          this.#logFailed(failed)
          return { kind: 'shipped', published: 0, failed: failed.length }
        }
        await finish({ published: [], failed })
        this.#logFailed(failed)
        this.#currentBatchSize = Math.max(1, Math.floor(batch.length / 2))
        this.#log({
          level: 'warn',
          msg: 'outbox batch refused as a whole; trying smaller batches',
          error: answer.error,
          batchSize: this.#currentBatchSize,
        })
        return { kind: 'split', batchSize: this.#currentBatchSize, error: answer.error }
      }
      default: {
        // Nothing is recorded for the batch: its rows stay pending (a local failure still is).
        await finish({ published: [], failed })
        this.#logFailed(failed)
        this.#failures++
        const delayMs =
          answer.kind === 'retry' && answer.retryAfterMs !== undefined
            ? Math.min(answer.retryAfterMs, MAX_RETRY_AFTER_MS)
            : this.#retryDelay()
        this.#log({
          level: answer.kind === 'misconfigured' ? 'error' : 'warn',
          msg: 'outbox batch not published; retrying',
          error: answer.error,
          rows: batch.length,
          delayMs,
        })
        return { kind: 'backoff', delayMs, error: answer.error }
      }
    }
  }

  #retryDelay(): number {
    const min = this.#o.retryDelayMs?.min ?? 500
    const max = this.#o.retryDelayMs?.max ?? 30_000
    return Math.min(max, min * 2 ** Math.max(0, Math.min(this.#failures - 1, 20)))
  }

  #logFailed(failed: RowOutcomes['failed']): void {
    for (const f of failed) {
      this.#log({
        level: 'error',
        msg: 'outbox row refused; marked failed',
        table: this.table,
        id: f.id,
        error: f.error,
      })
    }
  }

  wake(): void {
    // A wake-up while no lane sleeps (rows committed during a claim that did not see them) is
    // kept for the next sleep, which then returns at once.
    if (this.#wakers.size === 0) this.#wokenEarly = true
    for (const wake of this.#wakers) wake()
  }

  #sleep(ms: number): Promise<void> {
    if (this.#stopping) return Promise.resolve()
    if (this.#wokenEarly) {
      this.#wokenEarly = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const wakers = this.#wakers
      function done() {
        clearTimeout(timer)
        wakers.delete(done)
        resolve()
      }
      wakers.add(done)
    })
  }

  run(): Promise<void> {
    this.#running ??= this.#lanes().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #lanes(): Promise<void> {
    this.#stopping = false
    this.#log({ level: 'info', msg: 'outbox relay started', table: this.table, dialect: this.#db.dialect })
    // PostgreSQL: with the NOTIFY trigger, committed rows wake the relay at once; polling stays.
    const unlisten = await this.#db
      .listen?.(this.#t, () => this.wake())
      .catch((e: Error) => {
        this.#log({ level: 'warn', msg: 'outbox relay polls only: LISTEN failed', error: e.message })
        return undefined
      })
    try {
      await Promise.all(Array.from({ length: this.#concurrency }, (_, lane) => this.#loop(lane === 0)))
    } finally {
      await unlisten?.()
    }
    this.#log({ level: 'info', msg: 'outbox relay stopped', table: this.table })
  }

  async #loop(logsLag: boolean): Promise<void> {
    const idleMin = this.#o.idleDelayMs?.min ?? 50
    const idleMax = this.#o.idleDelayMs?.max ?? 1000
    const lagEvery = this.#o.lagLogIntervalMs ?? 10_000
    let idle = idleMin
    let nextLagLog = logsLag && lagEvery > 0 ? Date.now() : Number.POSITIVE_INFINITY
    while (!this.#stopping) {
      if (Date.now() >= nextLagLog) {
        nextLagLog = Date.now() + lagEvery
        await this.lag().then(
          (lag) => this.#log({ level: 'info', msg: 'outbox lag', table: this.table, ...lag }),
          () => {},
        )
      }
      let s: RelayStep
      try {
        s = await this.step()
      } catch (e) {
        this.#failures++
        const delayMs = this.#retryDelay()
        this.#log({
          level: 'error',
          msg: 'outbox relay database error',
          error: (e as Error).message,
          delayMs,
        })
        await this.#sleep(delayMs)
        continue
      }
      if (s.kind === 'idle') {
        await this.#sleep(idle)
        idle = Math.min(idleMax, idle * 2)
      } else if (s.kind === 'backoff') {
        await this.#sleep(s.delayMs)
      } else {
        idle = idleMin
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true
    this.wake()
    await this.#running
  }

  async close(): Promise<void> {
    await this.stop()
    await this.#db.close()
  }
}
