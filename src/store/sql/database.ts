// Table types shared by the SQLite and PostgreSQL adapters (same columns in both; times are
// epoch ms in int8/integer; payloads are bytes, never jsonb, so signatures hold).
import type { Generated } from 'kysely'

export interface Database {
  environments: {
    id: string
    name: string
    signature_encoding: string
    created: number
  }
  credentials: {
    id: string
    env_id: string
    role: string
    name: string | null
    key: string
    secret_hash: string
    created: number
    revoked: number | null
  }
  signing_secrets: {
    id: string
    env_id: string
    key_id: string
    ciphertext: string
    created: number
    expires: number | null
    /** 1 once shown to someone; 0 for an environment's first secret (migration 6). */
    revealed: Generated<number>
  }
  signing_key_pairs: {
    id: string
    env_id: string
    type: string
    public_key: string
    key_id: string
    ciphertext: string
    created: number
  }
  subscriptions: {
    id: string
    env_id: string
    event: string
    url: string
    active: number
    created: number
    updated: number
    ordered: Generated<number>
    consecutive_failures: Generated<number>
    failing_since: number | null
    last_success_at: number | null
    last_failure_at: number | null
    success_count: Generated<number>
    failure_count: Generated<number>
    deactivated_reason: string | null
    destination: string | null
    destination_key_id: string | null
    destination_ciphertext: string | null
    /** Migration 11: filter, pause, held, endpoint verification. */
    filter: Generated<string | null>
    paused: Generated<number>
    held: Generated<number>
    verification: Generated<string | null>
    verification_challenge: Generated<string | null>
    verification_attempts: Generated<number>
    verification_next_at: Generated<number | null>
    verification_error: Generated<string | null>
    endpoint_auth: string | null
    endpoint_secret_key_id: string | null
    endpoint_secret: string | null
    /** Migration 12: its own delivery settings (JSON array of ms; null: the global ones). */
    retry_schedule: string | null
    timeout_ms: number | null
    rate_limit_count: number | null
    rate_limit_period_ms: number | null
    max_in_flight: number | null
    transformation: string | null
  }
  /** Migration 12: each rate-limited subscription's shared budget (the current window). */
  subscription_budgets: {
    subscription_id: string
    window_start: number
    used: number
  }
  events: {
    id: string
    env_id: string
    event_name: string
    body: Buffer
    idempotency_key: string | null
    created: number
    ordering_key: string | null
    /** The feed's order (migration 8); null for an event sent to one subscription only (a test). */
    feed_tx: Generated<number | null>
    feed_seq: Generated<number | null>
    /** The W3C traceparent given at publish (migration 8). */
    traceparent: Generated<string | null>
  }
  feed_sequence: {
    id: number
    value: number
  }
  deliveries: {
    id: string
    env_id: string
    event_id: string
    subscription_id: string
    event: string
    status: string
    attempts: number
    attempt_limit: number
    next_attempt_at: number | null
    lease_token: string | null
    last_status_code: number | null
    last_error: string | null
    created: number
    updated: number
    ordering_key: string | null
    /** 1: inserted leased by a hand-off and outside the due indexes until dueHanded (SQLite). */
    handed: number | null
  }
  attempts: {
    delivery_id: string
    number: number
    started: number
    duration_ms: number
    status_code: number | null
    error: string | null
    response_body: string | null
    request_headers: string
    response_headers: string | null
    /** 1: request_headers holds only the headers that vary (migration 15). */
    lean_headers: number
  }
  operational_events: {
    id: string
    env_id: string | null
    type: string
    data: string
    created: number
    sent_at: number | null
    send_attempts: Generated<number>
    next_send_at: number | null
  }
  replay_jobs: {
    id: string
    env_id: string
    subscription_id: string
    since: number
    until: number
    status_filter: string | null
    state: string
    total: number
    done: number
    cursor: string | null
    /** No longer set: a step is one transaction that locks its job (migration 1 made the column). */
    lease_until: number | null
    created: number
    updated: number
  }
  cluster_locks: {
    name: string
    holder: string
    expires: number
  }
  audit_log: {
    id: string
    env_id: string | null
    actor: string
    action: string
    target: string | null
    detail: string
    created: number
    request_id: string | null
  }
  dashboard_sessions: {
    id_hash: string
    kind: string
    env_id: string | null
    credential_id: string | null
    portal_link_id: string | null
    binding: string | null
    label: string
    created: number
    idle_expires: number
    expires: number
  }
  portal_links: {
    id: string
    env_id: string
    token_hash: string
    created: number
    expires: number
    used: number | null
  }
  schema_migrations: {
    version: number
    name: string
    applied: Generated<number>
  }
}
