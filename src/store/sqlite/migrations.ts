// SQLite schema, numbered in step with src/store/postgres/migrations.ts.
import type { Migration } from '../sql/migrate.ts'

export const sqliteMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'init',
    statements: [
      `create table environments (
        id text primary key, name text not null, signature_encoding text not null default 'hex',
        created integer not null)`,
      `create table credentials (
        id text primary key, env_id text not null references environments(id), role text not null,
        name text, key text not null unique, secret_hash text not null, created integer not null,
        revoked integer)`,
      `create index credentials_env on credentials(env_id)`,
      `create table signing_secrets (
        id text primary key, env_id text not null references environments(id), key_id text not null,
        ciphertext text not null, created integer not null, expires integer)`,
      `create index signing_secrets_env on signing_secrets(env_id, created)`,
      `create table subscriptions (
        id text primary key, env_id text not null references environments(id), event text not null,
        url text not null, active integer not null, created integer not null, updated integer not null)`,
      `create index subscriptions_fanout on subscriptions(env_id, event, active)`,
      `create table events (
        id text primary key, env_id text not null, event_name text not null, body blob not null,
        idempotency_key text, created integer not null)`,
      `create unique index events_idempotency on events(env_id, idempotency_key) where idempotency_key is not null`,
      `create table deliveries (
        id text primary key, env_id text not null, event_id text not null, subscription_id text not null,
        event text not null, status text not null, attempts integer not null, attempt_limit integer not null,
        next_attempt_at integer, lease_token text, last_status_code integer, last_error text,
        created integer not null, updated integer not null)`,
      `create index deliveries_due on deliveries(next_attempt_at) where status = 'pending'`,
      `create index deliveries_env on deliveries(env_id, id)`,
      `create index deliveries_subscription on deliveries(subscription_id, status)`,
      `create index deliveries_event on deliveries(event_id)`,
      `create table attempts (
        delivery_id text not null, number integer not null, started integer not null,
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
      `alter table subscriptions add column failing_since integer`,
      `alter table subscriptions add column last_success_at integer`,
      `alter table subscriptions add column last_failure_at integer`,
      `alter table subscriptions add column success_count integer not null default 0`,
      `alter table subscriptions add column failure_count integer not null default 0`,
      `alter table subscriptions add column deactivated_reason text`,
      `alter table events add column ordering_key text`,
      `alter table deliveries add column ordering_key text`,
      `create index deliveries_ordering on deliveries(subscription_id, ordering_key, id)
        where status = 'pending' and ordering_key is not null`,
      `create index deliveries_sub_created on deliveries(subscription_id, created)`,
      `create index events_created on events(created)`,
      `create table operational_events (
        id text primary key, env_id text, type text not null, data text not null, created integer not null,
        sent_at integer, send_attempts integer not null default 0, next_send_at integer)`,
      `create index operational_events_env on operational_events(env_id, id)`,
      `create index operational_events_unsent on operational_events(next_send_at) where sent_at is null`,
      `create table replay_jobs (
        id text primary key, env_id text not null, subscription_id text not null, since integer not null,
        until integer not null, status_filter text, state text not null, total integer not null,
        done integer not null, cursor text, lease_until integer, created integer not null, updated integer not null)`,
      `create index replay_jobs_env on replay_jobs(env_id, id)`,
      `create table cluster_locks (name text primary key, holder text not null, expires integer not null)`,
    ],
  },
  {
    version: 3,
    name: 'audit',
    statements: [
      `create table audit_log (
        id text primary key, env_id text, actor text not null, action text not null, target text,
        detail text not null, created integer not null, request_id text)`,
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
        portal_link_id text, binding text, label text not null, created integer not null,
        idle_expires integer not null, expires integer not null)`,
      `create index dashboard_sessions_credential on dashboard_sessions(credential_id) where credential_id is not null`,
      `create index dashboard_sessions_link on dashboard_sessions(portal_link_id) where portal_link_id is not null`,
      `create index dashboard_sessions_expires on dashboard_sessions(expires)`,
      `create table portal_links (
        id text primary key, env_id text not null, token_hash text not null unique,
        created integer not null, expires integer not null, used integer)`,
      `create index portal_links_env on portal_links(env_id, id)`,
      `create index portal_links_expires on portal_links(expires)`,
    ],
  },
  {
    version: 8,
    name: 'feed_and_trace',
    statements: [
      // The feed's order (GET /webhooks/feed): a counter bumped inside the publish transaction.
      // SQLite has one writer, so the order it is bumped in is the order of the commits.
      // feed_tx equals feed_seq here (PostgreSQL needs both: see its migration 8).
      `alter table events add column feed_tx integer`,
      `alter table events add column feed_seq integer`,
      `alter table events add column traceparent text`,
      `create table feed_sequence (id integer primary key check (id = 1), value integer not null)`,
      `update events set feed_seq = rowid, feed_tx = rowid`,
      `insert into feed_sequence values (1, (select coalesce(max(feed_seq), 0) from events))`,
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
        public_key text not null, key_id text not null, ciphertext text not null, created integer not null)`,
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
      `alter table subscriptions add column verification_next_at integer`,
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
        subscription_id text primary key, window_start integer not null, used integer not null)`,
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
      // 1: inserted leased by a publish's hand-off (src/store/sql/hand-offs.ts) and untouched
      // since. Such rows stay out of the due indexes, whose per-subscription entries land in the
      // middle of the index and cost a third of a delivery's insert; a hand-off is delivered
      // long before its lease runs out, and the few whose lease does run out are moved into them
      // then (dueHanded in src/store/sql/handed-deliveries.ts) through deliveries_handed, whose
      // entries (lease expiries) arrive in order.
      `alter table deliveries add column handed integer`,
      `drop index deliveries_due`,
      `create index deliveries_due on deliveries(next_attempt_at) where status = 'pending' and handed is null`,
      `drop index deliveries_sub_due`,
      `create index deliveries_sub_due on deliveries(subscription_id, next_attempt_at)
        where status = 'pending' and handed is null`,
      `create index deliveries_handed on deliveries(next_attempt_at) where status = 'pending' and handed is not null`,
    ],
  },
]
