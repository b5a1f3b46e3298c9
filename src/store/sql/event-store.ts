// Events over Kysely (both adapters): the publish paths (group commit, one statement, one
// transaction; the writes themselves are publish-store.ts) and the test sent to one subscription.
import type { Kysely, Transaction } from 'kysely'
import type { PublishInput, PublishResult, Store } from '../store.ts'
import type { Database } from './database.ts'
import { HandOffs } from './hand-offs.ts'
import type { PreparedQueries } from './prepared-queries.ts'
import { deliveryRow, type FanOuts, publishAllIn } from './publish-store.ts'
import type { SqlContext, SqlDialectTraits } from './sql-store.ts'

/** Publishes per group commit (and per shared statement). */
const groupCommitMax = 64

/**
 * Body bytes per shared statement (PostgreSQL): its bodies travel as one array parameter, so a
 * turn's worth of large events is split rather than sent as one parameter of up to 64 MB.
 */
const sharedStatementBytesMax = 8 * 1024 * 1024

/** A single publish waiting for this turn's shared statement. */
interface Waiting {
  input: PublishInput
  resolve: (r: PublishResult) => void
  reject: (e: unknown) => void
}

/** The waiting publishes in statement-sized parts: at most groupCommitMax, and sharedStatementBytesMax of bodies. */
function statementParts(waiting: readonly Waiting[]): Waiting[][] {
  const parts: Waiting[][] = []
  let part: Waiting[] = []
  let bytes = 0
  for (const w of waiting) {
    const size = w.input.event.body.length
    if (part.length > 0 && (part.length === groupCommitMax || bytes + size > sharedStatementBytesMax)) {
      parts.push(part)
      part = []
      bytes = 0
    }
    part.push(w)
    bytes += size
  }
  if (part.length > 0) parts.push(part)
  return parts
}

export function sqlEvents(ctx: SqlContext): Store['events'] {
  const { db, traits, run } = ctx
  const publisher = new Publisher(ctx)
  return {
    get: (envId, id) =>
      run(async () => {
        const r = await db
          .selectFrom('events')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return (
          r && {
            id: r.id,
            envId: r.env_id,
            eventName: r.event_name,
            body: Buffer.from(r.body),
            idempotencyKey: r.idempotency_key,
            orderingKey: r.ordering_key,
            created: Number(r.created),
            traceparent: r.traceparent,
          }
        )
      }),
    publish: (input) => run(async () => (await publisher.publish([input], false))[0]!),
    publishBatch: (inputs) => run(() => publisher.publish(inputs, true)),
    publishToSubscription: ({ event, subscriptionId, deliveryId, attemptLimit }) =>
      run(async () => {
        const published = await db.transaction().execute(async (tx) => {
          const sub = await tx
            .selectFrom('subscriptions')
            .select(['id', 'held'])
            .where('id', '=', subscriptionId)
            .where('env_id', '=', event.envId)
            .where('active', '=', 1)
            .$if(traits.skipLocked, (q) => q.forShare())
            .executeTakeFirst()
          if (!sub) return false
          await tx
            .insertInto('events')
            .values({
              id: event.id,
              env_id: event.envId,
              event_name: event.eventName,
              body: event.body,
              idempotency_key: null,
              ordering_key: null,
              created: event.created,
              traceparent: event.traceparent ?? null,
              // Not in the feed: a test sent to one subscription is no published event.
              feed_tx: null,
              feed_seq: null,
            })
            .execute()
          const row = deliveryRow(event, subscriptionId, deliveryId, attemptLimit, null)
          // Held (paused, not verified): kept, sent once released.
          if (Number(sub.held) === 1) row.next_attempt_at = null
          await tx.insertInto('deliveries').values(row).execute()
          return true
        })
        if (published) traits.announceWork?.()
        return published
      }),
  }
}

/** The publish paths of one store: its group commit's queue and the publishes that go alone. */
class Publisher {
  readonly #db: Kysely<Database>
  readonly #traits: SqlDialectTraits
  readonly #prepared: PreparedQueries

  constructor({ db, traits, prepared }: SqlContext) {
    this.#db = db
    this.#traits = traits
    this.#prepared = prepared
  }

  #publishQueue: {
    inputs: readonly PublishInput[]
    batch: boolean
    resolve: (r: PublishResult[]) => void
    reject: (e: unknown) => void
  }[] = []
  #draining = false

  /**
   * With one writer (SQLite), concurrent publishes are committed together. The SQLite driver is
   * synchronous, so no request is read while a transaction runs: the batch is every publish that
   * reaches the store within one turn of the event loop (all the requests read in one poll),
   * written in one transaction. Each publish still gets its own answer only after that commit is
   * on disk (deferredSyncTransaction: the WAL's sync runs off the thread while the next group is
   * written). A batch publish joins as one unit: all its events or none.
   */
  publish(inputs: readonly PublishInput[], batch: boolean): Promise<PublishResult[]> {
    if (!this.#traits.groupCommit) {
      const one = !batch && inputs.length === 1 ? inputs[0]! : undefined
      if (one && this.#traits.publishStatement && one.idempotencyKey === null && !one.handOff)
        return this.#coalesce(one).then((r) => [r])
      return this.#publishAlone(inputs, batch)
    }
    return new Promise((resolve, reject) => {
      this.#publishQueue.push({ inputs, batch, resolve, reject })
      if (!this.#draining) {
        this.#draining = true
        setImmediate(() => void this.#drainPublishes())
      }
    })
  }

  async #drainPublishes(): Promise<void> {
    this.#draining = true
    try {
      while (this.#publishQueue.length > 0) {
        let n = 0
        let take = 0
        while (take < this.#publishQueue.length && n < groupCommitMax)
          n += this.#publishQueue[take++]!.inputs.length
        const batch = this.#publishQueue.splice(0, take)
        const handOffs = new HandOffs(this.#traits.handedOutsideDue)
        const write = async (tx: Transaction<Database>) => {
          const fanOuts: FanOuts = new Map()
          const out: PublishResult[][] = []
          for (const b of batch)
            out.push(await publishAllIn(tx, this.#traits, this.#prepared, b, fanOuts, handOffs))
          return out
        }
        let committed: { value: PublishResult[][]; durable: Promise<void> }
        try {
          committed = this.#traits.deferredSyncTransaction
            ? await this.#traits.deferredSyncTransaction(this.#db, write)
            : { value: await this.#db.transaction().execute(write), durable: Promise.resolve() }
        } catch {
          // One bad apple must not fail the others: each goes again on its own.
          for (const b of batch) await this.#publishAlone(b.inputs, b.batch).then(b.resolve, b.reject)
          continue
        }
        // Answered (and handed off) once on disk; the next group is written meanwhile. Syncs end
        // in commit order, so answers keep it too. A failed sync fails the group's publishes
        // (store_unavailable); their deliveries stay leased until the lease runs out.
        const results = committed.value
        committed.durable.then(
          () => {
            this.#announce(
              batch.flatMap((b) => b.inputs),
              results.flat(),
              handOffs,
            )
            for (const [k, b] of batch.entries()) b.resolve(results[k]!)
          },
          (e) => {
            for (const b of batch) b.reject(e)
          },
        )
        // The driver is synchronous: without a turn of the event loop between commits, a queue of
        // publishes would hold the thread for all of them, and the worker's sends and answers
        // (its deliveries' latency) with it.
        if (this.#publishQueue.length > 0) await new Promise((r) => setImmediate(r))
      }
    } finally {
      this.#draining = false
    }
  }

  /**
   * After a publish committed: tells workers that deliveries became due, and feed readers on
   * other nodes which environments got new events.
   */
  #announce(inputs: readonly PublishInput[], rs: readonly PublishResult[], handOffs: HandOffs): void {
    // The local worker's first: they are leased to it, and no claim looks for them.
    handOffs.deliver()
    if (handOffs.leftDue(inputs, rs)) this.#traits.announceWork?.()
    if (!this.#traits.announceFeed) return
    const envIds = new Set(inputs.filter((_, k) => !rs[k]?.replayed).map((i) => i.event.envId))
    if (envIds.size > 0) this.#traits.announceFeed([...envIds])
  }

  /** Single publishes of this turn waiting to share one statement, by environment. */
  readonly #coalesced = new Map<string, Waiting[]>()
  #coalescing = false

  /**
   * With concurrent writers (PostgreSQL), the plain single-event publishes that reach the store
   * within one turn of the event loop share one statement per environment (one round trip, one
   * commit) instead of one each; each still gets its answer only after that commit. A statement
   * that fails or must go the long way sends each of its publishes again on its own.
   */
  #coalesce(input: PublishInput): Promise<PublishResult> {
    return new Promise((resolve, reject) => {
      const waiting = this.#coalesced.get(input.event.envId)
      if (waiting) waiting.push({ input, resolve, reject })
      else this.#coalesced.set(input.event.envId, [{ input, resolve, reject }])
      if (this.#coalescing) return
      this.#coalescing = true
      setImmediate(() => {
        this.#coalescing = false
        const groups = [...this.#coalesced.values()]
        this.#coalesced.clear()
        for (const g of groups) for (const part of statementParts(g)) void this.#publishTogether(part)
      })
    })
  }

  async #publishTogether(part: readonly Waiting[]): Promise<void> {
    const inputs = part.map((p) => p.input)
    let done: PublishResult[] | undefined
    if (part.length > 1) {
      try {
        done = await this.#traits.publishStatement!(this.#db, inputs)
      } catch {
        // Nothing of it committed, or its events exist and their ids refuse a second insert:
        // each alone then answers for itself, as it would have without company.
        done = undefined
      }
    }
    if (done) {
      this.#announce(inputs, done, new HandOffs(this.#traits.handedOutsideDue))
      for (const [k, p] of part.entries()) p.resolve(done[k]!)
      return
    }
    await Promise.all(
      part.map((p) => this.#publishAlone([p.input], false).then((r) => p.resolve(r[0]!), p.reject)),
    )
  }

  async #publishAlone(
    inputs: readonly PublishInput[],
    batch: boolean,
    again = true,
  ): Promise<PublishResult[]> {
    const statement = this.#traits.publishStatement
    const done = statement && (await statement(this.#db, inputs))
    if (done) {
      this.#announce(inputs, done, new HandOffs(this.#traits.handedOutsideDue))
      return done
    }
    try {
      const handOffs = new HandOffs(this.#traits.handedOutsideDue)
      const rs = await this.#db
        .transaction()
        .execute((tx) =>
          publishAllIn(tx, this.#traits, this.#prepared, { inputs, batch }, new Map(), handOffs),
        )
      this.#announce(inputs, rs, handOffs)
      return rs
    } catch (e) {
      // Two API nodes raced on the same Idempotency-Key and the other committed first: once more,
      // and the key now answers with the winner's event (or idempotency_key_reused).
      if (again && inputs.some((i) => i.idempotencyKey !== null) && this.#traits.isUniqueViolation(e)) {
        return this.#publishAlone(inputs, batch, false)
      }
      throw e
    }
  }
}
