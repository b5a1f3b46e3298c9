// @hookpost/outbox: write Hookpost events in your own database transaction (PostgreSQL through
// `pg`, MySQL/MariaDB through `mysql2`), and a relay that ships committed rows to
// POST /events/batch. The drivers are optional peers, loaded only by the relay that uses them.
export {
  type BatchAnswer,
  batchBody,
  type HookpostTarget,
  itemErrors,
  postBatch,
  retryAfterMs,
} from './batch-publisher.js'
export * from './events.js'
export type { MysqlPoolLike } from './mysql-relay-database.js'
export {
  createOutbox,
  type Outbox,
  type OutboxOptions,
  type OutboxRowValues,
  type OutboxStatement,
  type Queryable,
  type WriteOptions,
} from './outbox.js'
export { DEFAULT_TABLE, type OutboxDialect, OutboxTable, outboxMigration } from './outbox-table.js'
export type { PgPoolLike } from './postgres-relay-database.js'
export { createRelay, type Relay, type RelayLogEntry, type RelayOptions, type RelayStep } from './relay.js'
export {
  type ClaimedRows,
  dialectOfUrl,
  type OutboxLag,
  openRelayDatabase,
  type PendingRow,
  type RelayDatabase,
  type RowOutcomes,
} from './relay-database.js'
