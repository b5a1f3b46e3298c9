// The Store contract over Kysely, shared by both adapters. Dialect differences are declared in
// SqlDialectTraits (claim locking, unique-violation detection), never discovered inside a query.
import { type Insertable, type Kysely, sql, type Transaction } from 'kysely'
import { AppError } from '../../shared/errors.ts'
import { newId } from '../../shared/ids.ts'
import { pooledRandomBytes } from '../../shared/random-pool.ts'
import type {
  AuditEntryRow,
  ClaimedDelivery,
  ClaimInput,
  ClaimResult,
  ClaimScan,
  CompleteInput,
  CompletionRules,
  DeliveryStatus,
  OperationalEventType,
  PublishInput,
  PublishResult,
  SigningSecretRow,
  Store,
  StoreCapabilities,
  StoreReadiness,
} from '../store.ts'
import { deleteCredentialSessions, sqlDashboardSessions, sqlPortalLinks } from './access-store.ts'
import type { Database } from './database.ts'
import { destinationColumns, sqlDestinationSecrets } from './destination-columns.ts'
import { type FeedTraits, sqlFeed } from './feed-store.ts'
import { HandOffs } from './hand-offs.ts'
import { applyMigrations, type Migration } from './migrate.ts'
import { PreparedQueries } from './prepared-queries.ts'
import { deliveryRow, type FanOuts, publishAllIn } from './publish-store.ts'
import {
  type Db,
  endpointColumns,
  numOrNull,
  toAttempt,
  toCredential,
  toDelivery,
  toEnv,
  toOperationalEvent,
  toReplay,
  toSecret,
  toSubscription,
} from './row-mappers.ts'
import { sqlSigningKeyPairs } from './signing-key-pair-store.ts'
import { insertRows, listParams, listValues, padded } from './statement-shapes.ts'
import { StoreReadinessProbe } from './store-readiness.ts'
import { deleteBudget, settingsColumns, withinBudgets } from './subscription-budgets.ts'
import {
  applyHeld,
  claimVerifications,
  holdColumns,
  holdPending,
  holdWhereHeld,
  recordVerification,
} from './subscription-holds.ts'

/** The driver's code of an unavailable store's error, for the server log and readiness. */
function unavailableReason(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : ''
  return code || (e instanceof Error ? e.message.slice(0, 200) : 'unavailable')
}

export interface SqlDialectTraits extends FeedTraits {
  dialect: 'sqlite' | 'postgres'
  capabilities: StoreCapabilities
  migrations: readonly Migration[]
  /** Locks the claim's inner select so that concurrent claimers skip each other's rows. */
  skipLocked: boolean
  isUniqueViolation(e: unknown): boolean
  /** Disk full, read-only, I/O error, unreachable: answered 503 store_unavailable, never a 500. */
  isUnavailable(e: unknown): boolean
  onClose?: () => Promise<void>
  /**
   * Runs a worker's bookkeeping transaction (claims, outcomes, releases, replay steps, sweeps)
   * without waiting for an fsync: losing one to a power cut only means an attempt is made
   * again. Everything a client is told succeeded stays fully durable.
   */
  relaxedTransaction?: <T>(db: Kysely<Database>, fn: (tx: Transaction<Database>) => Promise<T>) => Promise<T>
  /** Taken inside the migration transaction (PostgreSQL: an advisory lock; SQLite's write lock suffices). */
  migrationLock?: (tx: Transaction<Database>) => Promise<void>
  /** Commit concurrent publishes together (one writer: SQLite). */
  groupCommit: boolean
  /**
   * Announces, after the commit, that deliveries became due (PostgreSQL: a coalesced NOTIFY of
   * its own, see notify-channel.ts). Never inside the transaction: a NOTIFY there serialises
   * every commit on the cluster.
   */
  announceWork?: () => void
  /**
   * Announces, after the commit, that these environments got events (the feed's long-poll on
   * other nodes; PostgreSQL: a coalesced NOTIFY of its own, like announceWork).
   */
  announceFeed?: (envIds: readonly string[]) => void
  /**
   * The next feed_seq (= feed_tx), taken inside the publish transaction, where one writer makes
   * it commit-ordered (SQLite). Absent: the columns' defaults (PostgreSQL).
   */
  nextFeedSeq?: (tx: Transaction<Database>) => Promise<number>
  /** Calls onWork whenever another process announces work; resolves to an unsubscribe. */
  listenWork?: (onWork: () => void) => Promise<() => Promise<void>>
  /**
   * A claim in one statement (PostgreSQL: postgres/claim-statement.ts); undefined when a picked
   * row's subscription has a budget (then nothing was leased and the claim runs in steps).
   * `orphans` gets leased rows whose subscription or event is gone.
   */
  claimStatement?: (
    db: Kysely<Database>,
    input: ClaimInput,
    token: string,
    orphans: string[],
  ) => Promise<ClaimResult | undefined>
  /**
   * A publish of one event in one statement (PostgreSQL: postgres/publish-statement.ts);
   * undefined when it must take the transaction (nothing was written).
   */
  publishStatement?: (db: Kysely<Database>, input: PublishInput) => Promise<PublishResult | undefined>
}

/** An operational event is offered to the operator webhook at most this many times. */
export const maxOperationalSendAttempts = 20

/**
 * 'pending' inlined as a literal: the partial indexes (`where status = 'pending'`) can serve a
 * query only when its condition visibly implies theirs, which a bound parameter does not.
 */
const pendingLiteral = sql.lit('pending')

/** Publishes per group commit. */
const groupCommitMax = 64

export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres'
  readonly capabilities: StoreCapabilities
  readonly #db: Kysely<Database>
  readonly #traits: SqlDialectTraits
  readonly #prepared = new PreparedQueries()
  readonly #readiness: StoreReadinessProbe
  readonly dashboardSessions: Store['dashboardSessions']
  readonly portalLinks: Store['portalLinks']
  readonly feed: Store['feed']
  readonly signingKeyPairs: Store['signingKeyPairs']
  readonly destinationSecrets: Store['destinationSecrets']

  constructor(db: Kysely<Database>, traits: SqlDialectTraits) {
    this.#db = db
    this.#traits = traits
    this.#readiness = new StoreReadinessProbe(db, (e) =>
      traits.isUnavailable(e) ? unavailableReason(e) : undefined,
    )
    this.dialect = traits.dialect
    this.capabilities = traits.capabilities
    const run = <T>(fn: () => Promise<T>) => this.#run(fn)
    this.dashboardSessions = sqlDashboardSessions(db, run, this.#prepared)
    this.portalLinks = sqlPortalLinks(db, run)
    this.feed = sqlFeed(db, run, traits)
    this.signingKeyPairs = sqlSigningKeyPairs(db, run)
    this.destinationSecrets = sqlDestinationSecrets(db, run)
  }

  /** Runs fn; translates driver failures into the contract's errors. */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (e) {
      if (e instanceof AppError) throw e
      if (this.#traits.isUniqueViolation(e)) throw new AppError('conflict', { cause: e })
      if (this.#traits.isUnavailable(e)) {
        this.#readiness.observe(e)
        throw new AppError('store_unavailable', { cause: e })
      }
      throw e
    }
  }

  readiness(): Promise<StoreReadiness> {
    return this.#readiness.readiness()
  }

  #relaxed<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#traits.relaxedTransaction
      ? this.#traits.relaxedTransaction(this.#db, fn)
      : this.#db.transaction().execute(fn)
  }

  work: Store['work'] = {
    listen: (onWork) =>
      this.#traits.listenWork ? this.#traits.listenWork(onWork) : Promise.resolve(async () => {}),
  }

  migrate(): Promise<void> {
    return this.#run(() => applyMigrations(this.#db, this.#traits.migrations, this.#traits.migrationLock))
  }

  async close(): Promise<void> {
    await this.#db.destroy()
    await this.#traits.onClose?.()
  }

  environments: Store['environments'] = {
    create: (env, first) =>
      this.#run(() =>
        this.#db.transaction().execute(async (tx) => {
          await tx
            .insertInto('environments')
            .values({
              id: env.id,
              name: env.name,
              signature_encoding: env.signatureEncoding,
              created: env.created,
            })
            .execute()
          await insertSecret(tx, first)
        }),
      ),
    list: () =>
      this.#run(async () =>
        (await this.#db.selectFrom('environments').selectAll().orderBy('id').execute()).map(toEnv),
      ),
    get: (id) =>
      this.#run(async () => {
        const r = await this.#db
          .selectFrom('environments')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst()
        return r && toEnv(r)
      }),
  }

  credentials: Store['credentials'] = {
    create: (c) =>
      this.#run(async () => {
        await this.#db
          .insertInto('credentials')
          .values({
            id: c.id,
            env_id: c.envId,
            role: c.role,
            name: c.name,
            key: c.key,
            secret_hash: c.secretHash,
            created: c.created,
            revoked: c.revoked,
          })
          .execute()
      }),
    findByKey: (key) =>
      this.#run(async () => {
        // Every API request authenticates: prepared once.
        const q = this.#prepared.get('credentials.byKey', (p) =>
          this.#db.selectFrom('credentials').selectAll().where('key', '=', p('key')),
        )
        const r = (await this.#db.executeQuery(q.bind({ key }))).rows[0]
        return r && toCredential(r)
      }),
    list: (envId) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('credentials')
            .selectAll()
            .where('env_id', '=', envId)
            .orderBy('id')
            .execute()
        ).map(toCredential),
      ),
    revoke: (envId, id, now) =>
      this.#run(() =>
        this.#db.transaction().execute(async (tx) => {
          const r = await tx
            .updateTable('credentials')
            .set({ revoked: now })
            .where('id', '=', id)
            .where('env_id', '=', envId)
            .where('revoked', 'is', null)
            .executeTakeFirst()
          if (Number(r.numUpdatedRows) === 0) return false
          await deleteCredentialSessions(tx, id)
          return true
        }),
      ),
  }

  secrets: Store['secrets'] = {
    rotate: (row, expires) =>
      this.#run(() =>
        this.#db.transaction().execute(async (tx) => {
          const previous: SigningSecretRow[] = []
          for (const [revealed, at] of [
            [1, expires.revealed],
            [0, expires.unrevealed],
          ] as const) {
            const rows = await tx
              .updateTable('signing_secrets')
              .set({ expires: at })
              .where('env_id', '=', row.envId)
              .where('expires', 'is', null)
              .where('revealed', '=', revealed)
              .returningAll()
              .execute()
            previous.push(...rows.map(toSecret))
          }
          await insertSecret(tx, row)
          return previous
        }),
      ),
    listValid: (envIds, now) =>
      this.#run(async () => {
        if (envIds.length === 0) return []
        const rows = await this.#db
          .selectFrom('signing_secrets')
          .selectAll()
          .where('env_id', 'in', [...envIds])
          .where((w) => w.or([w('expires', 'is', null), w('expires', '>', now)]))
          .orderBy('env_id')
          .orderBy('created', 'desc')
          .orderBy('id', 'desc')
          .execute()
        return rows.map(toSecret)
      }),
    listAll: (afterId, limit) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('signing_secrets')
            .selectAll()
            .$if(afterId !== null, (q) => q.where('id', '>', afterId!))
            .orderBy('id')
            .limit(limit)
            .execute()
        ).map(toSecret),
      ),
    reseal: (id, keyId, ciphertext) =>
      this.#run(async () => {
        const r = await this.#db
          .updateTable('signing_secrets')
          .set({ key_id: keyId, ciphertext })
          .where('id', '=', id)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) > 0
      }),
  }

  subscriptions: Store['subscriptions'] = {
    list: (envId) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('subscriptions')
            .selectAll()
            .where('env_id', '=', envId)
            .orderBy('id')
            .execute()
        ).map(toSubscription),
      ),
    get: (envId, id) =>
      this.#run(async () => {
        const r = await this.#db
          .selectFrom('subscriptions')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return r && toSubscription(r)
      }),
    getMany: (ids) =>
      this.#run(async () =>
        ids.length === 0
          ? []
          : (
              await this.#db
                .selectFrom('subscriptions')
                .selectAll()
                .where('id', 'in', [...ids])
                .execute()
            ).map(toSubscription),
      ),
    create: (s) =>
      this.#run(async () => {
        await this.#db
          .insertInto('subscriptions')
          .values({
            id: s.id,
            env_id: s.envId,
            event: s.event,
            url: s.url,
            active: s.active ? 1 : 0,
            ordered: s.ordered ? 1 : 0,
            created: s.created,
            updated: s.updated,
            ...destinationColumns(s),
            ...endpointColumns(s),
            ...settingsColumns(s.settings),
            transformation: s.transformation ?? null,
            ...holdColumns(s),
          })
          .execute()
      }),
    update: (s) =>
      this.#run(async () => {
        let released = false
        const updated = await this.#db.transaction().execute(async (tx) => {
          // Locked (PostgreSQL) so that a verification recorded meanwhile cannot interleave.
          const before = await tx
            .selectFrom('subscriptions')
            .select('held')
            .where('env_id', '=', s.envId)
            .where('id', '=', s.id)
            .$if(this.#traits.skipLocked, (q) => q.forUpdate())
            .executeTakeFirst()
          if (!before) return false
          const r = await tx
            .updateTable('subscriptions')
            .set({
              event: s.event,
              url: s.url,
              active: s.active ? 1 : 0,
              ordered: s.ordered ? 1 : 0,
              updated: s.updated,
              deactivated_reason: s.deactivatedReason,
              transformation: s.transformation ?? null,
              consecutive_failures: s.health.consecutiveFailures,
              failing_since: s.health.failingSince,
              ...destinationColumns(s),
              ...endpointColumns(s),
              ...settingsColumns(s.settings),
              ...holdColumns(s),
            })
            .where('env_id', '=', s.envId)
            .where('id', '=', s.id)
            .executeTakeFirst()
          if (Number(r.numUpdatedRows) === 0) return false
          if (!s.active) await cancelPending(tx, s.id, s.updated, 'subscription_inactive')
          else released = await applyHeld(tx, s, Number(before.held) === 1, s.updated)
          return true
        })
        if (released) this.#traits.announceWork?.()
        return updated
      }),
    delete: (envId, id, now) =>
      this.#run(() =>
        this.#db.transaction().execute(async (tx) => {
          const r = await tx
            .deleteFrom('subscriptions')
            .where('env_id', '=', envId)
            .where('id', '=', id)
            .executeTakeFirst()
          if (Number(r.numDeletedRows) === 0) return false
          await cancelPending(tx, id, now, 'subscription_deleted')
          await deleteBudget(tx, id)
          return true
        }),
      ),
    claimVerifications: (now, limit, leaseMs) =>
      this.#run(async () => {
        const ids = await this.#relaxed((tx) =>
          claimVerifications(tx, now, limit, leaseMs, this.#traits.skipLocked),
        )
        return this.subscriptions.getMany(ids)
      }),
    recordVerification: (id, challenge, outcome, now) =>
      this.#run(async () => {
        const r = await this.#db
          .transaction()
          .execute((tx) => recordVerification(tx, id, challenge, outcome, now))
        if (r.released) this.#traits.announceWork?.()
        return r.applied
      }),
    listSealedEndpoints: (afterId, limit) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('subscriptions')
            .select(['id', 'env_id', 'endpoint_secret_key_id', 'endpoint_secret'])
            .where('endpoint_secret', 'is not', null)
            .$if(afterId !== null, (q) => q.where('id', '>', afterId!))
            .orderBy('id')
            .limit(limit)
            .execute()
        ).map((r) => ({
          id: r.id,
          envId: r.env_id,
          keyId: r.endpoint_secret_key_id ?? '',
          ciphertext: r.endpoint_secret ?? '',
        })),
      ),
    resealEndpoint: (id, keyId, ciphertext) =>
      this.#run(async () => {
        const r = await this.#db
          .updateTable('subscriptions')
          .set({ endpoint_secret_key_id: keyId, endpoint_secret: ciphertext })
          .where('id', '=', id)
          .where('endpoint_secret', 'is not', null)
          .executeTakeFirst()
        return Number(r.numUpdatedRows) > 0
      }),
  }

  events: Store['events'] = {
    get: (envId, id) =>
      this.#run(async () => {
        const r = await this.#db
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
    publish: (input) => this.#run(async () => (await this.#publish([input], false))[0]!),
    publishBatch: (inputs) => this.#run(() => this.#publish(inputs, true)),
    publishToSubscription: ({ event, subscriptionId, deliveryId, attemptLimit }) =>
      this.#run(async () => {
        const published = await this.#db.transaction().execute(async (tx) => {
          const sub = await tx
            .selectFrom('subscriptions')
            .select(['id', 'held'])
            .where('id', '=', subscriptionId)
            .where('env_id', '=', event.envId)
            .where('active', '=', 1)
            .$if(this.#traits.skipLocked, (q) => q.forShare())
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
        if (published) this.#traits.announceWork?.()
        return published
      }),
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
   * synchronous, so no request is read while a commit waits for its fsync: the batch is instead
   * every publish that reaches the store within one turn of the event loop (all the requests
   * read in one poll), written in one transaction with one fsync. Each publish still gets its
   * own answer only after that commit. A batch publish joins as one unit: all its events or none.
   */
  #publish(inputs: readonly PublishInput[], batch: boolean): Promise<PublishResult[]> {
    if (!this.#traits.groupCommit) return this.#publishAlone(inputs, batch)
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
        let results: PublishResult[][]
        try {
          const handOffs = new HandOffs()
          results = await this.#db.transaction().execute(async (tx) => {
            const fanOuts: FanOuts = new Map()
            const out: PublishResult[][] = []
            for (const b of batch)
              out.push(await publishAllIn(tx, this.#traits, this.#prepared, b, fanOuts, handOffs))
            return out
          })
          this.#announce(
            batch.flatMap((b) => b.inputs),
            results.flat(),
            handOffs,
          )
        } catch {
          // One bad apple must not fail the others: each goes again on its own.
          for (const b of batch) await this.#publishAlone(b.inputs, b.batch).then(b.resolve, b.reject)
          continue
        }
        for (const [k, b] of batch.entries()) b.resolve(results[k]!)
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

  async #publishAlone(
    inputs: readonly PublishInput[],
    batch: boolean,
    again = true,
  ): Promise<PublishResult[]> {
    const alone = !batch && inputs.length === 1 ? this.#traits.publishStatement : undefined
    const one = alone && (await alone(this.#db, inputs[0]!))
    if (one) {
      this.#announce(inputs, [one], new HandOffs())
      return [one]
    }
    try {
      const handOffs = new HandOffs()
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

  deliveries: Store['deliveries'] = {
    list: (envId, f) =>
      this.#run(async () => {
        const rows = await this.#db
          .selectFrom('deliveries')
          .selectAll()
          .where('env_id', '=', envId)
          .$if(f.subscriptionId !== undefined, (q) => q.where('subscription_id', '=', f.subscriptionId!))
          .$if(f.status !== undefined, (q) => q.where('status', '=', f.status!))
          .$if(f.beforeId !== undefined, (q) => q.where('id', '<', f.beforeId!))
          .orderBy('id', 'desc')
          .limit(f.limit)
          .execute()
        return rows.map(toDelivery)
      }),
    get: (envId, id) =>
      this.#run(async () => {
        const r = await this.#db
          .selectFrom('deliveries')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return r && toDelivery(r)
      }),
    attempts: (deliveryId) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('attempts')
            .selectAll()
            .where('delivery_id', '=', deliveryId)
            .orderBy('number')
            .execute()
        ).map(toAttempt),
      ),
    retryNow: (envId, id, now, { attemptLimit, seen }) =>
      this.#run(async () => {
        const r = await this.#db
          .updateTable('deliveries')
          .set({ status: 'pending', next_attempt_at: now, attempt_limit: attemptLimit, updated: now })
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .where('status', '=', seen.status)
          .where('attempts', '=', seen.attempts)
          .where('attempt_limit', '=', seen.attemptLimit)
          .where((w) =>
            w.not(
              w.exists(
                w
                  .selectFrom('subscriptions')
                  .select('subscriptions.id')
                  .whereRef('subscriptions.id', '=', 'deliveries.subscription_id')
                  .where('subscriptions.held', '=', 1),
              ),
            ),
          )
          // An attempt in flight holds a lease whose expiry is in the future.
          .where((w) =>
            w.or([
              w('lease_token', 'is', null),
              w('next_attempt_at', '<=', now),
              w('status', '!=', 'pending'),
            ]),
          )
          .returningAll()
          .executeTakeFirst()
        if (r) this.#traits.announceWork?.()
        return r && toDelivery(r)
      }),
    claimDue: (input) => this.#run(() => this.#claim(input)),
    complete: (results, now, rules) => this.#run(() => this.#complete(results, now, rules)),
    dueSubscriptions: (now, limit) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('deliveries')
            // Read from deliveries_sub_due (pending rows only, by subscription): 50 ms with 300k
            // pending beside 300k delivered, where the (subscription_id, created) index walked
            // every delivery ever kept (435 ms, growing with the history).
            .select(['subscription_id', (eb) => eb.fn.min('next_attempt_at').as('oldest')])
            .where('status', '=', pendingLiteral)
            .where('next_attempt_at', '<=', now)
            .groupBy('subscription_id')
            .orderBy('oldest')
            .limit(limit)
            .execute()
        ).map((r) => r.subscription_id),
      ),
    backlog: (now) =>
      this.#run(async () => {
        const r = await this.#db
          .selectFrom('deliveries')
          .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('next_attempt_at').as('oldest')])
          .where('status', '=', pendingLiteral)
          .executeTakeFirstOrThrow()
        const oldest = r.oldest === null ? null : Number(r.oldest)
        return { pending: Number(r.n), oldestDueAt: oldest !== null && oldest <= now ? oldest : null }
      }),
    release: (items, now) =>
      this.#run(async () => {
        if (items.length === 0) return
        await this.#relaxed(async (tx) => {
          const subs: string[] = []
          for (const it of items) {
            const r = await tx
              .updateTable('deliveries')
              .set((eb) => ({
                lease_token: null,
                next_attempt_at: now,
                attempts: eb('attempts', '-', 1),
                updated: now,
              }))
              .where('id', '=', it.id)
              .where('lease_token', '=', it.leaseToken)
              .where('status', '=', 'pending')
              .returning('subscription_id')
              .executeTakeFirst()
            if (r) subs.push(r.subscription_id)
          }
          // Given back while its subscription is held: it waits there instead.
          await holdWhereHeld(tx, subs, now, this.#traits.skipLocked)
        })
      }),
  }

  async #claim(input: ClaimInput): Promise<ClaimResult> {
    const token = pooledRandomBytes(12).toString('base64url')
    const leaseUntil = input.now + input.leaseMs
    if (this.#traits.claimStatement) {
      const orphans: string[] = []
      const claimed = await this.#traits.claimStatement(this.#db, input, token, orphans)
      if (orphans.length > 0) await cancelOrphans(this.#db, orphans, token)
      if (claimed) return claimed
    }
    return this.#relaxed(async (tx) => {
      const due: DueRow[] = []
      const drained = new Set<string>()
      for (const s of input.serve ?? []) {
        const limit = Math.min(s.limit, input.limit - due.length)
        if (limit <= 0) break
        const rows = await this.#findDue(tx, { now: input.now, limit, only: s.subscriptionId })
        if (rows.length < limit) drained.add(s.subscriptionId)
        due.push(...rows)
      }
      let scanExhausted = false
      const crowded = new Set<string>()
      const scan = input.scan
      const left = input.limit - due.length
      if (scan && left > 0) {
        // With a per-subscription cap, look further than the limit: the first due rows may all
        // belong to one subscription with little room.
        const candidates = scan.room ? left * 2 : left
        const found = await this.#findDue(tx, {
          now: input.now,
          limit: candidates,
          exclude: scan.exclude,
          dueAfter: scan.dueAfter,
        })
        scanExhausted = found.length < candidates
        due.push(...(scan.room ? withinRoom(found, scan.room, left, crowded) : found))
      }
      const budgeted = await this.#withinBudgets(tx, due, input.now)
      const claimed =
        budgeted.rows.length === 0 ? [] : await this.#lease(tx, budgeted.rows, input, token, leaseUntil)
      return { deliveries: claimed, scanExhausted, drained, crowded, throttled: budgeted.throttled }
    })
  }

  /** The due rows within their subscriptions' budgets (rateLimit, maxInFlight): subscription-budgets.ts. */
  async #withinBudgets(
    tx: Transaction<Database>,
    due: DueRow[],
    now: number,
  ): Promise<{ rows: DueRow[]; throttled: Map<string, number> }> {
    if (due.length === 0) return { rows: due, throttled: new Map() }
    const subIds = padded([...new Set(due.map((r) => r.subscription_id))])
    const limitedOf = this.#prepared.get(`claim.limited:${subIds.length}`, (p) =>
      tx
        .selectFrom('subscriptions')
        .select(['id', 'rate_limit_count', 'rate_limit_period_ms', 'max_in_flight'])
        .where('id', 'in', listParams(p, 'id', subIds.length))
        .where((w) => w.or([w('rate_limit_count', 'is not', null), w('max_in_flight', 'is not', null)])),
    )
    const limited = (await tx.executeQuery(limitedOf.bind(listValues('id', subIds)))).rows
    if (limited.length === 0) return { rows: due, throttled: new Map() }
    return withinBudgets(tx, due, limited, now, this.#traits.skipLocked)
  }

  /** Due rows, oldest first: of one subscription (its own index range) or across all but some. */
  async #findDue(
    tx: Transaction<Database>,
    q: {
      now: number
      limit: number
      only?: string
      exclude?: readonly string[]
      dueAfter?: number | undefined
    },
  ): Promise<DueRow[]> {
    const exclude = q.exclude ?? []
    const only = q.only
    const after = q.dueAfter !== undefined
    // Prepared per shape (how many subscriptions are left out, one subscription or all).
    const findDue = this.#prepared.get(
      `claim.due:${exclude.length}:${only === undefined ? 0 : 1}:${after ? 1 : 0}`,
      (p) =>
        tx
          .selectFrom('deliveries as d')
          .select(['d.id', 'd.next_attempt_at', 'd.subscription_id'])
          .where('d.status', '=', pendingLiteral)
          .where('d.next_attempt_at', '<=', p('now'))
          .$if(after, (w) => w.where('d.next_attempt_at', '>', p('after')))
          .$if(exclude.length > 0, (w) =>
            w.where('d.subscription_id', 'not in', listParams(p, 'x', exclude.length)),
          )
          .$if(only !== undefined, (w) => w.where('d.subscription_id', '=', p('only')))
          // Ordered deliveries: only the head of each (subscription, key) chain may go.
          .where((w) =>
            w.or([
              w('d.ordering_key', 'is', null),
              w.not(
                w.exists(
                  w
                    .selectFrom('deliveries as p')
                    .select('p.id')
                    .whereRef('p.subscription_id', '=', 'd.subscription_id')
                    .whereRef('p.ordering_key', '=', 'd.ordering_key')
                    .where('p.status', '=', pendingLiteral)
                    .whereRef('p.id', '<', 'd.id'),
                ),
              ),
            ]),
          )
          .orderBy('d.next_attempt_at')
          .limit(p('limit'))
          .$if(this.#traits.skipLocked, (w) => w.forUpdate().skipLocked()),
    )
    const values: Record<string, unknown> = {
      now: q.now,
      limit: q.limit,
      only: only ?? null,
      after: q.dueAfter ?? null,
    }
    Object.assign(values, listValues('x', exclude))
    return (await tx.executeQuery(findDue.bind(values))).rows
  }

  async #lease(
    tx: Transaction<Database>,
    due: readonly DueRow[],
    input: ClaimInput,
    token: string,
    leaseUntil: number,
  ): Promise<ClaimedDelivery[]> {
    const dueAt = new Map(due.map((r) => [r.id, Number(r.next_attempt_at)]))
    const ids = padded([...dueAt.keys()])
    const lease = this.#prepared.get(`claim.lease:${ids.length}`, (p) =>
      tx
        .updateTable('deliveries')
        .set((eb) => ({
          lease_token: p('token'),
          next_attempt_at: p('leaseUntil'),
          attempts: eb('attempts', '+', 1),
          updated: p('now'),
        }))
        .where('id', 'in', listParams(p, 'id', ids.length))
        .returning([
          'id',
          'env_id',
          'event_id',
          'subscription_id',
          'event',
          'attempts',
          'attempt_limit',
          'ordering_key',
        ]),
    )
    const claimed = (
      await tx.executeQuery(lease.bind({ token, leaseUntil, now: input.now, ...listValues('id', ids) }))
    ).rows
    if (claimed.length === 0) return []
    const eventIds = padded([...new Set(claimed.map((c) => c.event_id))])
    const subIds = padded([...new Set(claimed.map((c) => c.subscription_id))])
    const bodiesOf = this.#prepared.get(`claim.bodies:${eventIds.length}`, (p) =>
      tx
        .selectFrom('events')
        .select(['id', 'body', 'traceparent'])
        .where('id', 'in', listParams(p, 'id', eventIds.length)),
    )
    const bodies = new Map<string, Buffer>()
    const traces = new Map<string, string | null>()
    for (const r of (await tx.executeQuery(bodiesOf.bind(listValues('id', eventIds)))).rows) {
      // Both drivers hand a BLOB back as a Buffer of its own: no copy needed.
      bodies.set(r.id, Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body))
      traces.set(r.id, r.traceparent)
    }
    const urlsOf = this.#prepared.get(`claim.urls:${subIds.length}`, (p) =>
      tx
        .selectFrom('subscriptions')
        .select(['id', 'url', 'updated'])
        .where('id', 'in', listParams(p, 'id', subIds.length)),
    )
    const urls = new Map<string, string>()
    const versions = new Map<string, number>()
    for (const r of (await tx.executeQuery(urlsOf.bind(listValues('id', subIds)))).rows) {
      urls.set(r.id, r.url)
      versions.set(r.id, Number(r.updated))
    }
    const out: ClaimedDelivery[] = []
    const orphans: string[] = []
    for (const c of claimed) {
      const body = bodies.get(c.event_id)
      const url = urls.get(c.subscription_id)
      if (body === undefined || url === undefined) {
        orphans.push(c.id)
        continue
      }
      out.push({
        id: c.id,
        envId: c.env_id,
        eventId: c.event_id,
        subscriptionId: c.subscription_id,
        event: c.event,
        attempts: c.attempts,
        attemptLimit: c.attempt_limit,
        leaseToken: token,
        url,
        subscriptionUpdated: versions.get(c.subscription_id) ?? 0,
        body,
        orderingKey: c.ordering_key,
        traceparent: traces.get(c.event_id) ?? null,
        dueAt: dueAt.get(c.id) ?? input.now,
      })
    }
    if (orphans.length > 0) await cancelOrphans(tx, orphans, token)
    // RETURNING gives rows in the table's order: hand them out oldest due first (ids break ties,
    // so a released backlog goes out in creation order).
    return out.sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  async #complete(results: readonly CompleteInput[], now: number, rules: CompletionRules): Promise<string[]> {
    if (results.length === 0) return []
    return this.#relaxed(async (tx) => {
      const applied: string[] = []
      const attempts: Database['attempts'][] = []
      const ops: Insertable<Database['operational_events']>[] = []
      // Per subscription, the outcomes of this batch in order: true = success.
      const outcomes = new Map<
        string,
        { envId: string; results: { ok: boolean; at: number }[]; gone: boolean }
      >()
      // Plain successes (the common case) are fenced and applied in one statement per status
      // code; the rest one by one. A row whose lease token no longer matches changes nothing.
      const fenced = new Map<
        string,
        { subscription_id: string; env_id: string; event_id: string; attempts: number }
      >()
      const plain = new Map<string, CompleteInput[]>()
      for (const r of results) {
        if (r.outcome.kind === 'delivered' && r.error === null) {
          const k = String(r.statusCode)
          const group = plain.get(k)
          if (group) group.push(r)
          else plain.set(k, [r])
        }
      }
      for (const group of plain.values()) {
        const done = padded(group)
        const delivered = this.#prepared.get(`complete.delivered:${done.length}`, (p) =>
          tx
            .updateTable('deliveries')
            .set({
              status: 'delivered',
              next_attempt_at: null,
              lease_token: null,
              last_status_code: p('statusCode'),
              last_error: null,
              updated: p('now'),
            })
            .where('status', '=', pendingLiteral)
            .where(
              sql<boolean>`(id, lease_token) in (values ${sql.join(done.map((_, i) => sql`(${p(`id${i}`)}, ${p(`token${i}`)})`))})`,
            )
            .returning(['id', 'subscription_id', 'env_id', 'event_id', 'attempts']),
        )
        const values: Record<string, unknown> = { statusCode: group[0]!.statusCode, now }
        for (const [i, r] of done.entries()) {
          values[`id${i}`] = r.id
          values[`token${i}`] = r.leaseToken
        }
        for (const u of (await tx.executeQuery(delivered.bind(values))).rows) fenced.set(u.id, u)
      }
      for (const r of results) {
        const o = r.outcome
        let u = fenced.get(r.id)
        if (!u && !(o.kind === 'delivered' && r.error === null)) {
          const status: DeliveryStatus =
            o.kind === 'delivered'
              ? 'delivered'
              : o.kind === 'retry'
                ? 'pending'
                : o.kind === 'cancelled'
                  ? 'cancelled'
                  : 'failed'
          u = await tx
            .updateTable('deliveries')
            .set({
              status,
              next_attempt_at: o.kind === 'retry' ? o.at : null,
              lease_token: null,
              last_status_code: r.statusCode,
              last_error: r.error,
              updated: now,
            })
            .where('id', '=', r.id)
            .where('lease_token', '=', r.leaseToken)
            .where('status', '=', pendingLiteral)
            .returning(['id', 'subscription_id', 'env_id', 'event_id', 'attempts'])
            .executeTakeFirst()
        }
        if (!u) continue // fenced: a newer lease or a cancel owns this delivery now
        applied.push(r.id)
        // The core decides which attempts speak about the endpoint (src/deliveries/completion-rules.ts):
        // the others neither count nor trigger a deactivation; nor does a delivery its
        // transformation cancelled.
        if (r.countsForHealth !== false && o.kind !== 'cancelled') {
          const entry = outcomes.get(u.subscription_id) ?? { envId: u.env_id, results: [], gone: false }
          entry.results.push({ ok: o.kind === 'delivered', at: r.attempt.started + r.attempt.durationMs })
          if (o.kind === 'gone') entry.gone = true
          outcomes.set(u.subscription_id, entry)
        }
        const ended = rules.deliveryEnded(o, {
          id: r.id,
          subscriptionId: u.subscription_id,
          eventId: u.event_id,
          attempts: u.attempts,
          statusCode: r.statusCode,
          error: r.error,
        })
        if (ended) ops.push(opEvent(u.env_id, ended.type, now, ended.data))
        const a = r.attempt
        attempts.push({
          delivery_id: a.deliveryId,
          number: a.number,
          started: a.started,
          duration_ms: a.durationMs,
          status_code: a.statusCode,
          error: a.error,
          response_body: a.responseBody,
          request_headers: JSON.stringify(a.requestHeaders),
          response_headers: a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders),
          lean_headers: a.leanHeaders ? 1 : 0,
        })
      }
      await insertRows(tx, this.#prepared, 'complete.attempts', attemptColumns, attempts, (values) =>
        tx
          .insertInto('attempts')
          .values(values)
          .onConflict((oc) => oc.columns(['delivery_id', 'number']).doNothing()),
      )
      // Subscriptions' health rows are shared between workers: update them in one order (by id)
      // so that two workers' outcome batches cannot deadlock on PostgreSQL.
      for (const [subId, entry] of [...outcomes].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
        const health = this.#prepared.get('complete.subscription', (p) =>
          tx
            .selectFrom('subscriptions')
            .select([
              'active',
              'held',
              'consecutive_failures',
              'failing_since',
              'last_success_at',
              'last_failure_at',
            ])
            .where('id', '=', p('id'))
            // Locked (PostgreSQL; updated below anyway): a release of a held subscription
            // committing meanwhile waits, then sees the retries this batch holds.
            .$if(this.#traits.skipLocked, (q) => q.forUpdate()),
        )
        const sub = (await tx.executeQuery(health.bind({ id: subId }))).rows[0]
        if (!sub) continue
        // A retry scheduled for a held subscription waits for its release instead.
        if (Number(sub.held) === 1) await holdPending(tx, subId, now)
        const verdict = rules.settle(
          {
            active: Number(sub.active) === 1,
            consecutiveFailures: Number(sub.consecutive_failures),
            failingSince: numOrNull(sub.failing_since),
            lastSuccessAt: numOrNull(sub.last_success_at),
            lastFailureAt: numOrNull(sub.last_failure_at),
          },
          entry.results,
          entry.gone,
          now,
        )
        const deactivate = verdict.deactivate !== null
        const record = this.#prepared.get(`complete.health:${deactivate ? 1 : 0}`, (p) =>
          tx
            .updateTable('subscriptions')
            .set((eb) => ({
              consecutive_failures: p('consecutive'),
              failing_since: p('failingSince'),
              last_success_at: p('lastSuccess'),
              last_failure_at: p('lastFailure'),
              success_count: eb('success_count', '+', p('successes')),
              failure_count: eb('failure_count', '+', p('failures')),
              ...(deactivate ? { active: 0, deactivated_reason: p('reason'), updated: p('now') } : {}),
            }))
            .where('id', '=', p('id')),
        )
        await tx.executeQuery(
          record.bind({
            consecutive: verdict.consecutiveFailures,
            failingSince: verdict.failingSince,
            lastSuccess: verdict.lastSuccessAt,
            lastFailure: verdict.lastFailureAt,
            successes: verdict.successes,
            failures: verdict.failures,
            reason: verdict.deactivate,
            now,
            id: subId,
          }),
        )
        if (verdict.deactivate !== null) {
          await cancelPending(tx, subId, now, `subscription_${verdict.deactivate}`)
          const event = rules.deactivated(subId, verdict)
          ops.push(opEvent(entry.envId, event.type, now, event.data))
        }
      }
      if (ops.length > 0) await tx.insertInto('operational_events').values(ops).execute()
      return applied
    })
  }

  audit: Store['audit'] = {
    record: (e) =>
      this.#run(async () => {
        await this.#db
          .insertInto('audit_log')
          .values({
            id: e.id,
            env_id: e.envId,
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: JSON.stringify(e.detail),
            created: e.created,
            request_id: e.requestId,
          })
          .execute()
      }),
    list: (f) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('audit_log')
            .selectAll()
            .$if(f.envId !== undefined, (q) => q.where('env_id', '=', f.envId!))
            .$if(f.action !== undefined, (q) => q.where('action', '=', f.action!))
            .$if(f.beforeId !== undefined, (q) => q.where('id', '<', f.beforeId!))
            .orderBy('id', 'desc')
            .limit(f.limit)
            .execute()
        ).map(
          (r): AuditEntryRow => ({
            id: r.id,
            envId: r.env_id,
            actor: r.actor,
            action: r.action,
            target: r.target,
            detail: JSON.parse(r.detail) as Record<string, unknown>,
            created: Number(r.created),
            requestId: r.request_id,
          }),
        ),
      ),
  }

  operationalEvents: Store['operationalEvents'] = {
    list: (f) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('operational_events')
            .selectAll()
            .$if(f.envId !== undefined, (q) => q.where('env_id', '=', f.envId!))
            .$if(f.type !== undefined, (q) => q.where('type', '=', f.type!))
            .$if(f.beforeId !== undefined, (q) => q.where('id', '<', f.beforeId!))
            .orderBy('id', 'desc')
            .limit(f.limit)
            .execute()
        ).map(toOperationalEvent),
      ),
    claimUnsent: (now, limit, leaseMs) =>
      this.#run(() =>
        this.#relaxed(async (tx) => {
          const rows = await tx
            .updateTable('operational_events')
            .set((eb) => ({ next_send_at: now + leaseMs, send_attempts: eb('send_attempts', '+', 1) }))
            .where('id', 'in', (eb) =>
              eb
                .selectFrom('operational_events')
                .select('id')
                .where('sent_at', 'is', null)
                .where('send_attempts', '<', maxOperationalSendAttempts)
                .where((w) => w.or([w('next_send_at', 'is', null), w('next_send_at', '<=', now)]))
                .orderBy('id')
                .limit(limit)
                .$if(this.#traits.skipLocked, (q) => q.forUpdate().skipLocked()),
            )
            .returningAll()
            .execute()
          return rows.map(toOperationalEvent)
        }),
      ),
    markSent: (ids, now) =>
      this.#run(async () => {
        if (ids.length === 0) return
        await this.#db
          .updateTable('operational_events')
          .set({ sent_at: now })
          .where('id', 'in', [...ids])
          .execute()
      }),
    markUnsent: (id, nextAt) =>
      this.#run(async () => {
        await this.#db
          .updateTable('operational_events')
          .set({ next_send_at: nextAt })
          .where('id', '=', id)
          .execute()
      }),
  }

  replays: Store['replays'] = {
    create: (job) =>
      this.#run(() =>
        this.#db.transaction().execute(async (tx) => {
          const n = await replayTargets(
            tx,
            job.envId,
            job.subscriptionId,
            job.since,
            job.until,
            job.statusFilter,
            null,
          )
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
          const row: Database['replay_jobs'] = {
            id: job.id,
            env_id: job.envId,
            subscription_id: job.subscriptionId,
            since: job.since,
            until: job.until,
            status_filter: job.statusFilter,
            state: Number(n.n) === 0 ? 'finished' : 'running',
            total: Number(n.n),
            done: 0,
            cursor: null,
            lease_until: null,
            created: job.created,
            updated: job.created,
          }
          await tx.insertInto('replay_jobs').values(row).execute()
          return toReplay(row)
        }),
      ),
    get: (envId, id) =>
      this.#run(async () => {
        const r = await this.#db
          .selectFrom('replay_jobs')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return r && toReplay(r)
      }),
    list: (envId, subscriptionId) =>
      this.#run(async () =>
        (
          await this.#db
            .selectFrom('replay_jobs')
            .selectAll()
            .where('env_id', '=', envId)
            .$if(subscriptionId !== undefined, (q) => q.where('subscription_id', '=', subscriptionId!))
            .orderBy('id', 'desc')
            .limit(100)
            .execute()
        ).map(toReplay),
      ),
    cancel: (envId, id, now) =>
      this.#run(async () => {
        const r = await this.#db
          .updateTable('replay_jobs')
          .set({ state: 'cancelled', updated: now })
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .where('state', '=', 'running')
          .returningAll()
          .executeTakeFirst()
        if (r) return toReplay(r)
        const cur = await this.#db
          .selectFrom('replay_jobs')
          .selectAll()
          .where('env_id', '=', envId)
          .where('id', '=', id)
          .executeTakeFirst()
        return cur && toReplay(cur)
      }),
    step: (now, opts) =>
      this.#run(async () => {
        let requeued = false
        const step = await this.#relaxed(async (tx) => {
          const job = await tx
            .selectFrom('replay_jobs')
            .selectAll()
            .where('state', '=', 'running')
            .orderBy('id')
            .limit(1)
            .$if(this.#traits.skipLocked, (q) => q.forUpdate().skipLocked())
            .executeTakeFirst()
          if (!job) return undefined
          // One row past the chunk tells whether this step is the last: a job is finished by the
          // step that re-queues its last deliveries, not by an empty step after it.
          const found = (
            await replayTargets(
              tx,
              job.env_id,
              job.subscription_id,
              Number(job.since),
              Number(job.until),
              job.status_filter,
              job.cursor,
            )
              .select('id')
              .orderBy('id')
              .limit(opts.chunk + 1)
              .execute()
          ).map((r) => r.id)
          const ids = found.slice(0, opts.chunk)
          if (ids.length > 0) {
            // A fresh budget of the subscription's own schedule when it has one.
            const sub = await tx
              .selectFrom('subscriptions')
              .select('retry_schedule')
              .where('id', '=', job.subscription_id)
              .executeTakeFirst()
            const extra =
              sub?.retry_schedule != null && opts.extraAttemptsFor
                ? opts.extraAttemptsFor(JSON.parse(sub.retry_schedule) as number[])
                : opts.extraAttempts
            await tx
              .updateTable('deliveries')
              .set((eb) => ({
                status: 'pending',
                next_attempt_at: now,
                lease_token: null,
                attempt_limit: eb('attempts', '+', extra),
                updated: now,
              }))
              .where('id', 'in', ids)
              // One in flight right now keeps its lease; it is being attempted anyway.
              .where((w) =>
                w.or([
                  w('status', '!=', 'pending'),
                  w('lease_token', 'is', null),
                  w('next_attempt_at', '<=', now),
                ]),
              )
              .execute()
            await holdWhereHeld(tx, [job.subscription_id], now, this.#traits.skipLocked)
            requeued = true
          }
          const done = Number(job.done) + ids.length
          const finished = found.length <= opts.chunk
          const updated = await tx
            .updateTable('replay_jobs')
            .set({
              done: Math.min(done, Number(job.total)),
              cursor: ids.length > 0 ? ids[ids.length - 1]! : job.cursor,
              state: finished ? 'finished' : 'running',
              updated: now,
            })
            .where('id', '=', job.id)
            .returningAll()
            .executeTakeFirstOrThrow()
          if (finished) {
            await tx
              .insertInto('operational_events')
              .values(
                opEvent(job.env_id, 'replay.finished', now, {
                  replayId: job.id,
                  subscriptionId: job.subscription_id,
                  requeued: done,
                }),
              )
              .execute()
          }
          return toReplay(updated)
        })
        if (requeued) this.#traits.announceWork?.()
        return step
      }),
  }

  maintenance: Store['maintenance'] = {
    sweep: (before, limit) =>
      this.#run(() =>
        this.#relaxed(async (tx) => {
          const old = (
            await tx
              .selectFrom('deliveries')
              .select('id')
              .where('created', '<', before)
              .where('status', '!=', 'pending')
              .orderBy('created')
              .limit(limit)
              .execute()
          ).map((r) => r.id)
          let attempts = 0
          let deliveries = 0
          if (old.length > 0) {
            attempts = Number(
              (await tx.deleteFrom('attempts').where('delivery_id', 'in', old).executeTakeFirst())
                .numDeletedRows,
            )
            deliveries = Number(
              (await tx.deleteFrom('deliveries').where('id', 'in', old).executeTakeFirst()).numDeletedRows,
            )
          }
          // An event goes once none of its deliveries is left (pending ones keep it).
          const events = Number(
            (
              await tx
                .deleteFrom('events')
                .where('id', 'in', (eb) =>
                  eb
                    .selectFrom('events as e')
                    .select('e.id')
                    .where('e.created', '<', before)
                    .where(({ not, exists, selectFrom }) =>
                      not(
                        exists(
                          selectFrom('deliveries as d').select('d.id').whereRef('d.event_id', '=', 'e.id'),
                        ),
                      ),
                    )
                    .limit(limit),
                )
                .executeTakeFirst()
            ).numDeletedRows,
          )
          const operationalEvents = Number(
            (
              await tx
                .deleteFrom('operational_events')
                .where('created', '<', before)
                .where((w) =>
                  w.or([w('sent_at', 'is not', null), w('send_attempts', '>=', maxOperationalSendAttempts)]),
                )
                .executeTakeFirst()
            ).numDeletedRows,
          )
          return { events, deliveries, attempts, operationalEvents }
        }),
      ),
    tryLock: (name, holder, now, ttlMs) =>
      this.#run(async () => {
        await this.#db
          .insertInto('cluster_locks')
          .values({ name, holder, expires: now + ttlMs })
          .onConflict((oc) =>
            oc
              .column('name')
              .doUpdateSet({ holder, expires: now + ttlMs })
              .where((w) =>
                w.or([w('cluster_locks.holder', '=', holder), w('cluster_locks.expires', '<=', now)]),
              ),
          )
          .execute()
        const r = await this.#db
          .selectFrom('cluster_locks')
          .select('holder')
          .where('name', '=', name)
          .executeTakeFirst()
        return r?.holder === holder
      }),
  }
}

/** A due row found by a claim, before its lease. */
interface DueRow {
  id: string
  next_attempt_at: number | null
  subscription_id: string
}

/** The first `limit` rows (in due order) that fit each subscription's room; `crowded` gets those over it. */
function withinRoom<T extends { subscription_id: string }>(
  rows: readonly T[],
  room: NonNullable<ClaimScan['room']>,
  limit: number,
  crowded: Set<string>,
): T[] {
  const taken = new Map<string, number>()
  const out: T[] = []
  for (const r of rows) {
    if (out.length >= limit) break
    const n = taken.get(r.subscription_id) ?? 0
    if (n >= (room.busy.get(r.subscription_id) ?? room.perSubscription)) {
      crowded.add(r.subscription_id)
      continue
    }
    taken.set(r.subscription_id, n + 1)
    out.push(r)
  }
  return out
}

function opEvent(
  envId: string | null,
  type: OperationalEventType,
  now: number,
  data: Record<string, unknown>,
): Insertable<Database['operational_events']> {
  return {
    id: newId('oev', now),
    env_id: envId,
    type,
    data: JSON.stringify(data),
    created: now,
    sent_at: null,
    next_send_at: null,
  }
}

function replayTargets(
  db: Db,
  envId: string,
  subscriptionId: string,
  since: number,
  until: number,
  status: string | null,
  afterId: string | null,
) {
  return db
    .selectFrom('deliveries')
    .where('env_id', '=', envId)
    .where('subscription_id', '=', subscriptionId)
    .where('created', '>=', since)
    .where('created', '<', until)
    .$if(status !== null, (q) => q.where('status', '=', status!))
    .$if(afterId !== null, (q) => q.where('id', '>', afterId!))
}

async function insertSecret(tx: Db, s: SigningSecretRow): Promise<void> {
  await tx
    .insertInto('signing_secrets')
    .values({
      id: s.id,
      env_id: s.envId,
      key_id: s.keyId,
      ciphertext: s.ciphertext,
      created: s.created,
      expires: s.expires,
      revealed: s.revealed ? 1 : 0,
    })
    .execute()
}

/** Claimed rows whose subscription was deleted between publish and claim: nothing to send them to. */
async function cancelOrphans(tx: Db, ids: readonly string[], token: string): Promise<void> {
  await tx
    .updateTable('deliveries')
    .set({
      status: 'cancelled',
      lease_token: null,
      next_attempt_at: null,
      last_error: 'subscription_deleted',
    })
    .where('id', 'in', ids)
    .where('lease_token', '=', token)
    .execute()
}

async function cancelPending(tx: Db, subscriptionId: string, now: number, reason: string): Promise<void> {
  await tx
    .updateTable('deliveries')
    .set({ status: 'cancelled', next_attempt_at: null, lease_token: null, last_error: reason, updated: now })
    .where('subscription_id', '=', subscriptionId)
    .where('status', '=', 'pending')
    .execute()
}

const attemptColumns = [
  'delivery_id',
  'number',
  'started',
  'duration_ms',
  'status_code',
  'error',
  'response_body',
  'request_headers',
  'response_headers',
  'lean_headers',
] as const satisfies readonly (keyof Database['attempts'])[]
