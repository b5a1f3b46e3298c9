// What the relay needs from the application's database, whatever the dialect: claim pending
// rows under row locks that other relays skip, then record each row's outcome and commit.
import type { OutboxDialect, OutboxTable } from './outbox-table.js'

/** One pending row, as the relay ships it. */
export interface PendingRow {
  id: string
  /** The JSON text the application wrote, sent as is. */
  payload: string
  idempotencyKey: string
  orderingKey: string | null
}

export interface RowOutcomes {
  published: { id: string; eventId: string }[]
  failed: { id: string; error: string }[]
}

/** Rows locked by one open transaction. Exactly one of `finish` or `abandon` ends it. */
export interface ClaimedRows {
  rows: PendingRow[]
  /** Records the outcomes and commits; rows named in neither list stay pending. */
  finish(outcomes: RowOutcomes): Promise<void>
  /** Rolls back: every row stays pending. */
  abandon(): Promise<void>
}

/** How far behind the relay is. */
export interface OutboxLag {
  /** Age in milliseconds of the oldest row neither published nor failed; 0 when there is none. */
  oldestPendingMs: number
  /** Rows neither published nor failed. */
  pending: number
  /** Rows Hookpost refused (see `last_error`); they wait for you, not for the relay. */
  failed: number
}

export interface RelayDatabase {
  readonly dialect: OutboxDialect
  /** Locks up to `limit` pending rows in id order, skipping rows another relay holds. */
  claim(table: OutboxTable, limit: number): Promise<ClaimedRows | null>
  lag(table: OutboxTable): Promise<OutboxLag>
  /**
   * PostgreSQL: calls `onReady` whenever rows are committed (LISTEN on the table's channel);
   * resolves to a function that stops listening. Absent where the database cannot notify.
   */
  listen?(table: OutboxTable, onReady: () => void): Promise<() => Promise<void>>
  /** Runs the table's migration. */
  migrate(statements: string[]): Promise<void>
  close(): Promise<void>
}

/** A selected row (`id`, `payload`, `idempotency_key`, `ordering_key`) as a PendingRow. */
export function pendingRowOf(r: Record<string, unknown>): PendingRow {
  return {
    id: String(r['id']),
    payload: String(r['payload']),
    idempotencyKey: String(r['idempotency_key']),
    orderingKey: r['ordering_key'] == null ? null : String(r['ordering_key']),
  }
}

/** The lag query's row (`pending`, `age`, `failed`) as an OutboxLag. */
export function lagOfRow(row: Record<string, unknown>): OutboxLag {
  return {
    oldestPendingMs: Math.max(0, Math.round(Number(row['age'] ?? 0))),
    pending: Number(row['pending'] ?? 0),
    failed: Number(row['failed'] ?? 0),
  }
}

/** Connection URLs the relay opens itself: `postgres://` (pg) or `mysql://`/`mariadb://` (mysql2). */
export function dialectOfUrl(url: string): OutboxDialect {
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase()
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres'
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql'
  throw new TypeError('the outbox database URL must start with postgres://, mysql:// or mariadb://')
}

/** Opens a small pool for the relay from a URL; the driver is loaded only when asked for. */
export async function openRelayDatabase(url: string, poolSize = 2): Promise<RelayDatabase> {
  if (dialectOfUrl(url) === 'postgres') {
    const { postgresRelayDatabase } = await import('./postgres-relay-database.js')
    return postgresRelayDatabase({ url, poolSize })
  }
  const { mysqlRelayDatabase } = await import('./mysql-relay-database.js')
  return mysqlRelayDatabase({ url: url.replace(/^mariadb:/i, 'mysql:'), poolSize })
}
