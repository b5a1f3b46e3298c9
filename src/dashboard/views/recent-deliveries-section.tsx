// The "Recent deliveries" section of a subscription's page: the test-event form and the latest
// deliveries, refreshed (with the health section) while one is pending.
import type { DeliveryRow, SubscriptionRow } from '../../store/store.ts'
import { DeliveryRows } from './delivery-rows.tsx'
import { CsrfField, ErrorBox, type PageCtx } from './layout.tsx'
import { pollAttrs } from './poll-attrs.ts'

const base = '/dashboard/portal'

export function RecentDeliveriesSection(props: {
  ctx: PageCtx
  sub: SubscriptionRow
  self: string
  recent: DeliveryRow[]
  sentDeliveryId?: string | undefined
  activityError?: string | undefined
}) {
  const { ctx, sub, self } = props
  const pending = props.recent.some((d) => d.status === 'pending')
  return (
    <section id="activity" aria-labelledby="activity-h">
      <h2 id="activity-h">Recent deliveries</h2>
      <ErrorBox text={props.activityError} />
      {props.sentDeliveryId ? (
        <p class="notice" role="status">
          Test event queued as delivery{' '}
          <a href={`${base}/deliveries/${props.sentDeliveryId}`}>
            <code>{props.sentDeliveryId}</code>
          </a>
          .
        </p>
      ) : null}
      <div class="actions">
        <form
          method="post"
          action={`${self}/test`}
          hx-post={`${self}/test`}
          hx-target="#activity"
          hx-select="#activity"
          hx-select-oob="#health"
          hx-swap="outerHTML"
        >
          <CsrfField ctx={ctx} />
          <button type="submit" id="test-button" disabled={!sub.active} aria-describedby="test-hint">
            Send test event
          </button>
        </form>
        <span class="hint" id="test-hint">
          {sub.active
            ? `Sends the ${sub.event} catalogue example to this subscription only.`
            : 'Activate the subscription to send a test event.'}
        </span>
      </div>
      <div id="recent" {...pollAttrs(pending, self, 'recent', '#health')}>
        {props.recent.length === 0 ? (
          <p>
            No deliveries yet. They appear here when an event of this type is published, or when you send a
            test event.
          </p>
        ) : (
          <DeliveryRows rows={props.recent} showSubscription={false} />
        )}
      </div>
      <p>
        <a href={`${base}/deliveries?subscriptionId=${encodeURIComponent(sub.id)}`}>
          All deliveries of this subscription
        </a>
      </p>
    </section>
  )
}
