// The publish side of the hand-off at commit (store.ts HandOff): the deliveries the core takes
// are inserted leased, as a claim would lease them, and given to the local worker once the
// transaction has committed. One HandOffs per transaction: a failed one is dropped with it.
import type { Insertable } from 'kysely'
import { pooledRandomBytes } from '../../shared/random-pool.ts'
import type { ClaimedDelivery, PublishInput, PublishResult } from '../store.ts'
import type { Database } from './database.ts'

export class HandOffs {
  readonly #byInput = new Map<PublishInput, ClaimedDelivery[]>()
  readonly #outsideDue: boolean
  #token: string | undefined

  /** outsideDue: mark what is taken `handed` (SqlDialectTraits.handedOutsideDue). */
  constructor(outsideDue = false) {
    this.#outsideDue = outsideDue
  }

  /**
   * Offers a delivery row about to be inserted to the input's hand-off; when taken, leases the
   * row (token, expiry, this attempt counted) and keeps it as the claimed delivery it becomes.
   */
  offer(
    input: PublishInput,
    row: Insertable<Database['deliveries']>,
    sub: { id: string; url: string; updated: number; limited: boolean },
  ): void {
    const h = input.handOff
    if (!h) return
    const { event } = input
    const candidate = {
      subscriptionId: sub.id,
      held: row.next_attempt_at === null,
      orderingKey: row.ordering_key ?? null,
      limited: sub.limited,
    }
    if (!h.take(candidate)) return
    // One token per transaction, like one per claim.
    this.#token ??= pooledRandomBytes(12).toString('base64url')
    row.lease_token = this.#token
    row.next_attempt_at = event.created + h.leaseMs
    row.attempts = 1
    if (this.#outsideDue) row.handed = 1
    const list = this.#byInput.get(input) ?? []
    list.push({
      id: row.id,
      envId: event.envId,
      eventId: event.id,
      subscriptionId: sub.id,
      event: event.eventName,
      attempts: 1,
      attemptLimit: row.attempt_limit,
      leaseToken: this.#token,
      url: sub.url,
      subscriptionUpdated: sub.updated,
      body: event.body,
      orderingKey: null,
      traceparent: event.traceparent ?? null,
      dueAt: event.created,
    })
    this.#byInput.set(input, list)
  }

  /**
   * After the commit: each input's leased deliveries to its hand-off. Never throws: the publish
   * has committed (a hand-off that failed leaves leases that expire and are claimed again).
   */
  deliver(): void {
    for (const [input, rows] of this.#byInput) {
      try {
        input.handOff?.handed(rows)
      } catch {
        // Claimed again once the lease expires.
      }
    }
  }

  /** Whether some committed delivery was not handed off: a worker must claim it. */
  leftDue(inputs: readonly PublishInput[], rs: readonly PublishResult[]): boolean {
    return rs.some((r, k) => !r.replayed && r.deliveries > (this.#byInput.get(inputs[k]!)?.length ?? 0))
  }
}
