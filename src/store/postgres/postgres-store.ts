// The PostgreSQL adapter: a pg Pool under Kysely; claims lock with FOR UPDATE SKIP LOCKED so
// that any number of workers share one database without claiming a row twice.
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import type { Database } from '../sql/database.ts'
import { SqlStore } from '../sql/sql-store.ts'
import { postgresMigrations } from './migrations.ts'

// int8 (epoch ms) as numbers: safe below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

function pgCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : ''
}

const channel = 'hookpost_work'

/**
 * A dedicated connection LISTENing for work; reconnects after a drop (workers keep polling in
 * the meantime, so a lost notification only costs one poll interval).
 */
function listenWork(url: string, onWork: () => void): Promise<() => Promise<void>> {
  let client: pg.Client | undefined
  let closed = false
  let retry: NodeJS.Timeout | undefined
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url })
    c.on('notification', () => onWork())
    c.on('error', () => {
      if (closed) return
      c.end().catch(() => {})
      retry = setTimeout(() => void connect().catch(() => {}), 1000)
      retry.unref()
    })
    try {
      await c.connect()
      await c.query(`listen ${channel}`)
      client = c
    } catch {
      await c.end().catch(() => {})
      if (!closed) {
        retry = setTimeout(() => void connect().catch(() => {}), 1000)
        retry.unref()
      }
    }
  }
  return connect().then(() => async () => {
    closed = true
    if (retry) clearTimeout(retry)
    await client?.end().catch(() => {})
  })
}

export function openPostgresStore(url: string, poolSize = 10): SqlStore {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types })
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return new SqlStore(db, {
    dialect: 'postgres',
    capabilities: { concurrentWriters: true },
    migrations: postgresMigrations,
    groupCommit: false,
    skipLocked: true,
    isUniqueViolation: (e) => pgCode(e) === '23505',
    migrationLock: async (tx) => {
      await sql`select pg_advisory_xact_lock(7340117, 1)`.execute(tx)
    },
    notifyWork: async (db) => {
      await sql`select pg_notify(${channel}, '')`.execute(db)
    },
    listenWork: (onWork) => listenWork(url, onWork),
    isUnavailable: (e) => {
      const c = pgCode(e)
      return (
        c.startsWith('08') || c === '57P01' || c === '57P03' || c === 'ECONNREFUSED' || c === 'ECONNRESET'
      )
    },
  })
}
