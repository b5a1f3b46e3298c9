// What the worker claims next and from where: subscriptions known to have more due work are fed
// from their own index ranges, the scan across subscriptions only discovers the others (and
// narrows to what fell due since once it runs dry), full subscriptions and spent budgets are left
// out, and a saturated worker still gives starved subscriptions a fair share. It decides the
// claims; the worker holds what they take (its queues, in-flight counts, slots).
import type { ClaimedDelivery, Store } from '../store/store.ts'
import type { SubscriptionCache } from './subscription-cache.ts'

const fairShareEveryMs = 2000
const fairShareSubscriptions = 200
const fairShareSlots = 4
const fullScanEveryMs = 1000
// Rows published by another node whose clock runs this much behind still fall into a dry scan.
const dueAfterSlackMs = 2000

export interface ClaimPlannerOptions {
  store: Store
  now: () => number
  /** Rows per claim statement. */
  claimBatch: number
  /** Attempts in flight at once to one subscription. */
  perSubscription: number
  subscriptions: SubscriptionCache
  leaseMs: () => number
  /** Attempts this worker can still take (in flight and queued). */
  free: () => number
  /** Attempts held per subscription (in flight, queued, done but not yet recorded). */
  busy: () => Iterable<[string, number]>
  /** Whether the worker holds any attempt of this subscription (in flight or queued). */
  holds: (sub: string) => boolean
  slots: (sub: string) => number
  room: (sub: string) => number
  /** Takes claimed rows into the worker's queues. */
  accept: (rows: ClaimedDelivery[], now: number) => Promise<number>
}

export class ClaimPlanner {
  readonly #o: ClaimPlannerOptions
  #lastFairShare = 0
  #fairShareInterval = fairShareEveryMs
  #excluded = new Set<string>()
  /** When a full scan last found nothing due outside the subscriptions being fed (see fill). */
  #dryAt: number | undefined
  #nextFullScan = 0
  /** Subscriptions known to have more due work than this worker holds. */
  #feeding = new Set<string>()
  /**
   * Subscriptions that may have due work no scan looks at: left out of a scan (full) that then
   * ran dry. Fed like the others once they have room, but only a guess: unlike #feeding, they
   * go on taking hand-offs (a full subscription is usually full of them).
   */
  #suspect = new Set<string>()
  /** Subscriptions whose budget (rateLimit, maxInFlight) a claim found spent, until when. */
  readonly #throttled = new Map<string, number>()

  constructor(options: ClaimPlannerOptions) {
    this.#o = options
  }

  /** Due work of this subscription waits in the store, or its budget is spent. */
  backlogged(sub: string): boolean {
    return this.#feeding.has(sub) || this.#throttled.has(sub)
  }

  /** This subscription's next deliveries may be due: feed it from its own index range. */
  feed(sub: string): void {
    this.#feeding.add(sub)
    this.#suspect.delete(sub)
  }

  /**
   * A subscription the last claim found full, now holding `held`: true (once) when it has room
   * for half a round again, so that its next deliveries are fetched now rather than at the next
   * poll.
   */
  freed(sub: string, held: number): boolean {
    if (!this.#excluded.has(sub) || held > this.#o.slots(sub) / 2) return false
    this.#excluded.delete(sub)
    return true
  }

  /** Claims what fits; true when more is probably due than it could take. */
  async fill(): Promise<boolean> {
    const o = this.#o
    const free = this.#o.free()
    const now = o.now()
    if (free <= 0) {
      await this.#fairShare(now)
      // More is due if some subscription is known to have it (not if it is only full).
      return this.#feeding.size > 0
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
    for (const [sub, n] of this.#o.busy()) {
      if (n >= this.#o.slots(sub) || this.#throttled.has(sub)) exclude.push(sub)
      else busy.set(sub, this.#o.room(sub) - n)
    }
    const left = new Set(exclude)
    for (const sub of this.#throttled.keys()) if (!left.has(sub)) exclude.push(sub)
    // A limited subscription (rateLimit, maxInFlight) is claimed only as far as it can start now:
    // what is claimed spends its shared budget, so nothing waits here while others could send.
    for (const sub of this.#o.subscriptions.limited()) {
      if (!busy.has(sub) && !left.has(sub) && !this.#throttled.has(sub)) busy.set(sub, this.#o.room(sub))
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
    for (const sub of [...this.#feeding, ...this.#suspect]) {
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
      leaseMs: this.#o.leaseMs(),
      serve,
      scan: { exclude, room, ...(dry ? { dueAfter: (this.#dryAt ?? now) - dueAfterSlackMs } : {}) },
    })
    const rows = claim.deliveries
    for (const s of serve) {
      // Served last: the others in line go first next time.
      this.#feeding.delete(s.subscriptionId)
      this.#suspect.delete(s.subscriptionId)
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
        for (const sub of exclude) if (!this.#feeding.has(sub)) this.#suspect.add(sub)
      } else this.#dryAt = undefined
    }
    await this.#o.accept(rows, now)
    // Full now (left out, or filled by this claim): when one of them has room again it may have
    // more due work, so its completions wake the loop.
    this.#excluded = new Set([...this.#o.busy()].filter(([s, n]) => n >= this.#o.slots(s)).map(([s]) => s))
    if (rows.length === limit) await this.#fairShare(now)
    return rows.length === limit
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
    const starved = due.filter((s) => !this.#o.holds(s) && !this.#throttled.has(s))
    if (starved.length === 0) return
    const serve = starved.map((s) => ({
      subscriptionId: s,
      limit: Math.min(fairShareSlots, this.#o.slots(s)),
    }))
    const claim = await o.store.deliveries.claimDue({
      now,
      limit: serve.reduce((n, s) => n + s.limit, 0),
      leaseMs: this.#o.leaseMs(),
      serve,
    })
    for (const [sub, until] of claim.throttled) this.#throttled.set(sub, until)
    // Their deliveries are older than what fell due since a dry scan: feed them too.
    for (const s of starved) if (!claim.drained.has(s)) this.#feeding.add(s)
    await this.#o.accept(claim.deliveries, now)
  }
}
