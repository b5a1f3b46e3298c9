// Rows of the database as the Store contract's types, and back (the columns a write sets).
import type { Kysely, Selectable, Transaction } from 'kysely'
import type { DigestEncoding } from '../../signing/signature.ts'
import type {
  CredentialRole,
  CredentialRow,
  DeliveryRow,
  DeliveryStatus,
  EndpointAuthRow,
  EnvironmentRow,
  OperationalEventRow,
  OperationalEventType,
  ReplayJobRow,
  ReplayState,
  SigningSecretRow,
  StoredAttempt,
  SubscriptionRow,
} from '../store.ts'
import type { Database } from './database.ts'
import { destinationOf } from './destination-columns.ts'
import { toSettings } from './subscription-budgets.ts'
import { holdFieldsOf } from './subscription-holds.ts'

export type Db = Kysely<Database> | Transaction<Database>

export const toEnv = (r: Selectable<Database['environments']>): EnvironmentRow => ({
  id: r.id,
  name: r.name,
  signatureEncoding: r.signature_encoding as DigestEncoding,
  created: Number(r.created),
})

export const toCredential = (r: Selectable<Database['credentials']>): CredentialRow => ({
  id: r.id,
  envId: r.env_id,
  role: r.role as CredentialRole,
  name: r.name,
  key: r.key,
  secretHash: r.secret_hash,
  created: Number(r.created),
  revoked: r.revoked === null ? null : Number(r.revoked),
})

export const toSecret = (r: Selectable<Database['signing_secrets']>): SigningSecretRow => ({
  id: r.id,
  envId: r.env_id,
  keyId: r.key_id,
  ciphertext: r.ciphertext,
  created: Number(r.created),
  expires: r.expires === null ? null : Number(r.expires),
  revealed: Number(r.revealed) === 1,
})

export const numOrNull = (v: number | null): number | null => (v === null ? null : Number(v))

export const toSubscription = (r: Selectable<Database['subscriptions']>): SubscriptionRow => ({
  id: r.id,
  envId: r.env_id,
  event: r.event,
  url: r.url,
  active: Number(r.active) === 1,
  ordered: Number(r.ordered) === 1,
  created: Number(r.created),
  updated: Number(r.updated),
  health: {
    consecutiveFailures: Number(r.consecutive_failures),
    failingSince: numOrNull(r.failing_since),
    lastSuccessAt: numOrNull(r.last_success_at),
    lastFailureAt: numOrNull(r.last_failure_at),
    successCount: Number(r.success_count),
    failureCount: Number(r.failure_count),
  },
  deactivatedReason: r.deactivated_reason,
  destination: destinationOf(r),
  endpoint: toEndpoint(r),
  settings: toSettings(r),
  transformation: r.transformation ?? null,
  ...holdFieldsOf(r),
})

export function toEndpoint(r: Selectable<Database['subscriptions']>): EndpointAuthRow | null {
  if (r.endpoint_auth === null || r.endpoint_secret === null || r.endpoint_secret_key_id === null) return null
  const shape = JSON.parse(r.endpoint_auth) as Pick<EndpointAuthRow, 'auth' | 'headerNames'>
  return {
    auth: shape.auth,
    headerNames: shape.headerNames,
    sealed: { keyId: r.endpoint_secret_key_id, ciphertext: r.endpoint_secret },
  }
}

/** The endpoint columns of a row being written; nothing when the row does not say (left as stored). */
export function endpointColumns(s: SubscriptionRow) {
  if (s.endpoint === undefined) return {}
  const e = s.endpoint
  return {
    endpoint_auth: e === null ? null : JSON.stringify({ auth: e.auth, headerNames: e.headerNames }),
    endpoint_secret_key_id: e === null ? null : e.sealed.keyId,
    endpoint_secret: e === null ? null : e.sealed.ciphertext,
  }
}

export const toOperationalEvent = (r: Selectable<Database['operational_events']>): OperationalEventRow => ({
  id: r.id,
  envId: r.env_id,
  type: r.type as OperationalEventType,
  data: JSON.parse(r.data) as Record<string, unknown>,
  created: Number(r.created),
  sentAt: numOrNull(r.sent_at),
  sendAttempts: Number(r.send_attempts),
})

export const toReplay = (r: Selectable<Database['replay_jobs']>): ReplayJobRow => ({
  id: r.id,
  envId: r.env_id,
  subscriptionId: r.subscription_id,
  since: Number(r.since),
  until: Number(r.until),
  statusFilter: r.status_filter as DeliveryStatus | null,
  state: r.state as ReplayState,
  total: Number(r.total),
  done: Number(r.done),
  created: Number(r.created),
  updated: Number(r.updated),
})

export const toDelivery = (r: Selectable<Database['deliveries']>): DeliveryRow => ({
  id: r.id,
  envId: r.env_id,
  eventId: r.event_id,
  subscriptionId: r.subscription_id,
  event: r.event,
  status: r.status as DeliveryStatus,
  attempts: r.attempts,
  attemptLimit: r.attempt_limit,
  nextAttemptAt: r.next_attempt_at === null ? null : Number(r.next_attempt_at),
  leaseToken: r.lease_token,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  orderingKey: r.ordering_key,
  created: Number(r.created),
  updated: Number(r.updated),
})

export const toAttempt = (r: Selectable<Database['attempts']>): StoredAttempt => ({
  deliveryId: r.delivery_id,
  number: r.number,
  started: Number(r.started),
  durationMs: r.duration_ms,
  statusCode: r.status_code,
  error: r.error,
  responseBody: r.response_body,
  requestHeaders: JSON.parse(r.request_headers) as Record<string, string>,
  responseHeaders:
    r.response_headers === null ? null : (JSON.parse(r.response_headers) as Record<string, string>),
  ...(Number(r.lean_headers) === 1 ? { leanHeaders: true as const } : {}),
})
