// The portal's page of one subscription: its facts and actions (activate, delete, edit), its
// endpoint authentication, controls, delivery settings and transformation, its health, recent
// deliveries and replays. Forms work without JavaScript (post, then redirect); htmx only swaps a
// region in place.
import type { EventType } from '../../events/event-types.ts'
import type { DeliveryRow, ReplayJobRow, SubscriptionRow } from '../../store/store.ts'
import { type DestinationTypeInfo, presentDestination } from '../../subscriptions/destination.ts'
import { DestinationSummary } from './destination-fields.tsx'
import { EndpointAuthSettings } from './endpoint-auth-views.tsx'
import { HealthFacts } from './health-facts.tsx'
import { ActiveBadge, Copyable, CsrfField, ErrorBox, Notice, Page, type PageCtx, Time } from './layout.tsx'
import { RecentDeliveriesSection } from './recent-deliveries-section.tsx'
import { ReplaySection } from './replay-section.tsx'
import { SubscriptionControls } from './subscription-controls.tsx'
import { SubscriptionFields, type SubValues } from './subscription-fields.tsx'
import { type SettingsFormValues, SubscriptionSettingsSection } from './subscription-settings-views.tsx'
import { TransformationSection, type TransformationView } from './transformation-editor.tsx'

const base = '/dashboard/portal'

export function SubscriptionPage(props: {
  ctx: PageCtx
  types: readonly EventType[]
  destinationTypes: readonly DestinationTypeInfo[]
  sub: SubscriptionRow
  recent: DeliveryRow[]
  replays: ReplayJobRow[]
  notice?: string | undefined
  error?: string | undefined
  edit?: SubValues | undefined
  sentDeliveryId?: string | undefined
  activityError?: string | undefined
  replayError?: string | undefined
  authError?: string | undefined
  /** The delivery settings form as posted, and why it was refused. */
  settings?: { values: SettingsFormValues; error: string } | undefined
  transformation?: TransformationView | undefined
}) {
  const { ctx, sub } = props
  const self = `${base}/subscriptions/${sub.id}`
  const values: SubValues = props.edit ?? {
    event: sub.event,
    url: sub.url,
    destination: presentDestination(sub),
    active: sub.active,
    ordered: sub.ordered,
  }
  return (
    <Page ctx={{ ...ctx, current: 'subscriptions' }} title={`Subscription ${sub.event}`}>
      <p>
        <a href={`${base}/subscriptions`}>All subscriptions</a>
      </p>
      <h1>
        Subscription to <code>{sub.event}</code>
      </h1>
      <section id="subscription" aria-labelledby="sub-h">
        <h2 id="sub-h" class="visually-hidden">
          Settings
        </h2>
        <Notice text={props.notice} />
        <ErrorBox text={props.error} />
        <div class="card">
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <Copyable value={sub.id} label="Copy subscription id" />
            </dd>
            <dt>Destination</dt>
            <dd>
              <DestinationSummary url={sub.url} destination={presentDestination(sub)} />
            </dd>
            <dt>State</dt>
            <dd>
              <ActiveBadge active={sub.active} reason={sub.deactivatedReason} />
            </dd>
            <dt>Created</dt>
            <dd>
              <Time ms={sub.created} />
            </dd>
          </dl>
          <div class="actions">
            <form
              method="post"
              action={`${self}/toggle`}
              hx-post={`${self}/toggle`}
              hx-target="#subscription"
              hx-select="#subscription"
              hx-swap="outerHTML"
            >
              <CsrfField ctx={ctx} />
              <button type="submit" id="toggle-button" class="secondary">
                {sub.active ? 'Deactivate' : 'Activate'}
              </button>
            </form>
            <form
              method="post"
              action={`${self}/delete`}
              hx-post={`${self}/delete`}
              hx-confirm="Delete this subscription? Its pending deliveries are cancelled."
            >
              <CsrfField ctx={ctx} />
              <button type="submit" class="danger">
                Delete
              </button>
            </form>
          </div>
        </div>
        <details class="card" open={props.edit !== undefined}>
          <summary>Edit</summary>
          <form method="post" action={self}>
            <CsrfField ctx={ctx} />
            <SubscriptionFields
              types={props.types}
              destinationTypes={props.destinationTypes}
              values={values}
              idp="edit"
            />
            <div class="actions">
              <button type="submit">Save changes</button>
            </div>
          </form>
        </details>
        <EndpointAuthSettings ctx={ctx} sub={sub} action={`${self}/auth`} error={props.authError} />
      </section>

      <SubscriptionControls ctx={ctx} sub={sub} types={props.types} self={self} />
      <SubscriptionSettingsSection
        ctx={ctx}
        sub={sub}
        action={`${self}/settings`}
        values={props.settings?.values}
        error={props.settings?.error}
      />

      <TransformationSection
        ctx={ctx}
        self={self}
        saved={sub.transformation}
        example={props.types.find((t) => t.name === sub.event)?.example}
        view={props.transformation}
      />

      <section id="health" aria-labelledby="health-h" class="card">
        <h2 id="health-h">Health</h2>
        <HealthFacts sub={sub} />
      </section>

      <RecentDeliveriesSection
        ctx={ctx}
        sub={sub}
        self={self}
        recent={props.recent}
        sentDeliveryId={props.sentDeliveryId}
        activityError={props.activityError}
      />

      <ReplaySection ctx={ctx} self={self} replays={props.replays} replayError={props.replayError} />
    </Page>
  )
}
