// "Send a test event": the event type's catalogue example delivered to ONE subscription, as a new
// event with a single delivery. A publish would fan out to every subscription of the type, so
// this needs its own Store write (TestDeliveryStore below: proposed for Store.events, not in the
// contract yet). The test delivery carries no ordering key, so it never waits behind (or holds
// up) an ordered subscription's queue.
import { findEventType } from '../events/event-types.ts'
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import type { EventRow, Store } from '../store/store.ts'
import { scheduleAttemptLimit } from './retry-policy.ts'

export interface PublishToSubscriptionInput {
  /** The event to store (bytes as sent), in the subscription's environment. */
  event: Omit<EventRow, 'idempotencyKey'>
  subscriptionId: string
  deliveryId: string
  attemptLimit: number
}

/** The Store surface this use case needs. */
export interface TestDeliveryStore {
  subscriptions: Pick<Store['subscriptions'], 'get'>
  events: {
    /**
     * One transaction: the event, and one pending delivery (due now, ordering key null) for the
     * subscription `subscriptionId` of `event.envId` when it exists and is active. Returns false
     * and writes nothing otherwise.
     */
    publishToSubscription(input: PublishToSubscriptionInput): Promise<boolean>
  }
}

export function testDeliveries(deps: {
  store: TestDeliveryStore
  attemptLimit: number
  now: () => number
  onWork?: () => void
}) {
  return {
    async send(envId: string, subscriptionId: string): Promise<{ eventId: string; deliveryId: string }> {
      const sub = await deps.store.subscriptions.get(envId, subscriptionId)
      if (!sub) throw new AppError('subscription_not_found')
      if (!sub.active) {
        throw new AppError('conflict', {
          message: 'The subscription is inactive; activate it to send a test event.',
        })
      }
      const type = findEventType(sub.event)
      if (!type) throw new AppError('unknown_event_type')
      const t = deps.now()
      const event: Omit<EventRow, 'idempotencyKey'> = {
        id: newId('evt', t),
        envId,
        eventName: type.name,
        body: Buffer.from(JSON.stringify(type.example), 'utf8'),
        orderingKey: null,
        created: t,
      }
      const deliveryId = newId('dlv', t)
      const ok = await deps.store.events.publishToSubscription({
        event,
        subscriptionId,
        deliveryId,
        // The subscription's own retry schedule, when it has one, like a published event's.
        attemptLimit: sub.settings?.retryScheduleMs
          ? scheduleAttemptLimit(sub.settings.retryScheduleMs)
          : deps.attemptLimit,
      })
      // Deleted or deactivated between the read and the write.
      if (!ok) throw new AppError('subscription_not_found')
      deps.onWork?.()
      return { eventId: event.id, deliveryId }
    },
  }
}

export type TestDeliveries = ReturnType<typeof testDeliveries>
