// The worker's deliveries by subscription: queued here and in flight, each subscription within
// its slots (its maxInFlight when lower) and its room (one round waiting beside the one in
// flight, none for a limited one), rate-limited ones started only inside their claim's budget
// window. It holds and starts attempts; what to claim is the planner's, the attempt the maker's.
import type { SigningKeyring } from '../secrets/signing-keyring.ts'
import type { Logger } from '../shared/logger.ts'
import type { ClaimedDelivery, Store } from '../store/store.ts'
import type { ClaimKeys } from './attempt-maker.ts'
import type { SubscriptionCache } from './subscription-cache.ts'

export interface SubscriptionQueuesOptions {
  store: Store
  keyring: SigningKeyring
  log: Logger
  now: () => number
  /** Attempts in flight (and queued) at once in this process. */
  concurrency: number
  /** Attempts in flight at once to one subscription. */
  perSubscription: number
  subscriptions: SubscriptionCache
  /** Starts one attempt with its claim's signing keys; it counts in flight until done(). */
  start: (d: ClaimedDelivery, keys: ClaimKeys | undefined, startedAt?: number) => void
  /** New work may be due (deliveries given back). */
  wake: () => void
}

export class SubscriptionQueues {
  readonly #o: SubscriptionQueuesOptions
  readonly #subscriptions: SubscriptionCache
  readonly #queued = new Map<string, ClaimedDelivery[]>()
  readonly #inFlight = new Map<string, number>()
  #queuedTotal = 0
  #inFlightTotal = 0
  readonly #keys = new Map<string, ClaimKeys>()

  /**
   * Rate-limited deliveries waiting here, by id: when the budget window their claim spent ends.
   * One that cannot start before then is given back (see pump): a slow claim or a busy loop must
   * not move its start into the next window, where that window's own budget starts as many.
   */
  readonly #windowEnds = new Map<string, number>()
  /**
   * Attempts of maxInFlight subscriptions done but not yet recorded, by delivery id: their lease
   * still counts in the store, so they count here too until the flush (else the next claim would
   * be refused and the subscription held back for nothing).
   */
  readonly #unrecorded = new Map<string, string>()

  constructor(options: SubscriptionQueuesOptions) {
    this.#o = options
    this.#subscriptions = options.subscriptions
  }

  get stats(): { inFlight: number; queued: number } {
    return { inFlight: this.#inFlightTotal, queued: this.#queuedTotal }
  }

  /** Attempts of this subscription here, in flight and queued. */
  held(sub: string): number {
    return (this.#inFlight.get(sub) ?? 0) + (this.#queued.get(sub)?.length ?? 0)
  }

  /** Attempts of this subscription queued here, not yet started. */
  waiting(sub: string): number {
    return this.#queued.get(sub)?.length ?? 0
  }

  /** Whether any attempt of this subscription is here (in flight or queued). */
  holds(sub: string): boolean {
    return this.#inFlight.has(sub) || this.#queued.has(sub)
  }

  /** A done attempt of a maxInFlight subscription: it counts as busy until recorded. */
  awaitRecord(id: string, sub: string): void {
    this.#unrecorded.set(id, sub)
  }

  /** True when this delivery was awaiting its record (see awaitRecord). */
  recorded(id: string): boolean {
    return this.#unrecorded.delete(id)
  }

  /** One attempt of this subscription is done: what it still has in flight. */
  done(sub: string): number {
    const n = (this.#inFlight.get(sub) ?? 1) - 1
    if (n <= 0) this.#inFlight.delete(sub)
    else this.#inFlight.set(sub, n)
    this.#inFlightTotal--
    return n
  }

  /** Empties the queues (the worker stops): what was queued, to give back. */
  drain(): ClaimedDelivery[] {
    const queued = [...this.#queued.values()].flat()
    this.#queued.clear()
    this.#windowEnds.clear()
    this.#queuedTotal = 0
    return queued
  }

  /** Attempts this worker can still take (in flight and queued). */
  free(): number {
    return this.#o.concurrency - this.#inFlightTotal - this.#queuedTotal
  }

  /** Attempts in flight plus queued here (plus unrecorded ones of maxInFlight subscriptions), per subscription. */
  *busy(): Iterable<[string, number]> {
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

  /** Takes claimed or handed-off rows: queued within each subscription's room, the rest given back. */
  async accept(rows: ClaimedDelivery[], now: number): Promise<number> {
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
      // room); the rest goes back to the store.
      if (busy >= this.room(r.subscriptionId)) {
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
    this.pump()
    return rows.length - surplus.length
  }

  /** Attempts of one subscription in flight at once here: its maxInFlight when lower. */
  slots(sub: string): number {
    const max = this.#subscriptions.get(sub)?.settings?.maxInFlight
    return max != null ? Math.min(max, this.#o.perSubscription) : this.#o.perSubscription
  }

  /**
   * Attempts of one subscription held here, in flight and queued: one round waiting beside the
   * one in flight, none for a limited one (its claims spend a budget shared by every worker).
   */
  room(sub: string): number {
    return this.#subscriptions.isLimited(sub) ? this.slots(sub) : 2 * this.slots(sub)
  }

  /** Starts what each subscription's slots allow. */
  pump(): void {
    const late: ClaimedDelivery[] = []
    for (const [sub, q] of this.#queued) {
      let n = this.#inFlight.get(sub) ?? 0
      const slots = this.slots(sub)
      while (q.length > 0 && n < slots) {
        const d = q.shift()!
        this.#queuedTotal--
        const windowEnd = this.#windowEnds.get(d.id)
        // A rate-limited attempt starts at the instant checked against its window (and is logged
        // so): the budget counts starts per window.
        let startedAt: number | undefined
        if (windowEnd !== undefined) {
          this.#windowEnds.delete(d.id)
          startedAt = this.#o.now()
          if (startedAt >= windowEnd) {
            late.push(d)
            continue
          }
        }
        n++
        this.#inFlightTotal++
        this.#inFlight.set(sub, n)
        const keys = this.#keys.get(d.id)
        // Read once as the attempt starts: nothing here needs them after that.
        this.#keys.delete(d.id)
        this.#o.start(d, keys, startedAt)
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
      .finally(() => this.#o.wake())
  }
}
