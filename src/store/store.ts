// The storage contract. The core speaks only to this interface; src/store/sqlite and
// src/store/postgres implement it and pass one conformance suite (test/contract).
// Times are epoch milliseconds. Adapters translate driver errors into AppError kinds here.
import type { DigestEncoding } from '../signing/signature.ts'

export type CredentialRole = 'consumer' | 'publisher'
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'cancelled'

export interface EnvironmentRow {
  id: string
  name: string
  signatureEncoding: DigestEncoding
  created: number
}

export interface CredentialRow {
  id: string
  envId: string
  role: CredentialRole
  name: string | null
  key: string
  secretHash: string
  created: number
  revoked: number | null
}

export interface SigningSecretRow {
  id: string
  envId: string
  keyId: string
  ciphertext: string
  created: number
  /** null while current; set when a newer secret replaced it. */
  expires: number | null
}

export interface SubscriptionRow {
  id: string
  envId: string
  event: string
  url: string
  active: boolean
  created: number
  updated: number
}

export interface EventRow {
  id: string
  envId: string
  eventName: string
  body: Buffer
  idempotencyKey: string | null
  created: number
}

export interface DeliveryRow {
  id: string
  envId: string
  eventId: string
  subscriptionId: string
  event: string
  status: DeliveryStatus
  attempts: number
  attemptLimit: number
  nextAttemptAt: number | null
  leaseToken: string | null
  lastStatusCode: number | null
  lastError: string | null
  created: number
  updated: number
}

export interface AttemptRow {
  deliveryId: string
  number: number
  started: number
  durationMs: number
  statusCode: number | null
  error: string | null
  responseBody: string | null
  requestHeaders: Record<string, string>
  responseHeaders: Record<string, string> | null
}

/** A delivery handed to a worker under a lease, with what it needs to send. */
export interface ClaimedDelivery {
  id: string
  envId: string
  eventId: string
  subscriptionId: string
  event: string
  /** Already counts this attempt (incremented at claim time). */
  attempts: number
  attemptLimit: number
  leaseToken: string
  url: string
  body: Buffer
}

export type Completion =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: number }
  | { kind: 'failed' }
  /** The endpoint said 410 Gone: fail this delivery, deactivate the subscription. */
  | { kind: 'gone' }

export interface CompleteInput {
  id: string
  leaseToken: string
  statusCode: number | null
  error: string | null
  outcome: Completion
  attempt: AttemptRow
}

export interface PublishInput {
  event: Omit<EventRow, 'idempotencyKey'>
  idempotencyKey: string | null
  /** An older event with the same key is reused only when created after this time. */
  idempotencySince: number
  attemptLimit: number
  newDeliveryId: () => string
}

export interface PublishResult {
  eventId: string
  eventName: string
  deliveries: number
  /** true when the idempotency key matched an earlier event: nothing was created. */
  replayed: boolean
}

export interface DeliveryFilter {
  subscriptionId?: string
  status?: DeliveryStatus
  /** Exclusive upper bound on id (ids sort by creation). */
  beforeId?: string
  limit: number
}

export interface ClaimInput {
  now: number
  limit: number
  leaseMs: number
  /** Subscriptions this worker has no room for now. */
  excludeSubscriptions: readonly string[]
}

export interface StoreCapabilities {
  /** Several processes may write at once (PostgreSQL); SQLite has one writer at a time. */
  concurrentWriters: boolean
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres'
  readonly capabilities: StoreCapabilities
  migrate(): Promise<void>
  close(): Promise<void>

  environments: {
    create(env: EnvironmentRow, firstSecret: SigningSecretRow): Promise<void>
    list(): Promise<EnvironmentRow[]>
    get(id: string): Promise<EnvironmentRow | undefined>
  }
  credentials: {
    create(row: CredentialRow): Promise<void>
    findByKey(key: string): Promise<CredentialRow | undefined>
    /** Revokes; false when no such live credential in that environment. */
    revoke(envId: string, id: string, now: number): Promise<boolean>
  }
  secrets: {
    /** Adds a new current secret; every older one that has no expiry yet expires at previousExpires. */
    rotate(row: SigningSecretRow, previousExpires: number): Promise<void>
    /** Secrets valid at `now` for each environment, newest first. */
    listValid(envIds: readonly string[], now: number): Promise<SigningSecretRow[]>
  }
  subscriptions: {
    list(envId: string): Promise<SubscriptionRow[]>
    get(envId: string, id: string): Promise<SubscriptionRow | undefined>
    create(row: SubscriptionRow): Promise<void>
    /** Replaces event, url, active. Deactivating cancels its pending deliveries. */
    update(row: SubscriptionRow): Promise<boolean>
    /** Deletes and cancels its pending deliveries. */
    delete(envId: string, id: string, now: number): Promise<boolean>
  }
  events: {
    /** One transaction: idempotency check, the event, one delivery per active subscription. */
    publish(input: PublishInput): Promise<PublishResult>
  }
  deliveries: {
    list(envId: string, filter: DeliveryFilter): Promise<DeliveryRow[]>
    get(envId: string, id: string): Promise<DeliveryRow | undefined>
    attempts(deliveryId: string): Promise<AttemptRow[]>
    /** Due now, unless leased; moves status back to pending and grants one more attempt. */
    retryNow(envId: string, id: string, now: number): Promise<DeliveryRow | undefined>
    /** Leases due deliveries: attempts+1, a fresh lease token, next_attempt_at = now + leaseMs. */
    claimDue(input: ClaimInput): Promise<ClaimedDelivery[]>
    /** Applies results fenced by lease token; returns the ids whose lease was still held. */
    complete(results: readonly CompleteInput[], now: number): Promise<string[]>
    /** Gives leases back untouched (the attempt was not made), e.g. on shutdown. */
    release(items: readonly { id: string; leaseToken: string }[], now: number): Promise<void>
  }
}
