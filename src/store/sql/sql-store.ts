// The Store contract over Kysely, shared by both adapters: the connection and its transaction
// helpers, handed to one group of the contract's methods a file (environment-store.ts,
// subscription-store.ts, event-store.ts, delivery-store.ts, …). Dialect differences are declared
// in SqlDialectTraits (claim locking, unique-violation detection), never discovered inside a query.
import type { Kysely, Transaction } from 'kysely'
import { AppError } from '../../shared/errors.ts'
import type {
  ClaimInput,
  ClaimResult,
  PublishInput,
  PublishResult,
  Store,
  StoreCapabilities,
  StoreReadiness,
} from '../store.ts'
import { sqlDashboardSessions, sqlPortalLinks } from './access-store.ts'
import { sqlAudit } from './audit-store.ts'
import type { Database } from './database.ts'
import { sqlDeliveries } from './delivery-store.ts'
import { sqlDestinationSecrets } from './destination-columns.ts'
import { sqlCredentials, sqlEnvironments, sqlSecrets } from './environment-store.ts'
import { sqlEvents } from './event-store.ts'
import { type FeedTraits, sqlFeed } from './feed-store.ts'
import { sqlMaintenance } from './maintenance-store.ts'
import { applyMigrations, type Migration } from './migrate.ts'
import { sqlOperationalEvents } from './operational-event-store.ts'
import { PreparedQueries } from './prepared-queries.ts'
import { sqlReplays } from './replay-store.ts'
import { sqlSigningKeyPairs } from './signing-key-pair-store.ts'
import { StoreReadinessProbe } from './store-readiness.ts'
import { sqlSubscriptions } from './subscription-store.ts'

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
  /**
   * Runs a group commit's transaction with no fsync inside its COMMIT and answers, besides its
   * value, when what it wrote is on disk (SQLite: sqlite/wal-sync.ts). Nobody is told a publish
   * succeeded before that; meanwhile the thread works on. Absent: a commit is durable when the
   * transaction returns.
   */
  deferredSyncTransaction?: <T>(
    db: Kysely<Database>,
    fn: (tx: Transaction<Database>) => Promise<T>,
  ) => Promise<{ value: T; durable: Promise<void> }>
  /**
   * Resolves once every commit made so far with deferredSyncTransaction is on disk. A claim
   * waits for it before handing over what it found: a delivery never goes out for a publish a
   * power cut could still take back (and that nobody was answered for yet).
   */
  durableSoFar?: () => Promise<void>
  /** Taken inside the migration transaction (PostgreSQL: an advisory lock; SQLite's write lock suffices). */
  migrationLock?: (tx: Transaction<Database>) => Promise<void>
  /** Commit concurrent publishes together (one writer: SQLite). */
  groupCommit: boolean
  /**
   * Hand-offs are inserted `handed`, outside the due indexes until their lease runs out
   * (handed-deliveries.ts; SQLite, where those index entries are a third of a delivery's insert).
   */
  handedOutsideDue?: boolean
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
   * A publish (one event or a batch) in one statement (PostgreSQL: postgres/publish-statement.ts);
   * undefined when it must take the transaction (nothing was written).
   */
  publishStatement?: (
    db: Kysely<Database>,
    inputs: readonly PublishInput[],
  ) => Promise<PublishResult[] | undefined>
}

/** Runs fn; translates driver failures into the contract's errors. */
export type Run = <T>(fn: () => Promise<T>) => Promise<T>

/** What SqlStore hands each group of the contract's methods. */
export interface SqlContext {
  db: Kysely<Database>
  traits: SqlDialectTraits
  prepared: PreparedQueries
  run: Run
  /** A worker's bookkeeping transaction: see SqlDialectTraits.relaxedTransaction. */
  relaxed: <T>(fn: (tx: Transaction<Database>) => Promise<T>) => Promise<T>
}

export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres'
  readonly capabilities: StoreCapabilities
  readonly #db: Kysely<Database>
  readonly #traits: SqlDialectTraits
  readonly #prepared = new PreparedQueries()
  readonly #readiness: StoreReadinessProbe
  readonly environments: Store['environments']
  readonly credentials: Store['credentials']
  readonly dashboardSessions: Store['dashboardSessions']
  readonly portalLinks: Store['portalLinks']
  readonly secrets: Store['secrets']
  readonly signingKeyPairs: Store['signingKeyPairs']
  readonly subscriptions: Store['subscriptions']
  readonly destinationSecrets: Store['destinationSecrets']
  readonly events: Store['events']
  readonly deliveries: Store['deliveries']
  readonly feed: Store['feed']
  readonly operationalEvents: Store['operationalEvents']
  readonly replays: Store['replays']
  readonly audit: Store['audit']
  readonly maintenance: Store['maintenance']

  constructor(db: Kysely<Database>, traits: SqlDialectTraits) {
    this.#db = db
    this.#traits = traits
    this.#readiness = new StoreReadinessProbe(db, (e) =>
      traits.isUnavailable(e) ? unavailableReason(e) : undefined,
    )
    this.dialect = traits.dialect
    this.capabilities = traits.capabilities
    const run = <T>(fn: () => Promise<T>) => this.#run(fn)
    const ctx: SqlContext = {
      db,
      traits,
      prepared: this.#prepared,
      run,
      relaxed: (fn) => this.#relaxed(fn),
    }
    this.environments = sqlEnvironments(ctx)
    this.credentials = sqlCredentials(ctx)
    this.dashboardSessions = sqlDashboardSessions(db, run, this.#prepared)
    this.portalLinks = sqlPortalLinks(db, run)
    this.secrets = sqlSecrets(ctx)
    this.signingKeyPairs = sqlSigningKeyPairs(db, run)
    this.subscriptions = sqlSubscriptions(ctx)
    this.destinationSecrets = sqlDestinationSecrets(db, run)
    this.events = sqlEvents(ctx)
    this.deliveries = sqlDeliveries(ctx)
    this.feed = sqlFeed(db, run, traits)
    this.operationalEvents = sqlOperationalEvents(ctx)
    this.replays = sqlReplays(ctx)
    this.audit = sqlAudit(ctx)
    this.maintenance = sqlMaintenance(ctx)
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
}
