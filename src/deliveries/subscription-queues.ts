// The worker's deliveries by subscription: queued here and in flight, each subscription within
// its slots (its maxInFlight when lower) and its room (one round waiting beside the one in
// flight, none for a limited one), rate-limited ones started only inside their claim's budget
// window, hand-offs beyond the room in the overflow (hand-off-overflow.ts), and nothing started
// that its lease no longer covers. It holds and starts attempts; what to claim is the planner's,
// the attempt the maker's.
import type { SigningKeyring } from '../secrets/signing-keyring.ts'
import type { Logger } from '../shared/logger.ts'
import type { ClaimedDelivery, Store } from '../store/store.ts'
import type { ClaimKeys } from './attempt-maker.ts'
import { HandOffOverflow, type OverflowLimits } from './hand-off-overflow.ts'
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
  /**
   * The same for a subscription with a broker destination: its publishes share one pipelined
   * connection and wait for confirms, so more in flight cost the broker little and keep the
   * sending thread busy while this one is (its transactions, its answers).
   */
  perBrokerSubscription: number
  subscriptions: SubscriptionCache
  /** Starts one attempt with its claim's signing keys; it counts in flight until done(). */
  start: (d: ClaimedDelivery, keys: ClaimKeys | undefined, startedAt?: number) => void
  /** New work may be due (deliveries given back). */
  wake: () => void
  /**
   * A queued delivery whose lease ends sooner than this is given back instead of started: the
   * lease must outlast its attempt (the longest timeout and a margin).
   */
  leaseReserveMs: number
  /** The bounds of what hand-offs may hold beyond the room. */
  overflow: OverflowLimits
}

export class SubscriptionQueues {
  readonly #o: SubscriptionQueuesOptions
  readonly #subscriptions: SubscriptionCache
  readonly #queued = new Map<string, ClaimedDelivery[]>()
  readonly #inFlight = new Map<string, number>()
  #queuedTotal = 0
  #inFlightTotal = 0
  readonly #keys = new Map<string, ClaimKeys>()
  /** When each delivery held here stops being leased to this worker. */
  readonly #leaseEnds = new Map<string, number>()
  readonly #overflow: HandOffOverflow

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
    this.#overflow = new HandOffOverflow(options.overflow)
  }

  get stats(): { inFlight: number; queued: number } {
    return { inFlight: this.#inFlightTotal, queued: this.#queuedTotal + this.#overflow.size }
  }

  /** Attempts of this subscription here, in flight and queued. */
  held(sub: string): number {
    return (this.#inFlight.get(sub) ?? 0) + (this.#queued.get(sub)?.length ?? 0)
  }

  /** Attempts of this subscription queued here, not yet started. */
  waiting(sub: string): number {
    return this.#queued.get(sub)?.length ?? 0
  }

  /** Whether any attempt of this subscription is here (in flight, queued or in the overflow). */
  holds(sub: string): boolean {
    return this.#inFlight.has(sub) || this.#queued.has(sub) || this.#overflow.count(sub) > 0
  }

  /**
   * Hand-offs of this subscription it would take now: its room's free part, and for one with no
   * shared budget what the overflow would take beyond it.
   */
  handOffRoom(sub: string): number {
    const inRoom = Math.max(0, this.room(sub) - this.held(sub))
    if (this.#subscriptions.isLimited(sub)) return inRoom
    return inRoom + this.#overflow.room(sub, this.slots(sub))
  }

  /** Hand-offs it would take now in all: the free part of its concurrency, then the overflow's. */
  handOffFree(): number {
    return Math.max(0, this.free()) + Math.max(0, this.#o.overflow.maxDeliveries - this.#overflow.size)
  }

  /** One attempt of this subscription took `ms`: what its overflow is sized by. */
  paced(sub: string, ms: number): void {
    this.#overflow.paced(sub, ms)
  }

  /**
   * Hand-offs wait in the overflow for up to a lease: those of a subscription paused, deactivated,
   * deleted or changed since are given back, so that they go (or wait) as a claim would have it.
   * The worker calls this every second while the overflow holds any.
   */
  async recheckOverflow(): Promise<void> {
    const subs = [...this.#overflow.subscriptions()]
    if (subs.length === 0) return
    const rows = new Map((await this.#o.store.subscriptions.getMany(subs)).map((r) => [r.id, r]))
    const back: ClaimedDelivery[] = []
    for (const sub of subs) {
      const row = rows.get(sub)
      const known = this.#subscriptions.get(sub)
      if (row && known && row.active && !row.held && row.updated === known.updated) continue
      back.push(...this.#takeOverflow(sub))
    }
    if (back.length > 0) this.#giveBack(back)
  }

  /** This subscription's overflow goes back to the store (it was changed). */
  giveBackOverflow(sub: string): void {
    const back = this.#takeOverflow(sub)
    if (back.length > 0) this.#giveBack(back)
  }

  #takeOverflow(sub: string): ClaimedDelivery[] {
    const out = this.#overflow.remove(sub)
    this.#forget(out)
    return out
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
    queued.push(...this.#overflow.drain())
    this.#queued.clear()
    this.#windowEnds.clear()
    this.#forget(queued)
    this.#queuedTotal = 0
    return queued
  }

  #forget(ds: readonly ClaimedDelivery[]): void {
    for (const d of ds) {
      this.#keys.delete(d.id)
      this.#leaseEnds.delete(d.id)
    }
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

  /**
   * Takes claimed or handed-off rows: queued within each subscription's room, hand-offs beyond
   * it in the overflow as far as it takes them, the rest given back. `leaseEnd`: when a row's
   * lease ends.
   */
  async accept(
    rows: ClaimedDelivery[],
    now: number,
    leaseEnd: (d: ClaimedDelivery) => number,
    handOff = false,
  ): Promise<number> {
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
      this.#leaseEnds.set(r.id, leaseEnd(r))
      const rate = this.#subscriptions.get(r.subscriptionId)?.settings?.rateLimit
      // Windows are aligned to the epoch, as the store's budget counts them.
      if (rate) this.#windowEnds.set(r.id, (Math.floor(now / rate.periodMs) + 1) * rate.periodMs)
      const q = this.#queued.get(r.subscriptionId) ?? []
      const busy = (this.#inFlight.get(r.subscriptionId) ?? 0) + q.length
      // Keep at most one round per subscription waiting here (none for a limited one: see
      // room); the rest goes back to the store.
      if (busy >= this.room(r.subscriptionId)) {
        const overflow =
          handOff &&
          !rate &&
          this.#overflow.room(r.subscriptionId, this.slots(r.subscriptionId)) > 0 &&
          this.#overflow.add(r)
        if (!overflow) {
          surplus.push(r)
          this.#forget([r])
        }
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

  /** Attempts of one subscription in flight at once here (by its destination): its maxInFlight when lower. */
  slots(sub: string): number {
    const row = this.#subscriptions.get(sub)
    const own = row?.destination ? this.#o.perBrokerSubscription : this.#o.perSubscription
    const max = row?.settings?.maxInFlight
    return max != null ? Math.min(max, own) : own
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
    if (this.#overflow.size > 0) this.#refill(late)
    const now = this.#o.now()
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
        // Its lease would end during the attempt (it waited too long): given back, due again.
        if ((this.#leaseEnds.get(d.id) ?? Number.POSITIVE_INFINITY) - now < this.#o.leaseReserveMs) {
          late.push(d)
          continue
        }
        n++
        this.#inFlightTotal++
        this.#inFlight.set(sub, n)
        const keys = this.#keys.get(d.id)
        // Read once as the attempt starts: nothing here needs them after that.
        this.#keys.delete(d.id)
        this.#leaseEnds.delete(d.id)
        this.#o.start(d, keys, startedAt)
      }
      if (q.length === 0) this.#queued.delete(sub)
    }
    if (late.length > 0) this.#giveBack(late)
  }

  /**
   * Moves overflowed hand-offs into their subscriptions' queues as far as each one's room and the
   * worker's concurrency allow (each subscription in turn); a held subscription's go to `late`.
   */
  #refill(late: ClaimedDelivery[]): void {
    // Each once: a subscription served goes to the back of the overflow's line.
    let left = this.#overflow.subscriptionCount
    for (const sub of this.#overflow.subscriptions()) {
      if (left-- <= 0 || this.free() <= 0) return
      if (this.#subscriptions.get(sub)?.held) {
        late.push(...this.#takeOverflow(sub))
        continue
      }
      const moved = this.#overflow.take(sub, Math.min(this.room(sub) - this.held(sub), this.free()))
      if (moved.length === 0) continue
      const q = this.#queued.get(sub) ?? []
      q.push(...moved)
      this.#queued.set(sub, q)
      this.#queuedTotal += moved.length
    }
  }

  /**
   * Deliveries that cannot start here (a rate-limited one's window ended, a lease too short, a
   * held or changed subscription's): given back (due again, or kept if held).
   */
  #giveBack(late: ClaimedDelivery[]): void {
    this.#forget(late)
    this.#o.store.deliveries
      .release(
        late.map((d) => ({ id: d.id, leaseToken: d.leaseToken })),
        this.#o.now(),
      )
      .catch((e: unknown) =>
        this.#o.log.warn(
          { err: e, deliveryIds: late.slice(0, 20).map((d) => d.id) },
          'could not give back deliveries that could not start; their leases will expire',
        ),
      )
      .finally(() => this.#o.wake())
  }
}
