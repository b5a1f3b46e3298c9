// The two databases the outbox tests run on: PostgreSQL (TEST_DATABASE_URL, default the local
// server) and MariaDB/MySQL (TEST_MYSQL_URL, default root@127.0.0.1:3306/test). Each test takes a
// fresh table of its own and drops it afterwards, so tests and concurrent runs never share rows.
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createOutbox, type Outbox, type OutboxDialect } from '../src/index.js'

export const databaseUrls: Record<OutboxDialect, string> = {
  postgres: process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  mysql: process.env['TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test',
}

/**
 * The dialects to test on: both under CI=true (a server that is down fails the tests there);
 * elsewhere those whose server answers, saying which one is skipped and why.
 */
export async function testDialects(): Promise<OutboxDialect[]> {
  const all: OutboxDialect[] = ['postgres', 'mysql']
  if (process.env['CI'] === 'true') return all
  const up: OutboxDialect[] = []
  for (const d of all) {
    try {
      const c = await connect(d)
      await c.end()
      up.push(d)
    } catch (e) {
      console.warn(
        `outbox tests on ${d} skipped: ${databaseUrls[d]} is unreachable (${(e as Error).message})`,
      )
    }
  }
  return up
}

/** One application connection: the statements of a transaction run on it. */
export interface AppConnection {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  /** What outbox.write takes: the driver's own connection. */
  readonly driver: { query(sql: string, params?: unknown[]): Promise<unknown> }
  end(): Promise<void>
}

export async function connect(dialect: OutboxDialect): Promise<AppConnection> {
  if (dialect === 'postgres') {
    const c = new pg.Client({ connectionString: databaseUrls.postgres })
    await c.connect()
    return {
      driver: c,
      query: async (sql, params) => (await c.query(sql, params)).rows,
      end: () => c.end(),
    }
  }
  const c = await mysql.createConnection({ uri: databaseUrls.mysql, charset: 'utf8mb4' })
  return {
    driver: c,
    query: async (sql, params) => {
      const [rows] = await c.query(sql, params)
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []
    },
    end: () => c.end(),
  }
}

export interface OutboxFixture {
  dialect: OutboxDialect
  url: string
  table: string
  outbox: Outbox
  app: AppConnection
  /** `$1` or `?`. */
  p(i: number): string
  /** Commits `count` rows (site.publish payloads with `n` = 0…count-1 plus `extra`). */
  commitRows(count: number, extra?: Record<string, unknown>): Promise<void>
  /** The table's rows in id order. */
  rows(): Promise<OutboxRowState[]>
  drop(): Promise<void>
}

export interface OutboxRowState {
  id: string
  payload: string
  idempotency_key: string
  ordering_key: string | null
  published: boolean
  event_id: string | null
  failed: boolean
  last_error: string | null
}

export async function outboxFixture(dialect: OutboxDialect): Promise<OutboxFixture> {
  const table = `outbox_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const outbox = createOutbox({ dialect, table })
  const app = await connect(dialect)
  for (const s of outbox.migration()) await app.query(s)
  const p = (i: number) => (dialect === 'postgres' ? `$${i}` : '?')
  const t = dialect === 'postgres' ? `"${table}"` : `\`${table}\``
  return {
    dialect,
    url: databaseUrls[dialect],
    table,
    outbox,
    app,
    p,
    async commitRows(count, extra = {}) {
      await app.query('begin')
      for (let n = 0; n < count; n++) {
        await outbox.write(app.driver, { eventName: 'site.publish', site: { ref: n }, n, ...extra } as never)
      }
      await app.query('commit')
    },
    async rows() {
      const rows = await app.query(
        `select cast(id as char(20)) as id, payload, idempotency_key, ordering_key, event_id, last_error,
                published_at is not null as published, failed_at is not null as failed
         from ${t} order by id`,
      )
      return rows.map((r) => ({
        ...(r as unknown as OutboxRowState),
        id: String(r['id']).trim(),
        published: Boolean(Number(r['published'])),
        failed: Boolean(Number(r['failed'])),
      }))
    },
    async drop() {
      await app.query(`drop table if exists ${t}`)
      await app.end()
    },
  }
}
