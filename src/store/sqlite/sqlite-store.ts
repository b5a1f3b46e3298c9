// The SQLite adapter: one file, WAL, synchronous=FULL so that a 202 means the event is on disk
// (group commits: NORMAL, then the WAL synced off the thread before anyone is answered,
// wal-sync.ts; checkpoints on a thread of their own, checkpointer.ts).
// Write transactions begin IMMEDIATE so that a second process (role=worker beside role=api)
// waits on busy_timeout instead of failing with SQLITE_BUSY_SNAPSHOT.
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely'
import type { Database } from '../sql/database.ts'
import { SqlStore } from '../sql/sql-store.ts'
import { Checkpointer } from './checkpointer.ts'
import { sqliteMigrations } from './migrations.ts'
import { type SyncFile, WalSync } from './wal-sync.ts'

class ImmediateSqliteDriver extends SqliteDriver {
  readonly #inTransaction: () => boolean
  constructor(config: SqliteDialectConfig, inTransaction: () => boolean) {
    super(config)
    this.#inTransaction = inTransaction
  }
  override async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin immediate'))
  }
  // SQLite rolls a transaction back by itself on SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM and
  // some SQLITE_BUSY: a second rollback would fail ("no transaction is active") and replace the
  // error that matters (store_unavailable) with one that becomes a 500.
  override async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    if (this.#inTransaction()) await super.rollbackTransaction(c)
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig
  readonly #inTransaction: () => boolean
  constructor(config: SqliteDialectConfig, inTransaction: () => boolean) {
    super(config)
    this.#config = config
    this.#inTransaction = inTransaction
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#inTransaction)
  }
}

/**
 * Kysely prepares every query afresh; preparing costs more than running most of ours. Queries
 * repeat (parameters are bound, not inlined), so prepared statements are kept by SQL text. One
 * connection runs one query at a time, so sharing a statement is safe.
 */
function withStatementCache(raw: BetterSqlite3.Database, max = 1000): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>()
  return {
    close: () => raw.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql)
      if (!stmt) {
        stmt = raw.prepare(sql)
        if (cache.size >= max) cache.delete(cache.keys().next().value as string)
        cache.set(sql, stmt)
      }
      return stmt as unknown as ReturnType<SqliteDatabase['prepare']>
    },
  }
}

function sqliteCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : ''
}

/**
 * The errors of a database that cannot write or be read now: disk or database full, I/O error,
 * read-only file or file system, cannot open, out of memory, locked past busy_timeout.
 */
const unavailableCodes = [
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_IOERR',
  'SQLITE_FULL',
  'SQLITE_READONLY',
  'SQLITE_CANTOPEN',
  'SQLITE_NOMEM',
  'SQLITE_PROTOCOL',
]

export function isSqliteUnavailable(e: unknown): boolean {
  const code = sqliteCode(e)
  return unavailableCodes.some((c) => code.startsWith(c))
}

export interface SqliteStoreOptions {
  /** Runs on the raw connection once it is open (tests cap its size with `max_page_count`). */
  onOpen?: (raw: BetterSqlite3.Database) => void
  /** How group commits sync the WAL (tests make syncs that fail or wait); fs.fdatasync. */
  syncFile?: SyncFile
}

/** path: a file path, or ':memory:'. */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): SqlStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const raw = new BetterSqlite3(path)
  const wal = raw.pragma('journal_mode = WAL', { simple: true }) === 'wal'
  raw.pragma('synchronous = FULL')
  raw.pragma('busy_timeout = 10000')
  raw.pragma('foreign_keys = ON')
  opts.onOpen?.(raw)
  // Payloads and sealed secrets live here: owner-only, whatever the umask.
  if (path !== ':memory:')
    for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600)
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(raw) }, () => raw.inTransaction),
  })
  // A file in WAL mode: group commits sync the WAL off this thread, a thread checkpoints it.
  const walSync = wal && path !== ':memory:' ? new WalSync(`${path}-wal`, opts.syncFile) : undefined
  const checkpointer = walSync ? new Checkpointer(raw, path) : undefined
  // Compiled once: a worker runs these around every bookkeeping transaction.
  const normal = sql`pragma synchronous = NORMAL`.compile(db)
  const full = sql`pragma synchronous = FULL`.compile(db)
  const withoutFsync = <T>(kdb: Kysely<Database>, fn: (tx: Transaction<Database>) => Promise<T>) =>
    kdb.connection().execute(async (c) => {
      await c.executeQuery(normal)
      try {
        return await c.transaction().execute(fn)
      } finally {
        await c.executeQuery(full)
      }
    })
  let bumpFeed: CompiledQuery<{ value: number }> | undefined
  return new SqlStore(db, {
    dialect: 'sqlite',
    capabilities: { concurrentWriters: false },
    migrations: sqliteMigrations,
    groupCommit: true,
    handedOutsideDue: true,
    relaxedTransaction: withoutFsync,
    ...(walSync && checkpointer
      ? {
          deferredSyncTransaction: async (kdb, fn) => {
            checkpointer.start()
            walSync.began()
            let value: Awaited<ReturnType<typeof fn>>
            try {
              value = await withoutFsync(kdb, fn)
            } finally {
              walSync.ended()
            }
            return { value, durable: walSync.sync() }
          },
          durableSoFar: () => walSync.synced(),
          onClose: async () => {
            await checkpointer.close()
            await walSync.close()
          },
        }
      : {}),
    skipLocked: false,
    nextFeedSeq: async (tx) => {
      // Compiled once: it runs for every published event, and compiling cost more than running.
      bumpFeed ??= sql<{ value: number }>`update feed_sequence set value = value + 1 returning value`.compile(
        tx,
      )
      return (await tx.executeQuery(bumpFeed)).rows[0]!.value
    },
    isUniqueViolation: (e) => sqliteCode(e).startsWith('SQLITE_CONSTRAINT'),
    isUnavailable: isSqliteUnavailable,
  })
}

/** `sqlite:./data/hookpost.db` → `./data/hookpost.db`. */
export function sqlitePathFromUrl(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/, '')
}
