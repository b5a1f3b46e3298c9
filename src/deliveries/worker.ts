// The delivery worker: claims due deliveries under a lease, signs and sends them through the
// Sender port, and records outcomes in batches fenced by the lease token. Pure of drivers: it
// knows the Store contract, the Sender port and the keyring, nothing else.
import type { SecretBox } from '../secrets/secret-box.ts'
import type { SigningKeyring } from '../secrets/signing-keyring.ts'
import { type Failpoints, noFailpoints } from '../shared/failpoints.ts'
import type { Logger } from '../shared/logger.ts'
import type { ClaimedDelivery, CompleteInput, Store } from '../store/store.ts'
import type { UrlCheck } from '../subscriptions/subscriptions.ts'
import type { Transformer } from '../subscriptions/transformation.ts'
import { AttemptMaker, type ClaimKeys } from './attempt-maker.ts'
import { ClaimPlanner } from './claim-planner.ts'
import { HandOffDesk, type HandOffTicket } from './hand-off.ts'
import { OutcomeRecorder } from './outcome-recorder.ts'
import type { RetryPolicy } from './retry-policy.ts'
import type { Sender } from './sender.ts'
import { SubscriptionCache } from './subscription-cache.ts'
import { SubscriptionQueues } from './subscription-queues.ts'

export interface WorkerOptions {
  store: Store
  sender: Sender
  keyring: SigningKeyring
  policy: RetryPolicy
  requestTimeoutMs: number
  /**
   * The longest per-subscription timeout honoured (HOOKPOST_SUBSCRIPTION_TIMEOUT_MAX; default
   * requestTimeoutMs): the lease is long enough for it, and a longer stored one is cut to it.
   */
  maxTimeoutMs?: number
  /** Attempts in flight (and queued) at once in this process. */
  concurrency: number
  /** Attempts in flight at once to one subscription. */
  perSubscription: number
  /** The same for a subscription with a broker destination (default: perSubscription). */
  perBrokerSubscription?: number
  userAgent: string
  log: Logger
  now?: () => number
  random?: () => number
  /** How often an idle worker looks for due work that no wake-up announced. */
  pollIntervalMs?: number
  /** Rows per claim statement. */
  claimBatch?: number
  failpoints?: Failpoints
  /** A subscription failing without a success this long is deactivated (default 5 days). */
  disableAfterMs?: number
  /** Told about every attempt made (metrics); must not throw or block. */
  onAttempt?: (a: AttemptReport) => void
  /** Runs subscriptions' transformations; without it, a subscription with one fails its deliveries. */
  transformer?: Transformer
  /** The sending policy for a URL a transformation gives; without it every changed URL is refused. */
  checkUrl?: UrlCheck
  /** The largest body a transformation may produce (default 1 MiB). */
  maxTransformedBytes?: number
  /** Opens subscriptions' endpoint secrets (auth, static headers). */
  box?: SecretBox
}

export interface AttemptReport {
  deliveryId: string
  subscriptionId: string
  envId: string
  event: string
  /** delivered, retry, failed or gone: what the attempt led to. */
  outcome: CompleteInput['outcome']['kind']
  statusCode: number | null
  error: string | null
  /** Server log only (never stored, never shown to the tenant): e.g. the address a name resolved to. */
  detail?: string
  durationMs: number
  /** Milliseconds from the delivery's due time to the attempt's start. */
  lagMs: number
}

const claimCoalesceMs = 1
/** A lease must outlast the longest attempt by this much at its start (its outcome is recorded under it). */
const leaseMarginMs = 2000
/** Hand-offs held beyond the subscriptions' room, per unit of concurrency, and their bodies' bytes. */
const overflowPerSlot = 100
const overflowMaxBytes = 64 * 1024 * 1024
/** How often the subscriptions of overflowed hand-offs are read again (paused, changed, deleted). */
const overflowCheckEveryMs = 1000

export class DeliveryWorker {
  readonly #o: Required<Omit<WorkerOptions, 'box' | 'transformer'>>
  #running = false
  #stopping = false
  #loop: Promise<void> | undefined
  #wakeUp: (() => void) | undefined
  #woken = false
  #idle: (() => void) | undefined
  #wantsSlots = false
  /** Ordered deliveries in flight, by id: once recorded, their chain's next one may be due. */
  readonly #ordered = new Map<string, string>()
  /** The claimed deliveries' subscriptions (settings an attempt reads), by id. */
  readonly #subscriptions: SubscriptionCache
  /** Publishes in this process hand their new deliveries here (hand-off.ts). */
  readonly #desk: HandOffDesk
  /** Hand-offs being accepted: stop waits for them before giving back what is queued. */
  readonly #handing = new Set<Promise<void>>()
  /** Hand-offs of the current task, accepted together at its end. */
  #handOffBatch: { rows: ClaimedDelivery[]; done: Promise<void> } | undefined
  readonly #queues: SubscriptionQueues
  readonly #planner: ClaimPlanner
  readonly #attempts: AttemptMaker
  readonly #recorder: OutcomeRecorder
  #overflowCheck: NodeJS.Timeout | undefined

  constructor(options: WorkerOptions) {
    this.#o = {
      now: Date.now,
      random: Math.random,
      pollIntervalMs: 250,
      claimBatch: 256,
      failpoints: noFailpoints,
      disableAfterMs: 5 * 86_400_000,
      onAttempt: () => {},
      maxTimeoutMs: options.requestTimeoutMs,
      checkUrl: () => ({ ok: false, code: 'url_not_allowed', reason: 'this worker has no sending policy' }),
      maxTransformedBytes: 1024 * 1024,
      perBrokerSubscription: options.perSubscription,
      ...options,
    }
    this.#subscriptions = new SubscriptionCache(options.store)
    const o = this.#o
    this.#queues = new SubscriptionQueues({
      store: o.store,
      keyring: o.keyring,
      log: o.log,
      now: o.now,
      concurrency: o.concurrency,
      perSubscription: o.perSubscription,
      perBrokerSubscription: o.perBrokerSubscription,
      subscriptions: this.#subscriptions,
      start: (d, keys, startedAt) => void this.#attempt(d, keys, startedAt),
      wake: () => this.wake(),
      leaseReserveMs: o.maxTimeoutMs + leaseMarginMs,
      overflow: {
        maxDeliveries: overflowPerSlot * o.concurrency,
        maxBytes: overflowMaxBytes,
        // What is left of a lease once its attempt is provided for.
        waitMs: this.leaseMs - o.maxTimeoutMs - leaseMarginMs,
      },
    })
    this.#planner = new ClaimPlanner({
      store: o.store,
      now: o.now,
      claimBatch: o.claimBatch,
      perSubscription: o.perSubscription,
      subscriptions: this.#subscriptions,
      leaseMs: () => this.leaseMs,
      free: () => this.#queues.free(),
      busy: () => this.#queues.busy(),
      holds: (sub) => this.#queues.holds(sub),
      slots: (sub) => this.#queues.slots(sub),
      room: (sub) => this.#queues.room(sub),
      accept: (rows, now) => this.#queues.accept(rows, now, () => now + this.leaseMs),
    })
    this.#attempts = new AttemptMaker({
      ...o,
      transformer: options.transformer,
      box: options.box,
      subscriptions: this.#subscriptions,
    })
    this.#recorder = new OutcomeRecorder({
      store: o.store,
      log: o.log,
      now: o.now,
      failpoints: o.failpoints,
      disableAfterMs: o.disableAfterMs,
      stopping: () => this.#stopping,
      recorded: (batch) => this.#recorded(batch),
    })
    const worker = this
    this.#desk = new HandOffDesk({
      get leaseMs() {
        return worker.leaseMs
      },
      free: () => (this.#takesHandOffs() ? this.#queues.handOffFree() : 0),
      roomFor: (sub) => (this.#takesHandOffs() ? this.#handOffRoom(sub) : 0),
      accept: (rows) => this.#acceptHandOff(rows),
      // Left due in the store: claims serve it (oldest first) before it takes hand-offs again.
      refused: (sub) => this.#planner.feed(sub),
    })
  }

  /**
   * A hand-off ticket for one publish in this process (role all): the deliveries it commits come
   * here leased, with no claim. Undefined while the worker is not running.
   */
  handOff(): HandOffTicket | undefined {
    return this.#takesHandOffs() ? this.#desk.open() : undefined
  }

  /**
   * A subscription was changed or deleted in this process: the hand-offs of it in the overflow go
   * back to the store now (a pause stops them), as the overflow's check would within a second.
   */
  subscriptionChanged(subscriptionId: string): void {
    this.#queues.giveBackOverflow(subscriptionId)
  }

  /**
   * Not while stopping, nor while behind: when the last claim found more due work than it could
   * take, new deliveries wait their turn in the store (oldest due first), and hand-offs resume
   * once the claims catch up.
   */
  #takesHandOffs(): boolean {
    return this.#running && !this.#stopping && !this.#wantsSlots
  }

  /**
   * A subscription's room for hand-offs (its room, then the overflow): none while it has due work
   * in the store or a spent budget.
   */
  #handOffRoom(sub: string): number {
    if (this.#planner.backlogged(sub)) return 0
    return this.#queues.handOffRoom(sub)
  }

  /**
   * The publishes of one commit hand off together (SQLite's group commit: the store hands each
   * its rows in one synchronous loop): gathered until that loop ends and accepted as one, as a
   * claim's rows are (one keyring read).
   */
  #acceptHandOff(rows: ClaimedDelivery[]): Promise<void> {
    if (this.#handOffBatch) {
      this.#handOffBatch.rows.push(...rows)
      return this.#handOffBatch.done
    }
    const batch = { rows: [...rows], done: Promise.resolve() }
    this.#handOffBatch = batch
    batch.done = (async () => {
      await Promise.resolve()
      this.#handOffBatch = undefined
      await this.#takeHandOff(batch.rows)
    })()
    this.#handing.add(batch.done)
    void batch.done.finally(() => this.#handing.delete(batch.done))
    return batch.done
  }

  async #takeHandOff(rows: ClaimedDelivery[]): Promise<void> {
    const o = this.#o
    try {
      // A hand-off's lease runs from its event's creation (hand-offs.ts).
      if (this.#running && !this.#stopping)
        await this.#queues.accept(rows, o.now(), (d) => d.dueAt + this.leaseMs, true)
      // Committed while the worker stopped: due again now, for whichever worker runs next.
      else
        await o.store.deliveries.release(
          rows.map((r) => ({ id: r.id, leaseToken: r.leaseToken })),
          o.now(),
        )
    } catch (e) {
      // Their leases expire and a claim takes them again (at least once, as after a crash).
      o.log.warn(
        { err: e, deliveryIds: rows.slice(0, 20).map((r) => r.id), count: rows.length },
        'handed-off deliveries not taken; their leases will expire',
      )
    }
  }

  get leaseMs(): number {
    // Long enough for a queued attempt to wait one round of slow attempts and then run its own;
    // after a crash, this is how long its deliveries wait before another worker takes them.
    return Math.max(this.#o.requestTimeoutMs, this.#o.maxTimeoutMs) * 2 + 5000
  }

  get stats(): { inFlight: number; queued: number } {
    return this.#queues.stats
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#stopping = false
    this.#loop = this.#run()
    this.#overflowCheck = setInterval(() => {
      this.#queues
        .recheckOverflow()
        .catch((e: unknown) =>
          this.#o.log.warn({ err: e }, 'checking the subscriptions of overflowed hand-offs failed; retrying'),
        )
    }, overflowCheckEveryMs)
    this.#overflowCheck.unref()
  }

  /** New work may be due: look now rather than at the next poll. */
  wake(): void {
    this.#woken = true
    this.#wakeUp?.()
  }

  /** Stops claiming, lets attempts in flight finish within graceMs, gives back the rest untouched. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.#running) return
    this.#stopping = true
    clearInterval(this.#overflowCheck)
    this.wake()
    await this.#loop
    await Promise.all(this.#handing)
    const queued = this.#queues.drain()
    if (this.#queues.stats.inFlight > 0) {
      await Promise.race([
        new Promise<void>((r) => {
          this.#idle = r
        }),
        new Promise<void>((r) => setTimeout(r, graceMs).unref()),
      ])
    }
    await this.#recorder.flush()
    if (queued.length > 0) {
      await this.#o.store.deliveries
        .release(
          queued.map((q) => ({ id: q.id, leaseToken: q.leaseToken })),
          this.#o.now(),
        )
        .catch((e: unknown) =>
          this.#o.log.warn(
            { err: e, deliveryIds: queued.slice(0, 20).map((q) => q.id), count: queued.length },
            'could not release queued deliveries; their leases will expire',
          ),
        )
    }
    this.#running = false
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      let more = false
      try {
        more = await this.#planner.fill()
      } catch (e) {
        this.#o.log.error({ err: e }, 'claiming deliveries failed; retrying')
        await this.#sleep(1000)
        continue
      }
      // More may be due but there is no room: attempts that finish wake us once enough slots
      // are free to make a claim worth its statement.
      this.#wantsSlots = more
      if (!more || this.#queues.free() < this.#lowWater()) {
        await this.#sleep(this.#o.pollIntervalMs)
        // A burst of publishes wakes us once per event: let it gather into one claim.
        await new Promise((r) => setTimeout(r, claimCoalesceMs))
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      // Either way the sleep ends, its wake-up goes with it: left behind, it would swallow the
      // next wake (one arriving during the claim that follows a timed-out sleep), and the
      // worker would sleep a whole poll interval with work announced.
      const done = () => {
        clearTimeout(t)
        this.#wakeUp = undefined
        this.#woken = false
        resolve()
      }
      const t = setTimeout(done, ms)
      this.#wakeUp = done
    })
  }

  #lowWater(): number {
    return Math.max(1, Math.floor(Math.min(this.#o.claimBatch, this.#o.concurrency) / 4))
  }

  async #attempt(d: ClaimedDelivery, keys: ClaimKeys | undefined, startedAt?: number): Promise<void> {
    const o = this.#o
    const started = startedAt ?? o.now()
    const { result, detail } = await this.#attempts.make(d, started, keys)
    try {
      o.onAttempt({
        deliveryId: d.id,
        subscriptionId: d.subscriptionId,
        envId: d.envId,
        event: d.event,
        outcome: result.outcome.kind,
        statusCode: result.statusCode,
        error: result.error,
        ...(detail !== undefined ? { detail } : {}),
        durationMs: result.attempt.durationMs,
        lagMs: Math.max(0, started - d.dueAt),
      })
    } catch {
      // Metrics must never break delivery.
    }
    this.#queues.paced(d.subscriptionId, result.attempt.durationMs)
    if (d.orderingKey !== null) this.#ordered.set(d.id, d.subscriptionId)
    if (this.#subscriptions.get(d.subscriptionId)?.settings?.maxInFlight != null)
      this.#queues.awaitRecord(d.id, d.subscriptionId)
    this.#recorder.record(result)
    const n = this.#queues.done(d.subscriptionId)
    this.#queues.pump()
    if (this.#queues.stats.inFlight === 0) this.#idle?.()
    if (this.#stopping) return
    if (this.#wantsSlots && this.#queues.free() >= this.#lowWater()) this.wake()
    else if (this.#planner.freed(d.subscriptionId, n + this.#queues.waiting(d.subscriptionId))) {
      // A busy subscription has room for half a round again: fetch its next deliveries now
      // rather than at the next poll.
      this.wake()
    }
  }

  /** A batch of outcomes is recorded: what it frees in the store, this worker may claim now. */
  #recorded(batch: readonly CompleteInput[]): void {
    let recorded = false
    for (const b of batch) recorded = this.#queues.recorded(b.id) || recorded
    // Their places are free in the store now: a claim may take the next ones.
    if (recorded && !this.#stopping) this.wake()
    for (const b of batch) {
      const sub = this.#ordered.get(b.id)
      if (sub === undefined) continue
      // Its chain's next delivery may have been due for long: older than a dry scan looks.
      this.#ordered.delete(b.id)
      this.#planner.feed(sub)
    }
  }
}
