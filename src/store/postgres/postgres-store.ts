// The PostgreSQL adapter: a pg Pool under Kysely; claims lock with FOR UPDATE SKIP LOCKED so
// that any number of workers share one database without claiming a row twice.
import { createHash } from 'node:crypto'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import type { Database } from '../sql/database.ts'
import { SqlStore } from '../sql/sql-store.ts'
import { claimInOneStatement } from './claim-statement.ts'
import { postgresMigrations } from './migrations.ts'
import { NotifyChannel } from './notify-channel.ts'
import { PublishStatement } from './publish-statement.ts'

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
/** Feed readers' channel: the payload is the id of an environment that got events. */
const feedChannel = 'hookpost_feed'

/** Errors of the network or the socket: the server cannot be reached or the connection broke. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

/** pg's own errors for a lost or unobtainable connection carry no code. */
const connectionMessages = /connection terminated|timeout exceeded when trying to connect|not queryable/i

/**
 * A database that cannot take the request now: connection exceptions (class 08), insufficient
 * resources (53: disk full, out of memory, too many connections), system and I/O errors (58),
 * shutdown or not accepting connections yet (57P01–57P03), a read-only transaction (25006: a
 * standby after a failover), or the network.
 */
export function isPostgresUnavailable(e: unknown): boolean {
  const c = pgCode(e)
  if (/^(08|53|58)/.test(c) || ['57P01', '57P02', '57P03', '25006'].includes(c) || networkCodes.has(c))
    return true
  return c === '' && e instanceof Error && connectionMessages.test(e.message)
}

const namedLimit = 2000
const names = new Map<string, string | null>()
const named = Symbol('hookpost.namedStatements')

/**
 * Parameterised statements run as named prepared statements, so that each connection parses and
 * plans a hot query once instead of on every execution (that was most of PostgreSQL's CPU per
 * delivery). `select *` and `returning *` stay unnamed: a column added by another node's
 * migration would make a cached plan fail. At most namedLimit texts get a name.
 */
export function nameStatements(client: pg.PoolClient): pg.PoolClient {
  const c = client as pg.PoolClient & { [named]?: true }
  if (c[named]) return client
  c[named] = true
  const query = client.query.bind(client) as (...a: unknown[]) => unknown
  ;(client as { query: unknown }).query = (text: unknown, values?: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || rest.length > 0)
      return query(text, values, ...rest)
    let name = names.get(text)
    if (name === undefined) {
      if (names.size >= namedLimit) return query(text, values)
      name = text.includes('*')
        ? null
        : `hp_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`
      names.set(text, name)
    }
    return name === null ? query(text, values) : query({ name, text, values })
  }
  return client
}

export function openPostgresStore(url: string, poolSize = 10): SqlStore {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types })
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  const statements = {
    connect: async () => nameStatements(await pool.connect()),
    end: () => pool.end(),
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: statements }) })
  const work = new NotifyChannel(url, channel)
  const feed = new NotifyChannel(url, feedChannel)
  const publishes = new PublishStatement()
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
    announceWork: () => work.notify(),
    listenWork: (onWork) => work.listen(() => onWork()),
    claimStatement: claimInOneStatement,
    publishStatement: (db, inputs) => publishes.publish(db, inputs),
    announceFeed: (envIds) => {
      for (const e of envIds) feed.notify(e)
    },
    listenFeed: (onEvents) => feed.listen(onEvents),
    feedHorizon: sql<number>`pg_snapshot_xmin(pg_current_snapshot())::text::bigint`,
    onClose: async () => {
      await work.close()
      await feed.close()
    },
    isUnavailable: isPostgresUnavailable,
  })
}
