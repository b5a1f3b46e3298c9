// The SQLite adapter: one file, WAL, synchronous=FULL so that a 202 means the event is on disk.
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
} from 'kysely'
import type { Database } from '../sql/database.ts'
import { SqlStore } from '../sql/sql-store.ts'
import { sqliteMigrations } from './migrations.ts'

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(c: DatabaseConnection): Promise<void> {
    await c.executeQuery(CompiledQuery.raw('begin immediate'))
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig
  constructor(config: SqliteDialectConfig) {
    super(config)
    this.#config = config
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config)
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

/** path: a file path, or ':memory:'. */
export function openSqliteStore(path: string): SqlStore {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const raw = new BetterSqlite3(path)
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = FULL')
  raw.pragma('busy_timeout = 10000')
  raw.pragma('foreign_keys = ON')
  // Payloads and sealed secrets live here: owner-only, whatever the umask.
  if (path !== ':memory:')
    for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600)
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(raw) }),
  })
  return new SqlStore(db, {
    dialect: 'sqlite',
    capabilities: { concurrentWriters: false },
    migrations: sqliteMigrations,
    groupCommit: true,
    relaxedTransaction: (kdb, fn) =>
      kdb.connection().execute(async (c) => {
        await sql`pragma synchronous = NORMAL`.execute(c)
        try {
          return await c.transaction().execute(fn)
        } finally {
          await sql`pragma synchronous = FULL`.execute(c)
        }
      }),
    skipLocked: false,
    isUniqueViolation: (e) => sqliteCode(e).startsWith('SQLITE_CONSTRAINT'),
    isUnavailable: (e) =>
      ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL'].some((c) =>
        sqliteCode(e).startsWith(c),
      ),
  })
}

/** `sqlite:./data/hookpost.db` → `./data/hookpost.db`. */
export function sqlitePathFromUrl(url: string): string {
  return url.replace(/^sqlite:(\/\/)?/, '')
}
