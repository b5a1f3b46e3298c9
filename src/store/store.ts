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
  /** Shown to someone (a rotation's answer); the secret an environment is created with is not. */
  revealed: boolean
}

/** An Ed25519 key pair (Standard Webhooks v1a): the private key sealed, the public one in the clear. */
export interface SigningKeyPairRow {
  id: string
  envId: string
  type: 'ed25519'
  /** `whpk_` + base64 of the raw 32-byte public key. */
  publicKey: string
  keyId: string
  /** The sealed private key (PKCS#8 DER, base64). */
  ciphertext: string
  created: number
}

export interface SubscriptionHealth {
  consecutiveFailures: number
  /** When the current run of failures began; null after a success. */
  failingSince: number | null
  lastSuccessAt: number | null
  lastFailureAt: number | null
  successCount: number
  failureCount: number
}

export const freshHealth: SubscriptionHealth = {
  consecutiveFailures: 0,
  failingSince: null,
  lastSuccessAt: null,
  lastFailureAt: null,
  successCount: 0,
  failureCount: 0,
}

export interface SubscriptionRow {
  id: string
  envId: string
  event: string
  url: string
  active: boolean
  /** Deliveries that share an ordering key go out one at a time, in publish order. */
  ordered: boolean
  created: number
  updated: number
  health: SubscriptionHealth
  /** Why it was deactivated by Hookpost (`gone`, `failing`), null otherwise. */
  deactivatedReason: string | null
  /**
   * Where its deliveries go when that is not an HTTP POST to `url` (a message broker); absent or
   * null: HTTP. For a broker, `url` holds the destination's URL as shown (password masked).
   */
  destination?: StoredDestination | null
  /** The JavaScript of its transformation (defines `handler`), null when it has none. */
  transformation?: string | null
  /** The payload filter's JSON text (checked when saved); absent or null: every event. */
  filter?: string | null
  /** Paused by its owner: deliveries are created and kept, none is sent. */
  paused?: boolean
  /**
   * Nothing is sent while held (paused, or its endpoint not verified): its pending deliveries
   * wait with no due time. The core decides it (subscriptions/hold.ts); the store keeps the
   * deliveries in step: holding takes the due time off the pending ones not in flight,
   * releasing makes them due again, oldest first.
   */
  held?: boolean
  /** Endpoint ownership verification (HOOKPOST_VERIFY_ENDPOINTS); absent or null: never asked. */
  verification?: EndpointVerification | null
  /** Endpoint authentication and static headers; null (or absent) when none. */
  endpoint?: EndpointAuthRow | null
  /** Its own delivery settings (docs/subscription-settings.md); absent or null fields: the global ones. */
  settings?: SubscriptionSettings | undefined
}

/** A broker destination as stored (docs/destinations.md). */
export interface StoredDestination {
  type: string
  /** Its fields as shown: `url` with the password masked (`amqp://user:****@host`). */
  fields: Record<string, string>
  /** The URL with its credentials, sealed under the master key; null when it has none. */
  sealedUrl: { keyId: string; ciphertext: string } | null
}

/** The public part of a subscription's endpoint authentication (shown back, secrets left out). */
export type EndpointAuthPublic =
  | { type: 'basic'; username: string }
  | { type: 'bearer' }
  | { type: 'oauth2'; tokenUrl: string; clientId: string; scope?: string }
  | { type: 'mtls'; certificate: string }

export interface EndpointAuthRow {
  auth: EndpointAuthPublic | null
  /** Names of the static headers, lower case; their values are sealed. */
  headerNames: string[]
  /** The secrets (password, token, client secret, private key, header values), sealed as one JSON. */
  sealed: { keyId: string; ciphertext: string }
}

/** A subscription's own delivery settings; null: the service's setting applies. */
export interface SubscriptionSettings {
  /** Delays after attempt 1, 2, … in ms (replaces HOOKPOST_RETRY_SCHEDULE). */
  retryScheduleMs: number[] | null
  /** Total deadline of one attempt in ms (replaces HOOKPOST_REQUEST_TIMEOUT). */
  timeoutMs: number | null
  /** At most `count` attempts started per `periodMs` (1 s or 1 min) across all workers. */
  rateLimit: { count: number; periodMs: number } | null
  /** At most this many attempts leased at once across all workers. */
  maxInFlight: number | null
}

export const noSettings: SubscriptionSettings = {
  retryScheduleMs: null,
  timeoutMs: null,
  rateLimit: null,
  maxInFlight: null,
}

export type VerificationState = 'pending' | 'verified' | 'failed'

export interface EndpointVerification {
  state: VerificationState
  /** The challenge the endpoint must echo; the same on every attempt of one verification. */
  challenge: string | null
  /** Challenges sent for this verification so far. */
  attempts: number
  /** When the next challenge is due (pending only). */
  nextAt: number | null
  lastError: string | null
}

/** How a challenge went: verified, another try at `at`, or given up. */
export type VerificationOutcome =
  | { kind: 'verified' }
  | { kind: 'retry'; at: number; error: string }
  | { kind: 'failed'; error: string }

export interface EventRow {
  id: string
  envId: string
  eventName: string
  body: Buffer
  idempotencyKey: string | null
  orderingKey: string | null
  created: number
  /** The W3C traceparent given at publish, sent on every attempt; absent or null: none. */
  traceparent?: string | null
}

/** Where an event stands in its environment's feed; positions sort as (tx, seq). */
export interface FeedPosition {
  tx: number
  seq: number
}

/** One event of the feed, its body as stored. */
export interface FeedEventRow {
  id: string
  eventName: string
  created: number
  body: Buffer
  position: FeedPosition
}

export interface FeedQuery {
  /** Only events after this position; null: from the oldest kept. */
  after: FeedPosition | null
  eventName?: string
  limit: number
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
  orderingKey: string | null
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

/**
 * An attempt as the store keeps it. With `leanHeaders`, requestHeaders holds only the headers
 * that vary; the others follow from the delivery and the attempt (src/deliveries/attempt-headers.ts).
 */
export interface StoredAttempt extends AttemptRow {
  leanHeaders?: true
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
  /** Its subscription's `updated` when claimed: the worker's cached row is current if it matches. */
  subscriptionUpdated: number
  body: Buffer
  orderingKey: string | null
  /** The event's traceparent, null when it was published without one. */
  traceparent: string | null
  /** When it became due (its next_attempt_at before this claim). */
  dueAt: number
}

export type Completion =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: number }
  | { kind: 'failed' }
  /** The endpoint said 410 Gone: fail this delivery, deactivate the subscription. */
  | { kind: 'gone' }
  /** Its transformation returned `{ cancel: true }`: the delivery ends `cancelled`, nothing sent. */
  | { kind: 'cancelled' }

export interface CompleteInput {
  id: string
  leaseToken: string
  statusCode: number | null
  error: string | null
  outcome: Completion
  attempt: StoredAttempt
  /** false: the attempt says nothing about the endpoint (e.g. our egress proxy failed), its health is left alone. */
  countsForHealth?: boolean
}

export interface PublishInput {
  event: Omit<EventRow, 'idempotencyKey'>
  idempotencyKey: string | null
  /** An older event with the same key is reused only when created after this time. */
  idempotencySince: number
  /** The attempt limit of a delivery to a subscription without its own retry schedule. */
  attemptLimit: number
  /** The attempt limit for a subscription with its own schedule (absent: attemptLimit for all). */
  attemptLimitFor?: (retryScheduleMs: readonly number[]) => number
  newDeliveryId: () => string
  /**
   * Whether the event goes to this subscription of its type (its filter, decided by the core);
   * absent: every active one. Called inside the transaction, once per subscription.
   */
  accepts?: (subscription: { id: string; updated: number; filter: string }) => boolean
  /** Called inside the transaction, after every write and before the commit (crash tests). */
  beforeCommit?: () => void
  /** The local worker's hand-off at commit (role all); absent: every delivery is inserted due. */
  handOff?: HandOff
}

/** A new delivery the publish transaction offers to the local worker (HandOff.take). */
export interface HandOffCandidate {
  subscriptionId: string
  /** Its subscription is held (paused, endpoint not verified): not due. */
  held: boolean
  /** The delivery's ordering key (null: unordered). */
  orderingKey: string | null
  /** Its subscription has a budget shared by all workers (rateLimit or maxInFlight). */
  limited: boolean
}

/**
 * Hand-off at commit: the deliveries `take` accepts are inserted already leased (a lease token,
 * `next_attempt_at` = the event's `created` + `leaseMs`, the attempt counted, as a claim does)
 * in the publish transaction, and given to `handed` after the commit as claimed deliveries
 * (`dueAt` = the event's `created`). Were the process to die first, the lease expires and any
 * worker claims them again. The core decides (`take`), the store persists.
 */
export interface HandOff {
  leaseMs: number
  /** Called inside the transaction, once per delivery about to be inserted. */
  take(candidate: HandOffCandidate): boolean
  /** Called after the commit with the leased deliveries of this publish, when there are any. */
  handed(deliveries: ClaimedDelivery[]): void
}

export interface PublishResult {
  eventId: string
  eventName: string
  deliveries: number
  /** true when the idempotency key matched an earlier event: nothing was created. */
  replayed: boolean
}

/** A subscription's health as a completion finds it (its row locked). */
export interface HealthBefore {
  active: boolean
  consecutiveFailures: number
  failingSince: number | null
  lastSuccessAt: number | null
  lastFailureAt: number | null
}

/** Its health after a completion's outcomes, and whether it is to be deactivated and why. */
export interface HealthVerdict {
  consecutiveFailures: number
  failingSince: number | null
  lastSuccessAt: number | null
  lastFailureAt: number | null
  /** Added to its success and failure counters. */
  successes: number
  failures: number
  deactivate: 'gone' | 'failing' | null
}

/** An operational event a rule asks the store to record. */
export interface OperationalEventDraft {
  type: OperationalEventType
  data: Record<string, unknown>
}

/**
 * The core's rules a completion applies inside its transaction (src/deliveries/completion-rules.ts):
 * the store reads and writes, these decide.
 */
export interface CompletionRules {
  /** Folds one subscription's outcomes of this batch (in order, `ok` = success) into its health. */
  settle(
    before: HealthBefore,
    results: readonly { ok: boolean; at: number }[],
    gone: boolean,
    now: number,
  ): HealthVerdict
  /** The event a delivery's final outcome emits, if any. */
  deliveryEnded(
    outcome: Completion,
    d: {
      id: string
      subscriptionId: string
      eventId: string
      attempts: number
      statusCode: number | null
      error: string | null
    },
  ): OperationalEventDraft | null
  /** The event a deactivation emits. */
  deactivated(subscriptionId: string, verdict: HealthVerdict): OperationalEventDraft
}

export type OperationalEventType = 'delivery.failed' | 'subscription.deactivated' | 'replay.finished'

export interface OperationalEventRow {
  id: string
  envId: string | null
  type: OperationalEventType
  data: Record<string, unknown>
  created: number
  sentAt: number | null
  sendAttempts: number
}

export type ReplayState = 'running' | 'finished' | 'cancelled'

export interface ReplayJobRow {
  id: string
  envId: string
  subscriptionId: string
  since: number
  until: number
  statusFilter: DeliveryStatus | null
  state: ReplayState
  total: number
  done: number
  created: number
  updated: number
}

/** One line of the append-only audit log: who did what to which resource, never a secret. */
export interface AuditEntryRow {
  id: string
  /** The environment concerned; null for service-wide actions (master key rotation). */
  envId: string | null
  /** `operator`, or the id of the credential that acted. */
  actor: string
  action: string
  /** The id of the resource acted on, when there is one. */
  target: string | null
  /** What changed (names, roles, counts, key ids), never a secret value. */
  detail: Record<string, unknown>
  created: number
  requestId: string | null
}

export interface AuditFilter {
  envId?: string
  action?: string
  /** Exclusive upper bound on id (ids sort by creation). */
  beforeId?: string
  limit: number
}

export interface SweepResult {
  events: number
  deliveries: number
  attempts: number
  operationalEvents: number
}

export type DashboardSessionKind = 'operator' | 'credential' | 'portal'

/** A signed-in dashboard session. Its cookie holds a random id; the store keeps only its SHA-256. */
export interface DashboardSessionRow {
  idHash: string
  kind: DashboardSessionKind
  /** credential and portal sessions: the environment they act in. */
  envId: string | null
  credentialId: string | null
  portalLinkId: string | null
  /** operator sessions: ties them to the operator token (changing it ends them). */
  binding: string | null
  /** Who signed in, as shown on the page (never a secret). */
  label: string
  created: number
  /** Idle expiry, pushed forward by use, never past `expires`. */
  idleExpires: number
  /** Absolute expiry. */
  expires: number
}

/** A one-time link to an environment's consumer portal; the store keeps only its token's SHA-256. */
export interface PortalLinkRow {
  id: string
  envId: string
  tokenHash: string
  created: number
  expires: number
  /** When it was opened (it works once); null while unused. */
  used: number | null
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
  /** Rows claimed at most, over `serve` and `scan` together. */
  limit: number
  leaseMs: number
  /**
   * Claim these subscriptions' oldest due rows first, each up to its own limit, read from the
   * subscription's own index range (cheap however big the backlog elsewhere).
   */
  serve?: readonly { subscriptionId: string; limit: number }[]
  /** Then the oldest due rows across subscriptions, for what `serve` left of the limit. */
  scan?: ClaimScan
}

export interface ClaimScan {
  /** Subscriptions left out (the claimer has no room for them, or serves them above). */
  exclude: readonly string[]
  /**
   * Only rows that fell due after this time: a claimer that saw no other due work then looks
   * only at what became due since, instead of walking the excluded subscriptions' backlog.
   */
  dueAfter?: number
  /**
   * At most this many rows per subscription: `busy` gives a subscription's own room, any other
   * gets `perSubscription`. Due rows beyond a subscription's room are left for later rather
   * than claimed and given back. Absent: no per-subscription cap.
   */
  room?: { perSubscription: number; busy: ReadonlyMap<string, number> }
}

export interface ClaimResult {
  deliveries: ClaimedDelivery[]
  /** The scan saw every due row it could take (outside `exclude`, after `dueAfter`). */
  scanExhausted: boolean
  /** Served subscriptions that had fewer due rows than their limit: none is left due now. */
  drained: ReadonlySet<string>
  /** Subscriptions the scan found more due rows of than their room: they have more waiting. */
  crowded: ReadonlySet<string>
  /**
   * Subscriptions with due rows left unclaimed because their budget is spent (rate limit or
   * maxInFlight), with when to ask again: the start of the next rate window, or soon for
   * maxInFlight (a completion frees room). Those rows stay pending and due; no attempt is counted.
   */
  throttled: ReadonlyMap<string, number>
}

export interface StoreCapabilities {
  /** Several processes may write at once (PostgreSQL); SQLite has one writer at a time. */
  concurrentWriters: boolean
}

/** Whether the store takes writes now (GET /health/ready). */
export type StoreReadiness = { ready: true } | { ready: false; reason: string; since: number }

export interface Store {
  readonly dialect: 'sqlite' | 'postgres'
  readonly capabilities: StoreCapabilities
  migrate(): Promise<void>
  close(): Promise<void>
  /**
   * Unready from a write that failed because the store is unavailable (disk full, read-only,
   * unreachable) until a write succeeds again; it probes with a write at most once a second.
   */
  readiness(): Promise<StoreReadiness>

  work: {
    /**
     * Calls onWork when another process makes deliveries due (PostgreSQL LISTEN/NOTIFY).
     * Where the store cannot announce (SQLite), it never calls: workers poll.
     */
    listen(onWork: () => void): Promise<() => Promise<void>>
  }

  environments: {
    create(env: EnvironmentRow, firstSecret: SigningSecretRow): Promise<void>
    list(): Promise<EnvironmentRow[]>
    get(id: string): Promise<EnvironmentRow | undefined>
  }
  credentials: {
    create(row: CredentialRow): Promise<void>
    findByKey(key: string): Promise<CredentialRow | undefined>
    /** An environment's credentials, live and revoked, oldest first. */
    list(envId: string): Promise<CredentialRow[]>
    /** Revokes and ends its dashboard sessions; false when no such live credential in that environment. */
    revoke(envId: string, id: string, now: number): Promise<boolean>
  }
  dashboardSessions: {
    create(row: DashboardSessionRow): Promise<void>
    /** The session with this id hash, unless it has expired (idle or absolute) at `now` or its credential is revoked. */
    get(idHash: string, now: number): Promise<DashboardSessionRow | undefined>
    /** Moves the idle expiry. */
    touch(idHash: string, idleExpires: number): Promise<void>
    /** Ends one session; false when there was none. */
    delete(idHash: string): Promise<boolean>
    /** Ends every session (master key rotation); how many there were. */
    deleteAll(): Promise<number>
    /** Deletes the sessions expired at `now`; how many. */
    sweep(now: number): Promise<number>
  }
  portalLinks: {
    create(row: PortalLinkRow): Promise<void>
    /** An environment's links not yet expired at `now`, used or not, newest first. */
    list(envId: string, now: number): Promise<PortalLinkRow[]>
    /**
     * One transaction: marks the unused link with this token hash, unexpired at `now`, used and
     * creates the session start(link) gives. Undefined, writing nothing, when there is no such link.
     */
    redeem(
      tokenHash: string,
      now: number,
      start: (link: PortalLinkRow) => DashboardSessionRow,
    ): Promise<DashboardSessionRow | undefined>
    /** Deletes an unexpired link of that environment and ends its session; false when none. */
    revoke(envId: string, id: string, now: number): Promise<boolean>
    /** Deletes every link (master key rotation, before every session ends); how many. */
    deleteAll(): Promise<number>
    /** Deletes the links expired at `now`; how many. */
    sweep(now: number): Promise<number>
  }
  secrets: {
    /**
     * Adds a new current secret; every older one that has no expiry yet expires at
     * `expires.revealed` if it was shown to someone, at `expires.unrevealed` if not. Returns
     * those older ones as they are now. Concurrent rotations of one environment, from any
     * process, take turns: each replaces the one before it, and one secret is left current.
     */
    rotate(
      row: SigningSecretRow,
      expires: { revealed: number; unrevealed: number },
    ): Promise<SigningSecretRow[]>
    /** Secrets valid at `now` for each environment: the current one, then the others newest first. */
    listValid(envIds: readonly string[], now: number): Promise<SigningSecretRow[]>
    /** Every secret row, expired ones too, by ascending id after afterId (master key rotation). */
    listAll(afterId: string | null, limit: number): Promise<SigningSecretRow[]>
    /** Replaces a row's key id and ciphertext (its secret sealed again); false when no such row. */
    reseal(id: string, keyId: string, ciphertext: string): Promise<boolean>
  }
  signingKeyPairs: {
    /** Adds the pair unless its environment has `limit` already (then false, writing nothing). */
    create(row: SigningKeyPairRow, limit: number): Promise<boolean>
    /** The key pairs of these environments, oldest first. */
    list(envIds: readonly string[]): Promise<SigningKeyPairRow[]>
    /** False when that environment has no such pair. */
    delete(envId: string, id: string): Promise<boolean>
    /** Every pair by ascending id after afterId (master key rotation). */
    listAll(afterId: string | null, limit: number): Promise<SigningKeyPairRow[]>
    /** Replaces a row's key id and ciphertext (its private key sealed again); false when no such row. */
    reseal(id: string, keyId: string, ciphertext: string): Promise<boolean>
  }
  subscriptions: {
    list(envId: string): Promise<SubscriptionRow[]>
    get(envId: string, id: string): Promise<SubscriptionRow | undefined>
    /** The rows of these ids, any environment (the worker's settings cache); missing ids left out. */
    getMany(ids: readonly string[]): Promise<SubscriptionRow[]>
    create(row: SubscriptionRow): Promise<void>
    /**
     * Replaces event, url, active and the settings. Deactivating cancels its pending deliveries;
     * a change of `held` holds or releases them (see SubscriptionRow.held).
     */
    update(row: SubscriptionRow): Promise<boolean>
    /** Deletes and cancels its pending deliveries. */
    delete(envId: string, id: string, now: number): Promise<boolean>
    /**
     * Leases pending verifications that are due: attempts+1, next try pushed to now + leaseMs
     * (a node that dies mid-challenge leaves it due again). One node at a time per subscription.
     */
    claimVerifications(now: number, limit: number, leaseMs: number): Promise<SubscriptionRow[]>
    /**
     * Records a challenge's outcome, fenced by the challenge (a newer one wins); verified
     * un-holds the subscription unless paused, releasing its held deliveries. False when fenced.
     */
    recordVerification(
      id: string,
      challenge: string,
      outcome: VerificationOutcome,
      now: number,
    ): Promise<boolean>
    /** Subscriptions with sealed endpoint secrets, by ascending id after afterId (master key rotation). */
    listSealedEndpoints(
      afterId: string | null,
      limit: number,
    ): Promise<{ id: string; envId: string; keyId: string; ciphertext: string }[]>
    /** Replaces the sealed endpoint secrets (sealed again); `updated` is left alone. False when no such row. */
    resealEndpoint(id: string, keyId: string, ciphertext: string): Promise<boolean>
  }
  /** The sealed URLs of broker destinations (master key rotation). */
  destinationSecrets: {
    /** Subscriptions with a sealed destination URL, by ascending id after afterId. */
    listAll(
      afterId: string | null,
      limit: number,
    ): Promise<{ id: string; envId: string; keyId: string; ciphertext: string }[]>
    /** Replaces a subscription's sealed URL (the same URL sealed again); false when it has none. */
    reseal(id: string, keyId: string, ciphertext: string): Promise<boolean>
  }
  events: {
    /** One event of the environment, its body as stored (the bytes received); undefined elsewhere. */
    get(envId: string, id: string): Promise<EventRow | undefined>
    /**
     * One transaction: idempotency check, the event, one delivery per active subscription. A key
     * seen within the window for other body bytes throws idempotency_key_reused, writing nothing.
     */
    publish(input: PublishInput): Promise<PublishResult>
    /**
     * Each input as publish, in order, all in one commit (an input may name an earlier one's
     * key); any failure writes nothing. idempotency_key_reused names the item by its index:
     * `/events/<index>/idempotencyKey`.
     */
    publishBatch(inputs: readonly PublishInput[]): Promise<PublishResult[]>
    /**
     * One transaction: the event and a single delivery (due now, no ordering key) to one active
     * subscription of the event's environment; false, writing nothing, when there is none.
     */
    publishToSubscription(input: {
      event: Omit<EventRow, 'idempotencyKey'>
      subscriptionId: string
      deliveryId: string
      attemptLimit: number
    }): Promise<boolean>
  }
  deliveries: {
    list(envId: string, filter: DeliveryFilter): Promise<DeliveryRow[]>
    get(envId: string, id: string): Promise<DeliveryRow | undefined>
    /** Its attempts as stored, oldest first (a lean one's derived headers are not put back). */
    attempts(deliveryId: string): Promise<StoredAttempt[]>
    /**
     * Due now and pending, with the attempt limit the core chose; undefined, changing nothing,
     * while an attempt is in flight, while its subscription is held, or when the row's status,
     * attempts or limit differ from `seen`.
     */
    retryNow(
      envId: string,
      id: string,
      now: number,
      change: { attemptLimit: number; seen: Pick<DeliveryRow, 'status' | 'attempts' | 'attemptLimit'> },
    ): Promise<DeliveryRow | undefined>
    /**
     * Leases due deliveries: attempts+1, a fresh lease token, next_attempt_at = now + leaseMs.
     * A subscription's budget holds across every claimer (one transaction, its budget row locked):
     * with a rate limit, at most `count` rows are claimed per window of `periodMs` (windows are
     * aligned to the epoch); with maxInFlight, rows are claimed only while fewer than that many
     * of its leases are unexpired. What does not fit is left pending and due (see `throttled`).
     */
    claimDue(input: ClaimInput): Promise<ClaimResult>
    /**
     * Applies results fenced by lease token and, in the same transaction, what the core's rules
     * decide of them: each subscription's health, its deactivation, the operational events.
     * Returns the ids whose lease was still held.
     */
    complete(results: readonly CompleteInput[], now: number, rules: CompletionRules): Promise<string[]>
    /**
     * Gives leases back untouched (the attempt was not made), e.g. on shutdown; due now, or held
     * when the subscription is.
     */
    release(items: readonly { id: string; leaseToken: string }[], now: number): Promise<void>
    /** Subscriptions with due deliveries, the longest-waiting first. */
    dueSubscriptions(now: number, limit: number): Promise<string[]>
    /**
     * Counts pending deliveries (`held`: those of them a paused or unverified subscription keeps,
     * with no due time) and the age of the oldest due one.
     */
    backlog(now: number): Promise<{ pending: number; held: number; oldestDueAt: number | null }>
  }
  feed: {
    /**
     * An environment's published events after `after`, in the order they were committed: a
     * reader that polls while others publish never passes an event that commits later (the
     * adapter holds back what is not yet safe to show). Events sent to one subscription only
     * (publishToSubscription) are not in it.
     */
    read(envId: string, q: FeedQuery): Promise<FeedEventRow[]>
    /**
     * Calls onEvents with an environment's id when another process commits events to it
     * (PostgreSQL LISTEN/NOTIFY); where the store cannot announce (SQLite), it never calls.
     */
    listen(onEvents: (envId: string) => void): Promise<() => Promise<void>>
  }
  operationalEvents: {
    list(filter: {
      envId?: string
      type?: string
      beforeId?: string
      limit: number
    }): Promise<OperationalEventRow[]>
    /** Leases unsent events for the operator webhook (next_send_at pushed forward). */
    claimUnsent(now: number, limit: number, leaseMs: number): Promise<OperationalEventRow[]>
    markSent(ids: readonly string[], now: number): Promise<void>
    markUnsent(id: string, nextAt: number): Promise<void>
  }
  replays: {
    /** Counts the matching deliveries and records the job, in one transaction. */
    create(job: Omit<ReplayJobRow, 'total' | 'done' | 'state' | 'updated'>): Promise<ReplayJobRow>
    get(envId: string, id: string): Promise<ReplayJobRow | undefined>
    list(envId: string, subscriptionId?: string): Promise<ReplayJobRow[]>
    cancel(envId: string, id: string, now: number): Promise<ReplayJobRow | undefined>
    /**
     * Takes one running job (locked for this one transaction, so the next step may follow at
     * once, on any node) and re-queues its next chunk of deliveries (same ids, due now, a fresh
     * attempt budget of extraAttempts). The step that re-queues the last of them finishes the
     * job. Returns the job after the step, or undefined when none is running.
     */
    step(
      now: number,
      opts: {
        chunk: number
        extraAttempts: number
        /** The budget for a subscription with its own retry schedule (absent: extraAttempts). */
        extraAttemptsFor?: (retryScheduleMs: readonly number[]) => number
      },
    ): Promise<ReplayJobRow | undefined>
  }
  audit: {
    /** Appends an entry. Entries are never changed, and retention sweeps leave them alone. */
    record(entry: AuditEntryRow): Promise<void>
    /** Newest first. */
    list(filter: AuditFilter): Promise<AuditEntryRow[]>
  }
  maintenance: {
    /** Deletes terminal deliveries, their attempts and events older than `before`; never pending ones. */
    sweep(before: number, limit: number): Promise<SweepResult>
    /** A cluster-wide lease: true when `holder` holds `name` until now + ttlMs. */
    tryLock(name: string, holder: string, now: number, ttlMs: number): Promise<boolean>
  }
}
