// The SQLite adapter: one file, WAL, synchronous=FULL so that a 202 means the event is on disk.
// Write transactions begin IMMEDIATE so that a second process (role=worker beside role=api)
// waits on busy_timeout instead of failing with SQLITE_BUSY_SNAPSHOT.
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
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
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: raw }) })
  return new SqlStore(db, {
    dialect: 'sqlite',
    capabilities: { concurrentWriters: false },
    migrations: sqliteMigrations,
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
