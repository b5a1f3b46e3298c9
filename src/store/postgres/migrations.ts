// PostgreSQL schema, numbered in step with src/store/sqlite/migrations.ts. Payloads are bytea:
// jsonb would reorder keys and break signatures.
import type { Migration } from '../sql/migrate.ts'

export const postgresMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'init',
    statements: [
      `create table environments (
        id text primary key, name text not null, signature_encoding text not null default 'hex',
        created bigint not null)`,
      `create table credentials (
        id text primary key, env_id text not null references environments(id), role text not null,
        name text, key text not null unique, secret_hash text not null, created bigint not null,
        revoked bigint)`,
      `create index credentials_env on credentials(env_id)`,
      `create table signing_secrets (
        id text primary key, env_id text not null references environments(id), key_id text not null,
        ciphertext text not null, created bigint not null, expires bigint)`,
      `create index signing_secrets_env on signing_secrets(env_id, created)`,
      `create table subscriptions (
        id text primary key, env_id text not null references environments(id), event text not null,
        url text not null, active integer not null, created bigint not null, updated bigint not null)`,
      `create index subscriptions_fanout on subscriptions(env_id, event, active)`,
      `create table events (
        id text primary key, env_id text not null, event_name text not null, body bytea not null,
        idempotency_key text, created bigint not null)`,
      `create unique index events_idempotency on events(env_id, idempotency_key) where idempotency_key is not null`,
      `create table deliveries (
        id text primary key, env_id text not null, event_id text not null, subscription_id text not null,
        event text not null, status text not null, attempts integer not null, attempt_limit integer not null,
        next_attempt_at bigint, lease_token text, last_status_code integer, last_error text,
        created bigint not null, updated bigint not null)`,
      `create index deliveries_due on deliveries(next_attempt_at) where status = 'pending'`,
      `create index deliveries_env on deliveries(env_id, id)`,
      `create index deliveries_subscription on deliveries(subscription_id, status)`,
      `create index deliveries_event on deliveries(event_id)`,
      `create table attempts (
        delivery_id text not null, number integer not null, started bigint not null,
        duration_ms integer not null, status_code integer, error text, response_body text,
        request_headers text not null, response_headers text, primary key (delivery_id, number))`,
    ],
  },
]
