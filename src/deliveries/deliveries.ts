// Consumer use cases for deliveries: the log (newest first, cursor pages), one delivery with
// its attempts, the payload it sends, and "one more attempt now" under the same delivery id
// (retry-policy.ts decides what that does to the attempt limit).
import { cursorPage } from '../shared/cursor-page.ts'
import { AppError } from '../shared/errors.ts'
import type { AttemptRow, DeliveryRow, DeliveryStatus, Store } from '../store/store.ts'
import { attemptAsSent } from './attempt-headers.ts'
import { manualRetryLimit } from './retry-policy.ts'

export const deliveryStatuses: readonly DeliveryStatus[] = ['pending', 'delivered', 'failed', 'cancelled']

export interface DeliveryQuery {
  subscriptionId?: string | undefined
  status?: string | undefined
  limit?: number | undefined
  cursor?: string | undefined
}

export function deliveries(deps: { store: Store; now: () => number; onRetry?: () => void }) {
  const { store } = deps
  return {
    async list(
      envId: string,
      q: DeliveryQuery,
    ): Promise<{ deliveries: DeliveryRow[]; nextCursor: string | null }> {
      if (q.status !== undefined && !deliveryStatuses.includes(q.status as DeliveryStatus)) {
        throw new AppError('invalid_request', {
          message: `status must be one of ${deliveryStatuses.join(', ')}`,
          details: [{ path: '/status', message: 'unknown status' }],
        })
      }
      const { page, nextCursor } = await cursorPage(q, 'dlv', (f) =>
        store.deliveries.list(envId, {
          ...(q.subscriptionId !== undefined ? { subscriptionId: q.subscriptionId } : {}),
          ...(q.status !== undefined ? { status: q.status as DeliveryStatus } : {}),
          ...f,
        }),
      )
      return { deliveries: page, nextCursor }
    },

    /** Whether the delivery is one of the environment's (the relay forwards only those). */
    async exists(envId: string, id: string): Promise<boolean> {
      return (await store.deliveries.get(envId, id)) !== undefined
    },

    async get(envId: string, id: string): Promise<{ delivery: DeliveryRow; attempts: AttemptRow[] }> {
      const delivery = await store.deliveries.get(envId, id)
      if (!delivery) throw new AppError('delivery_not_found')
      const attempts = await store.deliveries.attempts(id)
      return { delivery, attempts: attempts.map((a) => attemptAsSent(a, delivery)) }
    },

    /**
     * The body the delivery sends: its event's bytes as stored (and as signed). Scoped like get:
     * another environment's delivery is not found. null once retention has removed the event.
     */
    async payload(envId: string, id: string): Promise<Buffer | null> {
      const delivery = await store.deliveries.get(envId, id)
      if (!delivery) throw new AppError('delivery_not_found')
      const event = await store.events.get(envId, delivery.eventId)
      return event ? event.body : null
    },

    async retry(envId: string, id: string): Promise<DeliveryRow> {
      // The store applies the new limit only if the row is still as read (a worker may claim it
      // in between): read again and decide again then.
      for (let i = 0; i < 3; i++) {
        const existing = await store.deliveries.get(envId, id)
        if (!existing) throw new AppError('delivery_not_found')
        if (existing.status === 'cancelled' && existing.lastError === 'subscription_deleted') {
          throw new AppError('delivery_not_retryable', { message: 'Its subscription was deleted.' })
        }
        // Nothing is sent to a held subscription, a retry neither: it would wait anyway.
        if ((await store.subscriptions.get(envId, existing.subscriptionId))?.held)
          throw new AppError('delivery_held')
        const now = deps.now()
        if (
          existing.status === 'pending' &&
          existing.leaseToken !== null &&
          (existing.nextAttemptAt ?? 0) > now
        )
          break
        const row = await store.deliveries.retryNow(envId, id, now, {
          attemptLimit: manualRetryLimit(existing),
          seen: existing,
        })
        if (row) {
          deps.onRetry?.()
          return row
        }
      }
      throw new AppError('delivery_not_retryable', { message: 'An attempt is in flight right now.' })
    },
  }
}

export type Deliveries = ReturnType<typeof deliveries>
