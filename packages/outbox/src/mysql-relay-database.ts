// The relay's MySQL/MariaDB side, through `mysql2` (loaded when a relay opens a mysql:// URL).
// `FOR UPDATE SKIP LOCKED` needs MySQL 8.0 or MariaDB 10.6.
import type { OutboxTable } from './outbox-table.js'
import {
  type ClaimedRows,
  lagOfRow,
  type PendingRow,
  pendingRowOf,
  type RelayDatabase,
  type RowOutcomes,
} from './relay-database.js'

type Rows = Record<string, unknown>[]

interface MysqlConnection {
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>
  release(): void
  destroy(): void
}

/** The part of a `mysql2/promise` Pool the relay uses; pass your own Pool, or a URL. */
export interface MysqlPoolLike {
  getConnection(): Promise<MysqlConnection>
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>
  end(): Promise<void>
}

export async function mysqlRelayDatabase(
  o: { url: string; poolSize: number } | { pool: MysqlPoolLike },
): Promise<RelayDatabase> {
  let pool: MysqlPoolLike
  let owned = false
  if ('pool' in o) pool = o.pool
  else {
    const mod = (await import('mysql2/promise')) as unknown as {
      default?: { createPool?: unknown }
      createPool?: unknown
    }
    const createPool = (mod.createPool ?? mod.default?.createPool) as (o: object) => MysqlPoolLike
    pool = createPool({ uri: o.url, connectionLimit: o.poolSize, charset: 'utf8mb4' })
    owned = true
  }
  return {
    dialect: 'mysql',
    async claim(table, limit) {
      const conn = await pool.getConnection()
      let rows: PendingRow[]
      try {
        await conn.query('start transaction')
        // Ordered by t.id, the column (`id` alone would be the text alias: a sort of every
        // pending row, and a locking read locks every row it reads, leaving the other relays
        // nothing to take).
        const [r] = await conn.query(
          `select cast(t.id as char) as id, t.payload, t.idempotency_key, t.ordering_key from ${table.sql} as t
           where t.published_at is null and t.failed_at is null
           order by t.id limit ? for update skip locked`,
          [limit],
        )
        rows = (r as Rows).map(pendingRowOf)
        if (rows.length === 0) {
          await conn.query('commit')
          conn.release()
          return null
        }
      } catch (e) {
        conn.destroy()
        throw e
      }
      return claimed(conn, table, rows)
    },
    async lag(table) {
      const [r] = await pool.query(
        `select count(*) as pending,
                coalesce(timestampdiff(microsecond, min(created_at), current_timestamp(6)) / 1000, 0) as age,
                (select count(*) from ${table.sql} where failed_at is not null) as failed
         from ${table.sql} where published_at is null and failed_at is null`,
      )
      return lagOfRow((r as Rows)[0] ?? {})
    },
    async migrate(statements) {
      for (const s of statements) await pool.query(s)
    },
    async close() {
      if (owned) await pool.end()
    },
  }
}

function caseOf(pairs: { id: string; value: string }[]): { sql: string; params: string[] } {
  const params: string[] = []
  for (const p of pairs) params.push(p.id, p.value)
  return { sql: `case id ${pairs.map(() => 'when ? then ?').join(' ')} end`, params }
}

function claimed(conn: MysqlConnection, table: OutboxTable, rows: PendingRow[]): ClaimedRows {
  let done = false
  return {
    rows,
    async finish(outcomes: RowOutcomes) {
      if (done) throw new Error('this claim has ended')
      done = true
      try {
        if (outcomes.published.length > 0) {
          const c = caseOf(outcomes.published.map((p) => ({ id: p.id, value: p.eventId })))
          await conn.query(
            `update ${table.sql} set published_at = current_timestamp(6), event_id = ${c.sql} where id in (?)`,
            [...c.params, outcomes.published.map((p) => p.id)],
          )
        }
        if (outcomes.failed.length > 0) {
          const c = caseOf(outcomes.failed.map((f) => ({ id: f.id, value: f.error })))
          await conn.query(
            `update ${table.sql} set failed_at = current_timestamp(6), last_error = ${c.sql} where id in (?)`,
            [...c.params, outcomes.failed.map((f) => f.id)],
          )
        }
        await conn.query('commit')
        conn.release()
      } catch (e) {
        conn.destroy()
        throw e
      }
    },
    async abandon() {
      if (done) return
      done = true
      try {
        await conn.query('rollback')
        conn.release()
      } catch {
        conn.destroy()
      }
    },
  }
}
