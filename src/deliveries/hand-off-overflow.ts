// What a publish hands the local worker beyond a subscription's room (one round in flight, one
// queued): kept here, leased, in publish order, and fed to the subscription's queue as it drains,
// so that a burst larger than the room still goes out with no claim (no due-row scan, no second
// write of each row). Bounded three ways: what the subscription's observed pace sends within the
// lease, a count per worker and the bytes of their bodies; past any bound a delivery stays due in
// the store for a claim, as before.
import type { ClaimedDelivery } from '../store/store.ts'

export interface OverflowLimits {
  /** Deliveries held here at most, all subscriptions together. */
  maxDeliveries: number
  /** Their bodies' bytes at most (each delivery counts its body, shared or not). */
  maxBytes: number
  /**
   * How long a delivery may wait here and still have its lease cover its attempt: the lease
   * minus the longest attempt and a margin (the worker's `leaseMs - maxTimeout - 2 s`).
   */
  waitMs: number
}

/** A subscription's overflow: a queue read from `head` (no shifting of long arrays). */
interface Line {
  items: ClaimedDelivery[]
  head: number
}

// The pace of a subscription never seen: as slow as an attempt may be, so nothing overflows
// until its attempts have been timed.
const unknownPace = Number.POSITIVE_INFINITY
// How fast the slowest recent attempt is forgotten: per attempt, so a slow one counts for about
// the next few hundred attempts.
const paceDecay = 0.99
// Subscriptions whose pace is kept at most (the oldest timed go first; they are timed again).
const maxPaced = 10_000

export class HandOffOverflow {
  readonly #limits: OverflowLimits
  readonly #lines = new Map<string, Line>()
  /** The slowest recent attempt per subscription (ms), decaying: what its overflow is sized by. */
  readonly #pace = new Map<string, number>()
  #size = 0
  #bytes = 0

  constructor(limits: OverflowLimits) {
    this.#limits = limits
  }

  get size(): number {
    return this.#size
  }

  /** Deliveries of this subscription held here. */
  count(sub: string): number {
    const l = this.#lines.get(sub)
    return l ? l.items.length - l.head : 0
  }

  /** Subscriptions with deliveries here, the least recently served first. */
  subscriptions(): IterableIterator<string> {
    return this.#lines.keys()
  }

  /** How many subscriptions have deliveries here. */
  get subscriptionCount(): number {
    return this.#lines.size
  }

  /** One attempt of this subscription took `ms`. */
  paced(sub: string, ms: number): void {
    const p = this.#pace.get(sub)
    if (p === undefined && this.#pace.size >= maxPaced) this.#pace.delete(this.#pace.keys().next().value!)
    this.#pace.set(sub, p === undefined ? ms : Math.max(ms, p * paceDecay))
  }

  /**
   * How many more of this subscription it would take: what `slots` attempts at a time send
   * within the wait at its slowest recent pace, less what it holds, within the worker's bounds.
   */
  room(sub: string, slots: number): number {
    const pace = Math.max(1, this.#pace.get(sub) ?? unknownPace)
    const cap = Math.floor(this.#limits.waitMs / pace) * slots
    return Math.max(0, Math.min(cap - this.count(sub), this.#limits.maxDeliveries - this.#size))
  }

  /** Takes `d` if the byte bound allows (the count bounds are the caller's, through room). */
  add(d: ClaimedDelivery): boolean {
    if (this.#bytes + d.body.length > this.#limits.maxBytes && this.#size > 0) return false
    const l = this.#lines.get(d.subscriptionId)
    if (l) l.items.push(d)
    else this.#lines.set(d.subscriptionId, { items: [d], head: 0 })
    this.#size++
    this.#bytes += d.body.length
    return true
  }

  /** Up to `n` of this subscription's, oldest first. */
  take(sub: string, n: number): ClaimedDelivery[] {
    const l = this.#lines.get(sub)
    if (!l || n <= 0) return []
    const out = l.items.slice(l.head, l.head + n)
    l.head += out.length
    this.#forget(out)
    if (l.head >= l.items.length) this.#lines.delete(sub)
    else {
      // Served: to the back of the line, so that a saturated worker feeds each in turn.
      this.#lines.delete(sub)
      this.#lines.set(sub, l.head > 1024 ? { items: l.items.slice(l.head), head: 0 } : l)
    }
    return out
  }

  /** All of this subscription's (to give back). */
  remove(sub: string): ClaimedDelivery[] {
    return this.take(sub, this.count(sub))
  }

  /** Everything (the worker stops). */
  drain(): ClaimedDelivery[] {
    const out: ClaimedDelivery[] = []
    for (const sub of [...this.#lines.keys()]) out.push(...this.remove(sub))
    return out
  }

  #forget(ds: readonly ClaimedDelivery[]): void {
    this.#size -= ds.length
    for (const d of ds) this.#bytes -= d.body.length
  }
}
