// The relay's PostgreSQL side, through `pg` (loaded when a relay opens a postgres:// URL).
import type { OutboxTable } from './outbox-table.js'
import {
  type ClaimedRows,
  lagOfRow,
  type PendingRow,
  pendingRowOf,
  type RelayDatabase,
  type RowOutcomes,
} from './relay-database.js'

interface PgClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
  release(err?: Error | boolean): void
  on?(event: 'notification' | 'error', listener: (arg: unknown) => void): unknown
}

/** The part of a `pg` Pool the relay uses; pass your own Pool, or a URL. */
export interface PgPoolLike {
  connect(): Promise<PgClient>
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
  end(): Promise<void>
}

export async function postgresRelayDatabase(
  o: { url: string; poolSize: number } | { pool: PgPoolLike },
): Promise<RelayDatabase> {
  let pool: PgPoolLike
  let owned = false
  if ('pool' in o) pool = o.pool
  else {
    // ESM sees pg's CommonJS exports as `default`, the CommonJS build as the module itself.
    const mod = (await import('pg')) as unknown as { default?: { Pool: unknown }; Pool?: unknown }
    const Pool = (mod.default?.Pool ?? mod.Pool) as new (o: object) => PgPoolLike
    pool = new Pool({ connectionString: o.url, max: o.poolSize })
    owned = true
  }
  return {
    dialect: 'postgres',
    async claim(table, limit) {
      const client = await pool.connect()
      let rows: PendingRow[]
      try {
        await client.query('begin')
        const r = await client.query(
          // Ordered by t.id, the column: `id` alone would sort by the text alias.
          `select t.id::text as id, t.payload, t.idempotency_key, t.ordering_key from ${table.sql} as t
           where t.published_at is null and t.failed_at is null
           order by t.id limit $1 for update skip locked`,
          [limit],
        )
        rows = r.rows.map(pendingRowOf)
        if (rows.length === 0) {
          await client.query('commit')
          client.release()
          return null
        }
      } catch (e) {
        client.release(e as Error)
        throw e
      }
      return claimed(client, table, rows)
    },
    async lag(table) {
      const r = await pool.query(
        `select count(*)::float8 as pending,
                coalesce(extract(epoch from (clock_timestamp() - min(created_at))) * 1000, 0)::float8 as age,
                (select count(*) from ${table.sql} where failed_at is not null)::float8 as failed
         from ${table.sql} where published_at is null and failed_at is null`,
      )
      const row = r.rows[0] ?? {}
      return lagOfRow(row)
    },
    async listen(table, onReady) {
      // A connection of its own for as long as the relay runs (a pool's, held).
      const client = await pool.connect()
      let broken = false
      client.on?.('notification', () => onReady())
      client.on?.('error', () => {
        broken = true // polling goes on; the pool drops the connection
      })
      await client.query(`listen "${table.channel}"`)
      return async () => {
        if (!broken) await client.query(`unlisten "${table.channel}"`).catch(() => undefined)
        client.release(broken)
      }
    },
    async migrate(statements) {
      for (const s of statements) await pool.query(s)
    },
    async close() {
      if (owned) await pool.end()
    },
  }
}

function claimed(client: PgClient, table: OutboxTable, rows: PendingRow[]): ClaimedRows {
  let done = false
  const end = (err?: Error) => {
    done = true
    client.release(err)
  }
  return {
    rows,
    async finish(outcomes: RowOutcomes) {
      if (done) throw new Error('this claim has ended')
      try {
        if (outcomes.published.length > 0) {
          await client.query(
            `update ${table.sql} as t set published_at = now(), event_id = v.event_id
             from unnest($1::bigint[], $2::text[]) as v(id, event_id) where t.id = v.id`,
            [outcomes.published.map((p) => p.id), outcomes.published.map((p) => p.eventId)],
          )
        }
        if (outcomes.failed.length > 0) {
          await client.query(
            `update ${table.sql} as t set failed_at = now(), last_error = v.error
             from unnest($1::bigint[], $2::text[]) as v(id, error) where t.id = v.id`,
            [outcomes.failed.map((f) => f.id), outcomes.failed.map((f) => f.error)],
          )
        }
        await client.query('commit')
        end()
      } catch (e) {
        end(e as Error)
        throw e
      }
    },
    async abandon() {
      if (done) return
      try {
        await client.query('rollback')
        end()
      } catch (e) {
        end(e as Error)
      }
    },
  }
}
