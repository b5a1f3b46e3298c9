// Hand-off at commit: with the API and a worker in one process (role all), the deliveries a
// publish commits go to that worker already leased, with no claim round trip. This module is the
// rule (which deliveries may skip the claim) and the desk that keeps concurrent publishes within
// the worker's room. It decides; the store leases the rows in the publish transaction.
import type { ClaimedDelivery, HandOff, HandOffCandidate } from '../store/store.ts'

/**
 * Whether a new delivery may go to the local worker without a claim: only what a claim would
 * hand out at once and unconditionally. Held ones are not due; an ordered one may have a pending
 * predecessor in its chain; a rateLimit or maxInFlight budget is shared by every worker and only
 * the claim spends it. Those are inserted due and claimed as before.
 */
export function handOffEligible(c: HandOffCandidate): boolean {
  return !c.held && c.orderingKey === null && !c.limited
}

/** What the desk asks of the worker it hands off to. */
export interface HandOffTarget {
  readonly leaseMs: number
  /**
   * Attempts of this subscription the worker would take now beyond those it holds (0: none).
   * 0 as well when it stops, is behind on due work, or the subscription has due work waiting in
   * the store: newer deliveries must not overtake it.
   */
  roomFor(subscriptionId: string): number
  /** Attempts it would take now in all. */
  free(): number
  /** The handed-off deliveries, leased to it; resolves once they are queued or given back. */
  accept(deliveries: ClaimedDelivery[]): Promise<void>
  /** An eligible delivery of this subscription it had no room for: inserted due, for a claim. */
  refused?(subscriptionId: string): void
}

/** One publish's hand-off: `close` once the store has answered (committed or not). */
export interface HandOffTicket extends HandOff {
  /** Deliveries handed to the worker by this publish. */
  readonly handedCount: number
  close(): void
}

/**
 * Reservations of the publishes in progress, so that concurrent ones (committed together on
 * SQLite) do not each fill the worker's room: a delivery taken reserves a slot until the worker
 * has it or the publish failed.
 */
export class HandOffDesk {
  readonly #target: HandOffTarget
  readonly #reserved = new Map<string, number>()
  #reservedTotal = 0

  constructor(target: HandOffTarget) {
    this.#target = target
  }

  /** A ticket for one publish (or batch): every input of it may share it. */
  open(): HandOffTicket {
    const desk = this
    const mine = new Map<string, number>()
    const accepting: Promise<void>[] = []
    let handedCount = 0
    let closed = false
    return {
      leaseMs: this.#target.leaseMs,
      get handedCount() {
        return handedCount
      },
      take(c) {
        if (closed || !handOffEligible(c)) return false
        if (!desk.#reserve(c.subscriptionId)) {
          desk.#target.refused?.(c.subscriptionId)
          return false
        }
        mine.set(c.subscriptionId, (mine.get(c.subscriptionId) ?? 0) + 1)
        return true
      },
      handed(deliveries) {
        handedCount += deliveries.length
        accepting.push(desk.#target.accept(deliveries))
      },
      close() {
        if (closed) return
        closed = true
        // Held until the worker counts them itself (queued or in flight).
        void Promise.allSettled(accepting).then(() => desk.#unreserve(mine))
      },
    }
  }

  #reserve(sub: string): boolean {
    const t = this.#target
    const own = this.#reserved.get(sub) ?? 0
    if (t.free() - this.#reservedTotal <= 0 || t.roomFor(sub) - own <= 0) return false
    this.#reserved.set(sub, own + 1)
    this.#reservedTotal++
    return true
  }

  #unreserve(taken: ReadonlyMap<string, number>): void {
    for (const [sub, n] of taken) {
      const left = (this.#reserved.get(sub) ?? 0) - n
      if (left > 0) this.#reserved.set(sub, left)
      else this.#reserved.delete(sub)
      this.#reservedTotal -= n
    }
  }
}
