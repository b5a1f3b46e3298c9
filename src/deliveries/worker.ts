// The delivery worker: claims due deliveries under a lease, signs and sends them through the
// Sender port, and records outcomes in batches fenced by the lease token. Pure of drivers: it
// knows the Store contract, the Sender port and the keyring, nothing else.
import type { SecretBox } from '../secrets/secret-box.ts'
import type { SigningKeyring } from '../secrets/signing-keyring.ts'
import { type Failpoints, noFailpoints } from '../shared/failpoints.ts'
import type { Logger } from '../shared/logger.ts'
import { signDelivery } from '../signing/signature.ts'
import type { ClaimedDelivery, CompleteInput, CompletionRules, Store } from '../store/store.ts'
import type { UrlCheck } from '../subscriptions/subscriptions.ts'
import { type Transformed, type Transformer, transform } from '../subscriptions/transformation.ts'
import { leanRequestHeaders } from './attempt-headers.ts'
import { completionRules, countsForHealth } from './completion-rules.ts'
import { EndpointSettingsCache, recordedHeaders, sendToEndpoint } from './endpoint-request.ts'
import { HandOffDesk, type HandOffTicket } from './hand-off.ts'
import { OAuth2Tokens } from './oauth2-tokens.ts'
import { nextStep, policyFor, type RetryPolicy } from './retry-policy.ts'
import type { AttemptOutcome, Sender } from './sender.ts'
import { SubscriptionCache } from './subscription-cache.ts'

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

const flushDelayMs = 5
const flushBatch = 256
const fairShareEveryMs = 2000
const claimCoalesceMs = 1
const fairShareSubscriptions = 200
const fairShareSlots = 4
const fullScanEveryMs = 1000
// Rows published by another node whose clock runs this much behind still fall into a dry scan.
const dueAfterSlackMs = 2000

export class DeliveryWorker {
  readonly #o: Required<Omit<WorkerOptions, 'box' | 'transformer'>>
  readonly #transformer: Transformer | undefined
  readonly #queued = new Map<string, ClaimedDelivery[]>()
  readonly #inFlight = new Map<string, number>()
  #queuedTotal = 0
  #inFlightTotal = 0
  #pending: CompleteInput[] = []
  #flushTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()
  #running = false
  #stopping = false
  #loop: Promise<void> | undefined
  #wakeUp: (() => void) | undefined
  #woken = false
  #idle: (() => void) | undefined
  #lastFairShare = 0
  #fairShareInterval = fairShareEveryMs
  #wantsSlots = false
  #excluded = new Set<string>()
  /** When a full scan last found nothing due outside the subscriptions being fed (see #fill). */
  #dryAt: number | undefined
  #nextFullScan = 0
  /** Subscriptions known to have more due work than this worker holds. */
  #feeding = new Set<string>()
  /** Ordered deliveries in flight, by id: once recorded, their chain's next one may be due. */
  readonly #ordered = new Map<string, string>()
  readonly #keys = new Map<string, Awaited<ReturnType<SigningKeyring['keysFor']>>>()
  /** The claimed deliveries' subscriptions (settings an attempt reads), by id. */
  readonly #subscriptions: SubscriptionCache
  /**
   * Rate-limited deliveries waiting here, by id: when the budget window their claim spent ends.
   * One that cannot start before then is given back (see #pump): a slow claim or a busy loop must
   * not move its start into the next window, where that window's own budget starts as many.
   */
  readonly #windowEnds = new Map<string, number>()
  readonly #rules: CompletionRules
  readonly #endpoints: EndpointSettingsCache
  readonly #tokens: OAuth2Tokens
  /** Subscriptions whose budget (rateLimit, maxInFlight) a claim found spent, until when. */
  readonly #throttled = new Map<string, number>()
  /**
   * Attempts of maxInFlight subscriptions done but not yet recorded, by delivery id: their lease
   * still counts in the store, so they count here too until the flush (else the next claim would
   * be refused and the subscription held back for nothing).
   */
  readonly #unrecorded = new Map<string, string>()
  /** Publishes in this process hand their new deliveries here (hand-off.ts). */
  readonly #desk: HandOffDesk
  /** Hand-offs being accepted: stop waits for them before giving back what is queued. */
  readonly #handing = new Set<Promise<void>>()
  /** Hand-offs of the current task, accepted together at its end. */
  #handOffBatch: { rows: ClaimedDelivery[]; done: Promise<void> } | undefined

  constructor(options: WorkerOptions) {
    this.#endpoints = new EndpointSettingsCache(options.box)
    this.#tokens = new OAuth2Tokens({
      sender: options.sender,
      userAgent: options.userAgent,
      now: options.now,
    })
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
      ...options,
    }
    this.#transformer = options.transformer
    this.#subscriptions = new SubscriptionCache(options.store)
    this.#rules = completionRules({ disableAfterMs: this.#o.disableAfterMs })
    const worker = this
    this.#desk = new HandOffDesk({
      get leaseMs() {
        return worker.leaseMs
      },
      free: () => (this.#takesHandOffs() ? this.#free() : 0),
      roomFor: (sub) => (this.#takesHandOffs() ? this.#handOffRoom(sub) : 0),
      accept: (rows) => this.#acceptHandOff(rows),
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
   * Not while stopping, nor while behind: when the last claim found more due work than it could
   * take, new deliveries wait their turn in the store (oldest due first), and hand-offs resume
   * once the claims catch up.
   */
  #takesHandOffs(): boolean {
    return this.#running && !this.#stopping && !this.#wantsSlots
  }

  /** A subscription's room for hand-offs: none while it has due work in the store or a spent budget. */
  #handOffRoom(sub: string): number {
    if (this.#feeding.has(sub) || this.#throttled.has(sub)) return 0
    const busy = (this.#inFlight.get(sub) ?? 0) + (this.#queued.get(sub)?.length ?? 0)
    return this.#room(sub) - busy
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
      if (this.#running && !this.#stopping) await this.#accept(rows, o.now())
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
    return { inFlight: this.#inFlightTotal, queued: this.#queuedTotal }
  }

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#stopping = false
    this.#loop = this.#run()
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
    this.wake()
    await this.#loop
    await Promise.all(this.#handing)
    const queued = [...this.#queued.values()].flat()
    this.#queued.clear()
    this.#windowEnds.clear()
    this.#queuedTotal = 0
    if (this.#inFlightTotal > 0) {
      await Promise.race([
        new Promise<void>((r) => {
          this.#idle = r
        }),
        new Promise<void>((r) => setTimeout(r, graceMs).unref()),
      ])
    }
    await this.#flush()
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
        more = await this.#fill()
      } catch (e) {
        this.#o.log.error({ err: e }, 'claiming deliveries failed; retrying')
        await this.#sleep(1000)
        continue
      }
      // More may be due but there is no room: attempts that finish wake us once enough slots
      // are free to make a claim worth its statement.
      this.#wantsSlots = more
      if (!more || this.#free() < this.#lowWater()) {
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

  #free(): number {
    return this.#o.concurrency - this.#inFlightTotal - this.#queuedTotal
  }

  #lowWater(): number {
    return Math.max(1, Math.floor(Math.min(this.#o.claimBatch, this.#o.concurrency) / 4))
  }

  /** Claims what fits; true when more is probably due than it could take. */
  async #fill(): Promise<boolean> {
    const o = this.#o
    const free = this.#free()
    const now = o.now()
    if (free <= 0) {
      await this.#fairShare(now)
      return true
    }
    // A subscription holds at most one round in flight and one waiting here: a full one is left
    // out of the claim, the others get what fits, so that nothing is claimed only to be given
    // back.
    const exclude: string[] = []
    const busy = new Map<string, number>()
    for (const [sub, until] of this.#throttled) {
      if (until > now) continue
      // Its budget is open again: serve it from its own index range.
      this.#throttled.delete(sub)
      this.#feeding.add(sub)
    }
    for (const [sub, n] of this.#busy()) {
      if (n >= this.#slots(sub) || this.#throttled.has(sub)) exclude.push(sub)
      else busy.set(sub, this.#room(sub) - n)
    }
    const left = new Set(exclude)
    for (const sub of this.#throttled.keys()) if (!left.has(sub)) exclude.push(sub)
    // A limited subscription (rateLimit, maxInFlight) is claimed only as far as it can start now:
    // what is claimed spends its shared budget, so nothing waits here while others could send.
    for (const sub of this.#subscriptions.limited()) {
      if (!busy.has(sub) && !left.has(sub) && !this.#throttled.has(sub)) busy.set(sub, this.#room(sub))
    }
    const limit = Math.min(free, o.claimBatch)
    const room = { perSubscription: 2 * o.perSubscription, busy }
    // Subscriptions known to have more due work are refilled from their own index ranges; the
    // scan across subscriptions only discovers the others. A scan walks every due row of the
    // subscriptions it leaves out, so once one finds nothing else due (dry), the next ones look
    // only at what fell due since, and a full scan runs again after at least 20 times its own
    // cost (≤ ~5 % of the time however big the backlog).
    const full = new Set(exclude)
    const serve: { subscriptionId: string; limit: number }[] = []
    let wanted = 0
    for (const sub of this.#feeding) {
      if (wanted >= limit) break
      if (full.has(sub)) continue
      const n = busy.get(sub) ?? room.perSubscription
      serve.push({ subscriptionId: sub, limit: n })
      exclude.push(sub)
      wanted += n
    }
    const dry = this.#dryAt !== undefined && now < this.#nextFullScan
    const t0 = performance.now()
    const claim = await o.store.deliveries.claimDue({
      now,
      limit,
      leaseMs: this.leaseMs,
      serve,
      scan: { exclude, room, ...(dry ? { dueAfter: (this.#dryAt ?? now) - dueAfterSlackMs } : {}) },
    })
    const rows = claim.deliveries
    for (const s of serve) {
      // Served last: the others in line go first next time.
      this.#feeding.delete(s.subscriptionId)
      if (!claim.drained.has(s.subscriptionId)) this.#feeding.add(s.subscriptionId)
    }
    for (const sub of claim.crowded) this.#feeding.add(sub)
    for (const [sub, until] of claim.throttled) {
      this.#throttled.set(sub, until)
      this.#feeding.delete(sub)
    }
    if (!dry) {
      if (claim.scanExhausted && exclude.length > 0) {
        this.#dryAt = now
        this.#nextFullScan = now + Math.max(fullScanEveryMs, (performance.now() - t0) * 20)
        // Everything else due was claimed: what is left belongs to the subscriptions left out.
        for (const sub of exclude) this.#feeding.add(sub)
      } else this.#dryAt = undefined
    }
    await this.#accept(rows, now)
    // Full now (left out, or filled by this claim): when one of them has room again it may have
    // more due work, so its completions wake the loop.
    this.#excluded = new Set([...this.#busy()].filter(([s, n]) => n >= this.#slots(s)).map(([s]) => s))
    if (rows.length === limit) await this.#fairShare(now)
    return rows.length === limit
  }

  /** Attempts in flight plus queued here (plus unrecorded ones of maxInFlight subscriptions), per subscription. */
  *#busy(): Iterable<[string, number]> {
    if (this.#unrecorded.size === 0) {
      for (const [sub, n] of this.#inFlight) yield [sub, n + (this.#queued.get(sub)?.length ?? 0)]
      for (const [sub, q] of this.#queued) if (!this.#inFlight.has(sub)) yield [sub, q.length]
      return
    }
    const n = new Map<string, number>()
    for (const [sub, k] of this.#inFlight) n.set(sub, k)
    for (const [sub, q] of this.#queued) n.set(sub, (n.get(sub) ?? 0) + q.length)
    for (const sub of this.#unrecorded.values()) n.set(sub, (n.get(sub) ?? 0) + 1)
    yield* n
  }

  /**
   * Oldest-first claims starve a subscription whose work is newer than a big backlog elsewhere
   * while this worker is saturated. Every few seconds (more on a huge backlog), when saturated,
   * give each subscription with due work that this worker is not serving a few slots of its own.
   */
  async #fairShare(now: number): Promise<void> {
    const o = this.#o
    if (now - this.#lastFairShare < this.#fairShareInterval) return
    this.#lastFairShare = now
    const t0 = performance.now()
    const due = await o.store.deliveries.dueSubscriptions(now, fairShareSubscriptions)
    // The query groups the whole due backlog: on a huge backlog it is slow, so it may take at
    // most ~5 % of the time (a 100 ms query waits 2 s, a 250 ms one 5 s before it runs again).
    this.#fairShareInterval = Math.max(fairShareEveryMs, (performance.now() - t0) * 20)
    const starved = due.filter(
      (s) => !this.#inFlight.has(s) && !this.#queued.has(s) && !this.#throttled.has(s),
    )
    if (starved.length === 0) return
    const serve = starved.map((s) => ({ subscriptionId: s, limit: Math.min(fairShareSlots, this.#slots(s)) }))
    const claim = await o.store.deliveries.claimDue({
      now,
      limit: serve.reduce((n, s) => n + s.limit, 0),
      leaseMs: this.leaseMs,
      serve,
    })
    for (const [sub, until] of claim.throttled) this.#throttled.set(sub, until)
    // Their deliveries are older than what fell due since a dry scan: feed them too.
    for (const s of starved) if (!claim.drained.has(s)) this.#feeding.add(s)
    await this.#accept(claim.deliveries, now)
  }

  async #accept(rows: ClaimedDelivery[], now: number): Promise<number> {
    const o = this.#o
    if (rows.length === 0) return 0
    const keys = await o.keyring.keysFor([...new Set(rows.map((r) => r.envId))], now)
    await this.#subscriptions.refresh(rows)
    const surplus: ClaimedDelivery[] = []
    for (const r of rows) {
      // Held since it became due (paused, or an expired lease of an attempt in flight when it
      // was): not sent; giving it back holds it in the store.
      if (this.#subscriptions.get(r.subscriptionId)?.held) {
        surplus.push(r)
        continue
      }
      this.#keys.set(r.id, keys)
      const rate = this.#subscriptions.get(r.subscriptionId)?.settings?.rateLimit
      // Windows are aligned to the epoch, as the store's budget counts them.
      if (rate) this.#windowEnds.set(r.id, (Math.floor(now / rate.periodMs) + 1) * rate.periodMs)
      const q = this.#queued.get(r.subscriptionId) ?? []
      const busy = (this.#inFlight.get(r.subscriptionId) ?? 0) + q.length
      // Keep at most one round per subscription waiting here (none for a limited one: see
      // #room); the rest goes back to the store.
      if (busy >= this.#room(r.subscriptionId)) {
        surplus.push(r)
        this.#keys.delete(r.id)
        continue
      }
      q.push(r)
      this.#queued.set(r.subscriptionId, q)
      this.#queuedTotal++
    }
    if (surplus.length > 0) {
      await o.store.deliveries.release(
        surplus.map((s) => ({ id: s.id, leaseToken: s.leaseToken })),
        now,
      )
    }
    this.#pump()
    return rows.length - surplus.length
  }

  /** Attempts of one subscription in flight at once here: its maxInFlight when lower. */
  #slots(sub: string): number {
    const max = this.#subscriptions.get(sub)?.settings?.maxInFlight
    return max != null ? Math.min(max, this.#o.perSubscription) : this.#o.perSubscription
  }

  /**
   * Attempts of one subscription held here, in flight and queued: one round waiting beside the
   * one in flight, none for a limited one (its claims spend a budget shared by every worker).
   */
  #room(sub: string): number {
    return this.#subscriptions.isLimited(sub) ? this.#slots(sub) : 2 * this.#slots(sub)
  }

  #pump(): void {
    const late: ClaimedDelivery[] = []
    for (const [sub, q] of this.#queued) {
      let n = this.#inFlight.get(sub) ?? 0
      const slots = this.#slots(sub)
      while (q.length > 0 && n < slots) {
        const d = q.shift()!
        this.#queuedTotal--
        const windowEnd = this.#windowEnds.get(d.id)
        if (windowEnd !== undefined) {
          this.#windowEnds.delete(d.id)
          if (this.#o.now() >= windowEnd) {
            late.push(d)
            continue
          }
        }
        n++
        this.#inFlightTotal++
        this.#inFlight.set(sub, n)
        void this.#attempt(d)
      }
      if (q.length === 0) this.#queued.delete(sub)
    }
    if (late.length > 0) this.#giveBackLate(late)
  }

  /** Rate-limited deliveries whose claim's window ended before they could start: due again now. */
  #giveBackLate(late: ClaimedDelivery[]): void {
    for (const d of late) this.#keys.delete(d.id)
    this.#o.store.deliveries
      .release(
        late.map((d) => ({ id: d.id, leaseToken: d.leaseToken })),
        this.#o.now(),
      )
      .catch((e: unknown) =>
        this.#o.log.warn(
          { err: e, deliveryIds: late.slice(0, 20).map((d) => d.id) },
          'could not give back rate-limited deliveries; their leases will expire',
        ),
      )
      .finally(() => this.wake())
  }

  async #attempt(d: ClaimedDelivery): Promise<void> {
    const o = this.#o
    const started = o.now()
    let result: CompleteInput
    let detail: string | undefined
    try {
      ;({ result, detail } = await this.#send(d, started))
    } catch (e) {
      // Our own fault (a bug, a bad secret): give the lease back to the schedule, never crash.
      o.log.error(
        { err: e, deliveryId: d.id, subscriptionId: d.subscriptionId },
        'delivery attempt failed inside hookpost',
      )
      result = this.#result(
        d,
        started,
        {
          kind: 'error',
          code: 'network_error',
          message: 'internal error while sending',
          durationMs: o.now() - started,
        },
        {},
      )
    }
    this.#keys.delete(d.id)
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
    if (d.orderingKey !== null) this.#ordered.set(d.id, d.subscriptionId)
    if (this.#subscriptions.get(d.subscriptionId)?.settings?.maxInFlight != null)
      this.#unrecorded.set(d.id, d.subscriptionId)
    this.#pending.push(result)
    this.#scheduleFlush()
    const n = (this.#inFlight.get(d.subscriptionId) ?? 1) - 1
    if (n <= 0) this.#inFlight.delete(d.subscriptionId)
    else this.#inFlight.set(d.subscriptionId, n)
    this.#inFlightTotal--
    this.#pump()
    if (this.#inFlightTotal === 0) this.#idle?.()
    if (this.#stopping) return
    if (this.#wantsSlots && this.#free() >= this.#lowWater()) this.wake()
    else if (
      this.#excluded.has(d.subscriptionId) &&
      n + (this.#queued.get(d.subscriptionId)?.length ?? 0) <= this.#slots(d.subscriptionId) / 2
    ) {
      // A busy subscription has room for half a round again: fetch its next deliveries now
      // rather than at the next poll.
      this.#excluded.delete(d.subscriptionId)
      this.wake()
    }
  }

  async #send(d: ClaimedDelivery, started: number): Promise<{ result: CompleteInput; detail?: string }> {
    const o = this.#o
    if (d.attempts > d.attemptLimit) {
      // Claimed again after crashes used up its attempts: stop here instead of looping forever.
      const result = this.#result(
        d,
        started,
        { kind: 'error', code: 'network_error', message: 'attempt limit reached', durationMs: 0 },
        {},
        'attempts_exhausted',
      )
      return { result }
    }
    const envKeys = this.#keys.get(d.id)?.get(d.envId)
    if (!envKeys || envKeys.keys.length === 0) throw new Error(`no valid signing secret for ${d.envId}`)
    let url = d.url
    let body = d.body
    let extra: Record<string, string> | undefined
    // Never the untransformed bytes because the row is not at hand (evicted from the cache):
    // read it again; a subscription gone since the claim had its deliveries cancelled.
    const row =
      this.#subscriptions.get(d.subscriptionId) ??
      (await o.store.subscriptions.getMany([d.subscriptionId]))[0]
    if (!row) {
      return {
        result: this.#ended(
          d,
          started,
          { kind: 'cancelled' },
          'subscription_deleted',
          'the subscription was deleted',
        ),
      }
    }
    const code = row.transformation
    if (code) {
      // Before signing: the signatures cover the bytes the transformation made, and those are sent.
      const t = await this.#transform(d, code)
      if (t.kind === 'cancel') {
        return {
          result: this.#ended(
            d,
            started,
            { kind: 'cancelled' },
            'transformation_cancelled',
            'the transformation returned { cancel: true }',
          ),
        }
      }
      // The same code gives the same answer on every attempt: fail now, no retries.
      if (t.kind === 'error')
        return { result: this.#ended(d, started, { kind: 'failed' }, 'transformation_error', t.message) }
      url = t.url
      body = t.body
      extra = t.headers
    }
    const timestamp = Math.floor(started / 1000)
    const headers: Record<string, string> = {
      ...extra,
      'content-type': 'application/json',
      'user-agent': o.userAgent,
      ...signDelivery(envKeys.keys, d.id, timestamp, body, envKeys.encoding, envKeys.pairs),
      'x-delivery-event': d.event,
      'x-delivery-attempt': String(d.attempts),
      // The publisher's trace goes on (tracing replaces the parent id with the attempt's span).
      ...(d.traceparent !== null ? { traceparent: d.traceparent } : {}),
    }
    const endpoint = this.#endpoints.for(row)
    // A broker destination travels with the request; which type it is, the Sender knows.
    const destination = row.destination
    const req = {
      url,
      headers,
      body,
      timeoutMs: this.#timeoutOf(d),
      ...(destination ? { destination: { envId: d.envId, ...destination } } : {}),
    }
    const outcome = await sendToEndpoint(o.sender, this.#tokens, req, endpoint)
    o.failpoints('worker.after_send')
    const result = this.#result(d, started, outcome, recordedHeaders(headers, endpoint))
    if (!countsForHealth(outcome)) result.countsForHealth = false
    return outcome.kind === 'error' && outcome.detail !== undefined
      ? { result, detail: outcome.detail }
      : { result }
  }

  #transform(d: ClaimedDelivery, code: string): Promise<Transformed> {
    if (!this.#transformer)
      return Promise.resolve({ kind: 'error', message: 'this worker has no transformation sandbox' })
    return transform(
      {
        transformer: this.#transformer,
        checkUrl: this.#o.checkUrl,
        maxBodyBytes: this.#o.maxTransformedBytes,
      },
      code,
      { eventName: d.event, payloadJson: d.body.toString('utf8'), url: d.url, headers: {} },
      d.subscriptionId,
    )
  }

  /** An attempt that ended before sending (its transformation cancelled or failed it). */
  #ended(
    d: ClaimedDelivery,
    started: number,
    outcome: { kind: 'cancelled' } | { kind: 'failed' },
    error: string,
    message: string,
  ): CompleteInput {
    const durationMs = this.#o.now() - started
    return {
      id: d.id,
      leaseToken: d.leaseToken,
      statusCode: null,
      error,
      outcome,
      // A cancel says nothing about the endpoint; a transformation's error counts like a failure.
      ...(outcome.kind === 'cancelled' ? { countsForHealth: false } : {}),
      attempt: {
        deliveryId: d.id,
        number: d.attempts,
        started,
        durationMs,
        statusCode: null,
        error: `${error}: ${message}`,
        responseBody: null,
        requestHeaders: {},
        responseHeaders: null,
      },
    }
  }

  /** The subscription's own timeout, never past what the lease was sized for. */
  #timeoutOf(d: ClaimedDelivery): number {
    const own = this.#subscriptions.get(d.subscriptionId)?.settings?.timeoutMs
    return own != null
      ? Math.min(own, Math.max(this.#o.requestTimeoutMs, this.#o.maxTimeoutMs))
      : this.#o.requestTimeoutMs
  }

  #result(
    d: ClaimedDelivery,
    started: number,
    outcome: AttemptOutcome,
    requestHeaders: Record<string, string>,
    errorOverride?: string,
  ): CompleteInput {
    const o = this.#o
    const now = o.now()
    const completion = errorOverride
      ? ({ kind: 'failed' } as const)
      : nextStep(
          outcome,
          d.attempts,
          d.attemptLimit,
          policyFor(o.policy, this.#subscriptions.get(d.subscriptionId)?.settings?.retryScheduleMs),
          now,
          o.random(),
        )
    const statusCode = outcome.kind === 'response' ? outcome.statusCode : null
    let error: string | null = null
    if (errorOverride) error = errorOverride
    else if (outcome.kind === 'error') error = outcome.code
    else if (outcome.kind === 'acknowledged') error = null
    else if (outcome.statusCode >= 300 && outcome.statusCode < 400) {
      error = `redirect_not_followed${outcome.headers['location'] ? `: ${outcome.headers['location']}` : ''}`
    } else if (outcome.statusCode < 200 || outcome.statusCode >= 300) error = `http_${outcome.statusCode}`
    const kept = leanRequestHeaders(requestHeaders, {
      deliveryId: d.id,
      event: d.event,
      number: d.attempts,
      started,
    })
    return {
      id: d.id,
      leaseToken: d.leaseToken,
      statusCode,
      error,
      outcome: completion,
      attempt: {
        deliveryId: d.id,
        number: d.attempts,
        started,
        durationMs: outcome.durationMs,
        statusCode,
        error: outcome.kind === 'error' ? `${outcome.code}: ${outcome.message}` : error,
        responseBody:
          outcome.kind === 'response'
            ? outcome.body
            : outcome.kind === 'acknowledged'
              ? outcome.answer
              : null,
        // The log keeps only the headers that vary; reading it puts the others back.
        ...(kept ? { requestHeaders: kept, leanHeaders: true as const } : { requestHeaders }),
        responseHeaders: outcome.kind === 'response' ? outcome.headers : null,
      },
    }
  }

  #scheduleFlush(): void {
    if (this.#pending.length >= flushBatch) {
      void this.#flush()
      return
    }
    if (this.#flushTimer) return
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined
      void this.#flush()
    }, flushDelayMs)
  }

  /** Writes buffered outcomes in one transaction; chained so that flushes never overlap. */
  #flush(): Promise<void> {
    if (this.#flushTimer) {
      clearTimeout(this.#flushTimer)
      this.#flushTimer = undefined
    }
    this.#flushing = this.#flushing.then(async () => {
      let failures = 0
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, flushBatch)
        try {
          this.#o.failpoints('worker.before_complete')
          await this.#o.store.deliveries.complete(batch, this.#o.now(), this.#rules)
          this.#o.failpoints('worker.after_complete')
          let recorded = false
          for (const b of batch) recorded = this.#unrecorded.delete(b.id) || recorded
          // Their places are free in the store now: a claim may take the next ones.
          if (recorded && !this.#stopping) this.wake()
          for (const b of batch) {
            const sub = this.#ordered.get(b.id)
            if (sub === undefined) continue
            // Its chain's next delivery may have been due for long: older than a dry scan looks.
            this.#ordered.delete(b.id)
            this.#feeding.add(sub)
          }
        } catch (e) {
          // The store is down: keep the outcomes and try again; if we die first, leases expire
          // and the deliveries are attempted again (at least once).
          this.#o.log.error(
            { err: e, count: batch.length, deliveryIds: batch.slice(0, 20).map((b) => b.id) },
            'recording delivery outcomes failed; will retry',
          )
          this.#pending.unshift(...batch)
          failures++
          if (this.#stopping && failures >= 3) return
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * failures)))
        }
      }
    })
    return this.#flushing
  }
}
