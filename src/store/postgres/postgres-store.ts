// The PostgreSQL adapter: a pg Pool under Kysely; claims lock with FOR UPDATE SKIP LOCKED so
// that any number of workers share one database without claiming a row twice.
import { Kysely, PostgresDialect } from 'kysely'
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

export function openPostgresStore(url: string, poolSize = 10): SqlStore {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types })
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  return new SqlStore(db, {
    dialect: 'postgres',
    capabilities: { concurrentWriters: true },
    migrations: postgresMigrations,
    skipLocked: true,
    isUniqueViolation: (e) => pgCode(e) === '23505',
    isUnavailable: (e) => {
      const c = pgCode(e)
      return (
        c.startsWith('08') || c === '57P01' || c === '57P03' || c === 'ECONNREFUSED' || c === 'ECONNRESET'
      )
    },
  })
}
