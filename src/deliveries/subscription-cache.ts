// The worker's copy of the subscriptions it sends for: what an attempt needs beyond the claimed
// row (destination, settings, credentials) is read once per subscription version, not per
// delivery. A claim carries each subscription's `updated`; a newer one reloads the row.
import type { ClaimedDelivery, Store, SubscriptionRow } from '../store/store.ts'

/** Rows kept at most; past it the oldest loaded go first (they are reloaded on their next claim). */
const maxCached = 10_000

export class SubscriptionCache {
  readonly #store: Store
  readonly #rows = new Map<string, SubscriptionRow>()
  /** The cached ones with a budget shared by all workers (rateLimit or maxInFlight). */
  readonly #limited = new Set<string>()

  constructor(store: Store) {
    this.#store = store
  }

  /** Loads the subscriptions of these deliveries that are missing or older than their claim. */
  async refresh(claimed: readonly ClaimedDelivery[]): Promise<void> {
    const stale = new Set<string>()
    for (const d of claimed) {
      const row = this.#rows.get(d.subscriptionId)
      if (row === undefined || row.updated !== d.subscriptionUpdated) stale.add(d.subscriptionId)
    }
    if (stale.size === 0) return
    for (const row of await this.#store.subscriptions.getMany([...stale])) {
      this.#rows.delete(row.id)
      this.#rows.set(row.id, row)
      const s = row.settings
      if (s != null && (s.rateLimit !== null || s.maxInFlight !== null)) this.#limited.add(row.id)
      else this.#limited.delete(row.id)
    }
    for (const id of this.#rows.keys()) {
      if (this.#rows.size <= maxCached) break
      this.#rows.delete(id)
      this.#limited.delete(id)
    }
  }

  /** Whether it has a budget shared by all workers (rateLimit or maxInFlight). */
  isLimited(subscriptionId: string): boolean {
    return this.#limited.has(subscriptionId)
  }

  /** The cached subscriptions that have a shared budget. */
  limited(): ReadonlySet<string> {
    return this.#limited
  }

  /** The row as of the last refresh; undefined when it was deleted since. */
  get(subscriptionId: string): SubscriptionRow | undefined {
    return this.#rows.get(subscriptionId)
  }
}
