// The portal's delivery log: filtered by status and subscription (a plain GET form; htmx swaps the
// log in place), newest first with a cursor to older ones, refreshed while one is pending.
import { deliveryStatuses as statuses } from '../../deliveries/deliveries.ts'
import type { DeliveryRow, SubscriptionRow } from '../../store/store.ts'
import { DeliveryRows } from './delivery-rows.tsx'
import { ErrorBox, Page, type PageCtx } from './layout.tsx'
import { pollAttrs } from './poll-attrs.ts'

const base = '/dashboard/portal'

export function DeliveriesPage(props: {
  ctx: PageCtx
  rows: DeliveryRow[]
  subs: SubscriptionRow[]
  status: string | undefined
  subscriptionId: string | undefined
  nextCursor: string | null
  self: string
  error?: string | undefined
}) {
  const { ctx } = props
  const pending = props.rows.some((d) => d.status === 'pending')
  const older = new URLSearchParams()
  if (props.status) older.set('status', props.status)
  if (props.subscriptionId) older.set('subscriptionId', props.subscriptionId)
  if (props.nextCursor) older.set('cursor', props.nextCursor)
  return (
    <Page ctx={{ ...ctx, current: 'deliveries' }} title="Delivery log">
      <h1>Delivery log</h1>
      <form
        method="get"
        action={`${base}/deliveries`}
        class="filters"
        hx-get={`${base}/deliveries`}
        hx-target="#log"
        hx-select="#log"
        hx-swap="outerHTML"
        hx-push-url="true"
        aria-label="Filter deliveries"
      >
        <div>
          <label for="f-status">Status</label>
          <select id="f-status" name="status">
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s} value={s} selected={props.status === s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="f-sub">Subscription</label>
          <select id="f-sub" name="subscriptionId">
            <option value="">any</option>
            {props.subs.map((s) => (
              <option key={s.id} value={s.id} selected={props.subscriptionId === s.id}>
                {`${s.event} → ${s.url}`}
              </option>
            ))}
          </select>
        </div>
        <div>
          <button type="submit">Filter</button>
        </div>
      </form>
      <div id="log" {...pollAttrs(pending, props.self, 'log')}>
        <ErrorBox text={props.error} />
        {pending ? (
          <p class="hint" role="status">
            Refreshing while deliveries are pending.
          </p>
        ) : null}
        {props.rows.length === 0 ? (
          props.status || props.subscriptionId || props.error ? (
            <p>No deliveries match these filters.</p>
          ) : (
            <p>
              No deliveries yet. Each event published to one of your{' '}
              <a href={`${base}/subscriptions`}>subscriptions</a> shows up here with every attempt; a
              subscription's page can send a test event.
            </p>
          )
        ) : (
          <DeliveryRows rows={props.rows} showSubscription />
        )}
        {props.nextCursor ? (
          <p>
            <a href={`${base}/deliveries?${older.toString()}`}>Older deliveries</a>
          </p>
        ) : null}
      </div>
    </Page>
  )
}
