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
  {
    version: 2,
    name: 'engine',
    statements: [
      `alter table subscriptions add column ordered integer not null default 0`,
      `alter table subscriptions add column consecutive_failures integer not null default 0`,
      `alter table subscriptions add column failing_since bigint`,
      `alter table subscriptions add column last_success_at bigint`,
      `alter table subscriptions add column last_failure_at bigint`,
      `alter table subscriptions add column success_count bigint not null default 0`,
      `alter table subscriptions add column failure_count bigint not null default 0`,
      `alter table subscriptions add column deactivated_reason text`,
      `alter table events add column ordering_key text`,
      `alter table deliveries add column ordering_key text`,
      `create index deliveries_ordering on deliveries(subscription_id, ordering_key, id)
        where status = 'pending' and ordering_key is not null`,
      `create index deliveries_sub_created on deliveries(subscription_id, created)`,
      `create index events_created on events(created)`,
      `create table operational_events (
        id text primary key, env_id text, type text not null, data text not null, created bigint not null,
        sent_at bigint, send_attempts integer not null default 0, next_send_at bigint)`,
      `create index operational_events_env on operational_events(env_id, id)`,
      `create index operational_events_unsent on operational_events(next_send_at) where sent_at is null`,
      `create table replay_jobs (
        id text primary key, env_id text not null, subscription_id text not null, since bigint not null,
        until bigint not null, status_filter text, state text not null, total integer not null,
        done integer not null, cursor text, lease_until bigint, created bigint not null, updated bigint not null)`,
      `create index replay_jobs_env on replay_jobs(env_id, id)`,
      `create table cluster_locks (name text primary key, holder text not null, expires bigint not null)`,
    ],
  },
  {
    version: 3,
    name: 'audit',
    statements: [
      `create table audit_log (
        id text primary key, env_id text, actor text not null, action text not null, target text,
        detail text not null, created bigint not null, request_id text)`,
      `create index audit_log_env on audit_log(env_id, id)`,
      `create index audit_log_action on audit_log(action, id)`,
    ],
  },
  {
    version: 4,
    name: 'fewer_delivery_indexes',
    statements: [
      // Every status change rewrote this index; (subscription_id, created) serves the same
      // lookups (cancelling a subscription's pending deliveries, replays) without it.
      `drop index deliveries_subscription`,
    ],
  },
  {
    version: 5,
    name: 'subscription_due_index',
    statements: [
      // A subscription's own due deliveries, oldest first: fair-share claims for one
      // subscription read them here instead of walking its whole history (or the whole backlog).
      `create index deliveries_sub_due on deliveries(subscription_id, next_attempt_at) where status = 'pending'`,
    ],
  },
  {
    version: 6,
    name: 'unrevealed_secrets',
    statements: [
      // A secret nobody was shown (the one an environment is created with) is replaced at once
      // by the first rotation instead of signing beside the new one through the grace period.
      `alter table signing_secrets add column revealed integer not null default 1`,
      // Until now only a rotation showed a secret: each environment's first one never was.
      `update signing_secrets set revealed = 0
        where id in (select min(id) from signing_secrets group by env_id)`,
    ],
  },
  {
    version: 7,
    name: 'dashboard_sessions',
    statements: [
      // Dashboard sessions and portal links live here, so that every node agrees on them: a
      // cookie or link holds a random token, a row only its SHA-256.
      `create table dashboard_sessions (
        id_hash text primary key, kind text not null, env_id text, credential_id text,
        portal_link_id text, binding text, label text not null, created bigint not null,
        idle_expires bigint not null, expires bigint not null)`,
      `create index dashboard_sessions_credential on dashboard_sessions(credential_id) where credential_id is not null`,
      `create index dashboard_sessions_link on dashboard_sessions(portal_link_id) where portal_link_id is not null`,
      `create index dashboard_sessions_expires on dashboard_sessions(expires)`,
      `create table portal_links (
        id text primary key, env_id text not null, token_hash text not null unique,
        created bigint not null, expires bigint not null, used bigint)`,
      `create index portal_links_env on portal_links(env_id, id)`,
      `create index portal_links_expires on portal_links(expires)`,
    ],
  },
  {
    version: 8,
    name: 'feed_and_trace',
    statements: [
      // The feed's order (GET /webhooks/feed) is (feed_tx, feed_seq): the publishing
      // transaction's id, then a sequence. Neither is commit-ordered on its own, so the feed only
      // returns rows whose transaction id is below the oldest one still running
      // (pg_snapshot_xmin): every transaction that could still commit an event comes after all
      // that was returned, and a cursor never skips a late commit. Writers never wait for it.
      `alter table events add column feed_tx bigint, add column feed_seq bigint, add column traceparent text`,
      `create sequence events_feed_seq`,
      `update events e set feed_tx = 0, feed_seq = o.n
        from (select id, row_number() over (order by created, id) as n from events) o where e.id = o.id`,
      `select setval('events_feed_seq', (select coalesce(max(feed_seq), 0) + 1 from events), false)`,
      `alter table events alter column feed_seq set default nextval('events_feed_seq'),
        alter column feed_tx set default (pg_current_xact_id()::text::bigint)`,
      `create index events_feed on events(env_id, feed_tx, feed_seq)`,
    ],
  },
  {
    version: 9,
    name: 'signing_key_pairs',
    statements: [
      // Ed25519 key pairs (Standard Webhooks v1a): the private key sealed like a signing secret,
      // the public key in the clear (it is what receivers are given).
      `create table signing_key_pairs (
        id text primary key, env_id text not null references environments(id), type text not null,
        public_key text not null, key_id text not null, ciphertext text not null, created bigint not null)`,
      `create index signing_key_pairs_env on signing_key_pairs(env_id, created)`,
    ],
  },
  {
    version: 10,
    name: 'subscription_destinations',
    statements: [
      // A subscription's destination when it is not an HTTP POST to `url` (docs/destinations.md):
      // its type and fields as shown (the URL's password masked), and the URL with its
      // credentials sealed like a signing secret (key id + ciphertext; null when it has none).
      `alter table subscriptions add column destination text`,
      `alter table subscriptions add column destination_key_id text`,
      `alter table subscriptions add column destination_ciphertext text`,
    ],
  },
  {
    version: 11,
    name: 'subscription_filters_and_holds',
    statements: [
      // A payload filter (its JSON text), pause, and the one "held" flag that pause and endpoint
      // verification share: a held subscription's pending deliveries wait with no due time.
      `alter table subscriptions add column filter text`,
      `alter table subscriptions add column paused integer not null default 0`,
      `alter table subscriptions add column held integer not null default 0`,
      `alter table subscriptions add column verification text`,
      `alter table subscriptions add column verification_challenge text`,
      `alter table subscriptions add column verification_attempts integer not null default 0`,
      `alter table subscriptions add column verification_next_at bigint`,
      `alter table subscriptions add column verification_error text`,
      `create index subscriptions_verification_due on subscriptions(verification_next_at)
        where verification_next_at is not null`,
    ],
  },
  {
    version: 12,
    name: 'subscription_settings',
    statements: [
      // A subscription's own delivery settings (docs/subscription-settings.md); null: the global one.
      `alter table subscriptions add column retry_schedule text`,
      `alter table subscriptions add column timeout_ms integer`,
      `alter table subscriptions add column rate_limit_count integer`,
      `alter table subscriptions add column rate_limit_period_ms integer`,
      `alter table subscriptions add column max_in_flight integer`,
      // The rate budget every worker shares: attempts claimed in the current window. One row per
      // rate-limited subscription, made by its first claim, locked by each claim that spends it.
      `create table subscription_budgets (
        subscription_id text primary key, window_start bigint not null, used integer not null)`,
    ],
  },
  {
    version: 13,
    name: 'subscription_transformation',
    statements: [
      // The JavaScript of a subscription's transformation (docs/transformations.md); null: none.
      `alter table subscriptions add column transformation text`,
    ],
  },
  {
    version: 14,
    name: 'endpoint_auth',
    statements: [
      // A subscription's endpoint authentication and static headers: the public part (auth type,
      // username, token URL, client id, certificate, header names) as JSON, the secrets
      // (passwords, tokens, client secret, private key, header values) sealed like a signing
      // secret, never in the clear.
      `alter table subscriptions add column endpoint_auth text`,
      `alter table subscriptions add column endpoint_secret_key_id text`,
      `alter table subscriptions add column endpoint_secret text`,
    ],
  },
  {
    version: 15,
    name: 'lean_attempt_headers',
    statements: [
      // 1: the attempt's request_headers hold only the headers that vary; the others follow from
      // the delivery and the attempt (src/deliveries/attempt-headers.ts). 0: all of them, as before.
      `alter table attempts add column lean_headers integer not null default 0`,
    ],
  },
  {
    version: 16,
    name: 'handed_deliveries',
    statements: [
      // In step with SQLite's schema. On PostgreSQL hand-offs stay in the due indexes (its
      // inserts are not what bounds it), so `handed` stays null and deliveries_handed empty: it
      // is there for the statements both adapters share (src/store/sql/handed-deliveries.ts).
      `alter table deliveries add column handed smallint`,
      `create index deliveries_handed on deliveries(next_attempt_at) where status = 'pending' and handed is not null`,
    ],
  },
]
