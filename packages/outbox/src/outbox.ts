// The application's side: write an event into the outbox table with the application's own
// connection, inside the application's own transaction. Nothing here commits or opens a
// transaction: a rollback of the caller's transaction removes the row, so nothing is published.
import type { HookpostEvent } from './events.js'
import { DEFAULT_TABLE, type OutboxDialect, OutboxTable, outboxMigration } from './outbox-table.js'

/**
 * Anything with `query(sql, params)`: a `pg` Client or PoolClient, a `mysql2/promise` Connection
 * or PoolConnection. Pass the connection your transaction runs on (not a pool: a pool may pick
 * another connection, outside the transaction).
 */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>
}

export interface WriteOptions {
  /** Events sharing an ordering key reach ordered subscriptions in the order they were written. */
  orderingKey?: string
}

/**
 * The values of one outbox row, for inserting through an ORM's own builder. A type alias, not an
 * interface, so that it fits builders typed with an index signature (Kysely's `Record` tables).
 */
export type OutboxRowValues = {
  event_name: string
  payload: string
  ordering_key: string | null
}

/** An insert statement with its parameters, in the dialect's placeholder style. */
export interface OutboxStatement {
  sql: string
  params: unknown[]
}

export interface OutboxOptions {
  dialect: OutboxDialect
  /** Default `hookpost_outbox`; `schema.table` is accepted. */
  table?: string
  /** PostgreSQL: `migration()` adds the NOTIFY trigger (see `outboxMigration`). Default false. */
  notify?: boolean
}

/**
 * Writes events of type `E` (by default the Hookpost catalogue's `HookpostEvent`, so a payload
 * that does not match its event's schema is a type error). Pass your own union of
 * `{ eventName: '…' }` types for another catalogue.
 */
export interface Outbox<E extends { eventName: string } = HookpostEvent> {
  readonly dialect: OutboxDialect
  readonly table: string
  /** Inserts one event with `db`, the connection of the caller's open transaction. */
  write(db: Queryable, payload: E, options?: WriteOptions): Promise<void>
  /** The insert statement for `payload`, to run with any client (Kysely, Knex, Prisma, …). */
  insert(payload: E, options?: WriteOptions): OutboxStatement
  /** The column values for `payload`, to insert with an ORM's query builder. */
  row(payload: E, options?: WriteOptions): OutboxRowValues
  /** The statements creating the table (see `outboxMigration`). */
  migration(): string[]
}

export function createOutbox<E extends { eventName: string } = HookpostEvent>(
  options: OutboxOptions,
): Outbox<E> {
  const table = new OutboxTable(options.dialect, options.table ?? DEFAULT_TABLE)
  const p = (i: number) => table.placeholder(i)
  const insertSql = `insert into ${table.sql} (event_name, payload, ordering_key) values (${p(1)}, ${p(2)}, ${p(3)})`

  function row(payload: E, o: WriteOptions = {}): OutboxRowValues {
    if (typeof payload !== 'object' || payload === null || typeof payload.eventName !== 'string') {
      throw new TypeError('an outbox payload is an object with a string eventName')
    }
    return {
      event_name: payload.eventName,
      payload: JSON.stringify(payload),
      ordering_key: o.orderingKey ?? null,
    }
  }

  function insert(payload: E, o?: WriteOptions): OutboxStatement {
    const r = row(payload, o)
    return { sql: insertSql, params: [r.event_name, r.payload, r.ordering_key] }
  }

  return {
    dialect: table.dialect,
    table: table.name,
    row,
    insert,
    async write(db, payload, o) {
      const s = insert(payload, o)
      await db.query(s.sql, s.params)
    },
    migration: () => outboxMigration(table, { notify: options.notify ?? false }),
  }
}
