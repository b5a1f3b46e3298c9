// The consumer portal's pages: subscriptions (with health), the event catalogue, the delivery
// log and one delivery's attempts, the signing secret. Forms work without JavaScript (post,
// then redirect); htmx only swaps a region in place and polls while deliveries are pending.
import type { ComponentChildren } from 'preact'
import type { EventType } from '../../events/event-types.ts'
import type { AttemptRow, DeliveryRow, ReplayJobRow, SubscriptionRow } from '../../store/store.ts'
import { type DestinationTypeInfo, presentDestination } from '../../subscriptions/destination.ts'
import { prettyJson } from '../pretty-json.ts'
import { successRate } from '../stats.ts'
import { DestinationFields, DestinationSummary, type DestinationValues } from './destination-fields.tsx'
import { EndpointAuthSettings } from './endpoint-auth-views.tsx'
import {
  ActiveBadge,
  Copyable,
  CopyButton,
  CsrfField,
  ErrorBox,
  Id,
  Json,
  Notice,
  Page,
  type PageCtx,
  Pre,
  percent,
  StatusBadge,
  Time,
} from './layout.tsx'
import { SubscriptionControls } from './subscription-controls.tsx'
import { type SettingsFormValues, SubscriptionSettingsSection } from './subscription-settings-views.tsx'
import { TransformationSection, type TransformationView } from './transformation-editor.tsx'

const base = '/dashboard/portal'
const statuses = ['pending', 'delivered', 'failed', 'cancelled'] as const

/** The replay form's ranges, ending now. */
export const replayPresets: readonly (readonly [value: string, label: string, ms: number])[] = [
  ['1h', 'Last hour', 3_600_000],
  ['24h', 'Last 24 hours', 86_400_000],
  ['7d', 'Last 7 days', 604_800_000],
]

export function LoginPage(props: { ctx: PageCtx; error?: string | undefined; key?: string | undefined }) {
  const { ctx } = props
  return (
    <Page ctx={ctx} title="Sign in">
      <h1>Sign in</h1>
      <ErrorBox text={props.error} />
      <div class="grid">
        <section class="card" aria-labelledby="consumer-h">
          <h2 id="consumer-h">Consumer portal</h2>
          <p class="hint">
            With a consumer credential of your environment (the key and secret your platform gave you), or
            open the portal link you were sent.
          </p>
          <form method="post" action="/dashboard/login">
            <CsrfField ctx={ctx} />
            <input type="hidden" name="mode" value="consumer" />
            <label for="key">Credential key</label>
            <input
              type="text"
              id="key"
              name="key"
              autocomplete="username"
              required
              spellcheck={false}
              value={props.key ?? ''}
            />
            <label for="secret">Credential secret</label>
            <input type="password" id="secret" name="secret" autocomplete="current-password" required />
            <div class="actions">
              <button type="submit">Sign in to the portal</button>
            </div>
          </form>
        </section>
        <section class="card" aria-labelledby="operator-h">
          <h2 id="operator-h">Operator</h2>
          <p class="hint">With the operator token (HOOKPOST_ADMIN_TOKEN, or data/admin-token).</p>
          <form method="post" action="/dashboard/login">
            <CsrfField ctx={ctx} />
            <input type="hidden" name="mode" value="operator" />
            <label for="token">Operator token</label>
            <input type="password" id="token" name="token" autocomplete="off" required />
            <div class="actions">
              <button type="submit">Sign in as operator</button>
            </div>
          </form>
        </section>
      </div>
    </Page>
  )
}

export function HealthFacts({ sub }: { sub: SubscriptionRow }) {
  const h = sub.health
  return (
    <dl class="facts">
      <dt>Success rate</dt>
      <dd>
        {percent(successRate(h))} ({h.successCount} succeeded, {h.failureCount} failed attempts)
      </dd>
      <dt>Failing since</dt>
      <dd>
        <Time ms={h.failingSince} empty="not failing" />
        {h.consecutiveFailures > 0 ? ` (${h.consecutiveFailures} failures in a row)` : ''}
      </dd>
      <dt>Last failure</dt>
      <dd>
        <Time ms={h.lastFailureAt} empty="never" />
      </dd>
      <dt>Last success</dt>
      <dd>
        <Time ms={h.lastSuccessAt} empty="never" />
      </dd>
    </dl>
  )
}

export function SubscriptionsPage(props: {
  ctx: PageCtx
  subs: SubscriptionRow[]
  notice?: string | undefined
}) {
  return (
    <Page ctx={props.ctx} title="Subscriptions">
      <h1>Subscriptions</h1>
      <Notice text={props.notice} />
      <p class="actions">
        <a class="button" href={`${base}/subscriptions/new`}>
          New subscription
        </a>
      </p>
      {props.subs.length === 0 ? (
        <GettingStarted />
      ) : (
        <table class="stack">
          <caption class="visually-hidden">Subscriptions and their health</caption>
          <thead>
            <tr>
              <th scope="col">Event</th>
              <th scope="col">URL</th>
              <th scope="col">State</th>
              <th scope="col">Success rate</th>
              <th scope="col">Last failure</th>
              <th scope="col">Failing since</th>
            </tr>
          </thead>
          <tbody>
            {props.subs.map((s) => (
              <tr key={s.id}>
                <td data-label="Event">
                  <a href={`${base}/subscriptions/${s.id}`}>{s.event}</a>
                </td>
                <td data-label="URL">
                  <code>{s.url}</code>
                </td>
                <td data-label="State">
                  <ActiveBadge active={s.active} reason={s.deactivatedReason} />
                </td>
                <td data-label="Success rate">{percent(successRate(s.health))}</td>
                <td data-label="Last failure">
                  <Time ms={s.health.lastFailureAt} empty="never" />
                </td>
                <td data-label="Failing since">
                  <Time ms={s.health.failingSince} empty="—" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  )
}

/** The empty portal: what to do first, in order, with the links to do it. */
function GettingStarted() {
  return (
    <section class="card" aria-labelledby="start-h">
      <h2 id="start-h">Get started</h2>
      <p>You have no subscriptions yet. Four steps to your first verified delivery:</p>
      <ol class="steps">
        <li>
          Pick what you want to hear about in the <a href={`${base}/event-types`}>event catalogue</a> (each
          type has its schema and an example payload).
        </li>
        <li>
          <a href={`${base}/subscriptions/new`}>Create a subscription</a>: the event type and the URL of your
          endpoint. Hookpost POSTs each event there as JSON, signed, and retries failures on its schedule (by
          default for about three days).
        </li>
        <li>
          Generate your <a href={`${base}/signing-secret`}>signing secret</a> and verify every delivery with
          it (<code>@hookpost/verify</code>, or any Standard Webhooks library).
        </li>
        <li>
          On the subscription's page, <strong>Send test event</strong>, then follow it in the{' '}
          <a href={`${base}/deliveries`}>delivery log</a>: each attempt's request, response and timing.
        </li>
      </ol>
      <p class="hint">
        No endpoint yet? <code>npx hookpost receive --port 9000 --secret whsec_…</code> prints and verifies
        what it receives (your platform must allow its address).
      </p>
    </section>
  )
}

interface SubValues {
  event?: string | undefined
  url?: string | undefined
  destination?: DestinationValues | undefined
  active: boolean
  ordered: boolean
}

function SubscriptionFields(props: {
  types: readonly EventType[]
  destinationTypes: readonly DestinationTypeInfo[]
  values: SubValues
  idp: string
}) {
  const { values, idp } = props
  return (
    <>
      <label for={`${idp}-event`}>Event type</label>
      <select id={`${idp}-event`} name="event" required>
        {props.types.map((t) => (
          <option key={t.name} value={t.name} selected={t.name === values.event}>
            {t.name}
          </option>
        ))}
      </select>
      <DestinationFields
        types={props.destinationTypes}
        value={values.destination ?? { type: 'http', url: values.url ?? '' }}
        idp={idp}
      />
      <p>
        <label class="inline">
          <input type="checkbox" name="active" value="true" checked={values.active} /> Active
        </label>
      </p>
      <p>
        <label class="inline">
          <input type="checkbox" name="ordered" value="true" checked={values.ordered} /> Ordered (one at a
          time per ordering key)
        </label>
      </p>
    </>
  )
}

export function NewSubscriptionPage(props: {
  ctx: PageCtx
  types: readonly EventType[]
  destinationTypes: readonly DestinationTypeInfo[]
  values: SubValues
  error?: string | undefined
}) {
  return (
    <Page ctx={{ ...props.ctx, current: 'subscriptions' }} title="New subscription">
      <h1>New subscription</h1>
      <ErrorBox text={props.error} />
      <form method="post" action={`${base}/subscriptions`} class="card">
        <CsrfField ctx={props.ctx} />
        <SubscriptionFields
          types={props.types}
          destinationTypes={props.destinationTypes}
          values={props.values}
          idp="new"
        />
        <div class="actions">
          <button type="submit">Create subscription</button>
          <a href={`${base}/subscriptions`}>Cancel</a>
        </div>
      </form>
    </Page>
  )
}

function DeliveryRows({ rows, showSubscription }: { rows: DeliveryRow[]; showSubscription: boolean }) {
  return (
    <table class="stack">
      <caption class="visually-hidden">Deliveries, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Delivery</th>
          <th scope="col">Event</th>
          {showSubscription ? <th scope="col">Subscription</th> : null}
          <th scope="col">Status</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last result</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((d) => (
          <tr key={d.id} data-delivery={d.id} data-status={d.status}>
            <td data-label="Delivery">
              <a href={`${base}/deliveries/${d.id}`}>
                <Id id={d.id} />
              </a>
            </td>
            <td data-label="Event">{d.event}</td>
            {showSubscription ? (
              <td data-label="Subscription">
                <a href={`${base}/subscriptions/${d.subscriptionId}`}>
                  <Id id={d.subscriptionId} />
                </a>
              </td>
            ) : null}
            <td data-label="Status">
              <StatusBadge status={d.status} />
            </td>
            <td data-label="Attempts">{d.attempts}</td>
            <td data-label="Last result">{lastResult(d)}</td>
            <td data-label="Created">
              <Time ms={d.created} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function lastResult(d: Pick<DeliveryRow, 'lastStatusCode' | 'lastError' | 'attempts'>): string {
  if (d.attempts === 0) return 'not attempted yet'
  const parts: string[] = []
  if (d.lastStatusCode !== null) parts.push(`HTTP ${d.lastStatusCode}`)
  if (d.lastError !== null) parts.push(d.lastError)
  // Neither: a broker acknowledged it.
  return parts.length ? parts.join(' · ') : 'acknowledged'
}

/**
 * While something is pending, the region re-fetches itself (and stops once nothing is); `also`
 * names regions elsewhere on the page that the same answer refreshes (out of band).
 */
function pollAttrs(active: boolean, url: string, id: string, also?: string): Record<string, string> {
  return active
    ? {
        'hx-get': url,
        'hx-trigger': 'every 2s',
        'hx-select': `#${id}`,
        'hx-target': 'this',
        'hx-swap': 'outerHTML',
        ...(also !== undefined ? { 'hx-select-oob': also } : {}),
      }
    : {}
}

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
  const pending = props.recent.some((d) => d.status === 'pending')
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

      <section aria-labelledby="replay-h" class="card">
        <h2 id="replay-h">Replay</h2>
        <p class="hint">
          Sends this subscription's deliveries created in a time range again, under their own ids (receivers
          can dedupe on webhook-id).
        </p>
        <ErrorBox text={props.replayError} />
        <form method="post" action={`${self}/replay`}>
          <CsrfField ctx={ctx} />
          <fieldset>
            <legend>Deliveries created in</legend>
            <div class="choices">
              {replayPresets.map(([value, label], i) => (
                <label class="inline" key={value}>
                  <input type="radio" name="range" value={value} checked={i === 0} /> {label}
                </label>
              ))}
              <label class="inline">
                <input type="radio" name="range" value="custom" /> Custom range (UTC)
              </label>
            </div>
          </fieldset>
          <div class="custom-range">
            <div class="filters">
              <div>
                <label for="since">From (UTC)</label>
                <input type="datetime-local" id="since" name="since" step="1" aria-describedby="range-hint" />
              </div>
              <div>
                <label for="until">To (UTC, empty for now)</label>
                <input type="datetime-local" id="until" name="until" step="1" aria-describedby="range-hint" />
              </div>
            </div>
            <p class="hint" id="range-hint">
              Only with <q>Custom range</q>. Times are UTC, whatever your browser's time zone.
            </p>
          </div>
          <div class="filters">
            <div>
              <label for="replay-status">Status</label>
              <select id="replay-status" name="status">
                <option value="">any</option>
                {statuses.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </div>
            <div>
              <button type="submit">Start replay</button>
            </div>
          </div>
        </form>
        {props.replays.length > 0 ? <ReplayTable ctx={ctx} replays={props.replays} /> : null}
      </section>
    </Page>
  )
}

function ReplayTable({ ctx, replays }: { ctx: PageCtx; replays: ReplayJobRow[] }) {
  return (
    <table class="stack" id="replays">
      <caption class="visually-hidden">Replays of this subscription</caption>
      <thead>
        <tr>
          <th scope="col">Replay</th>
          <th scope="col">Range</th>
          <th scope="col">Status filter</th>
          <th scope="col">Progress</th>
          <th scope="col">State</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {replays.map((r) => (
          <tr key={r.id}>
            <td data-label="Replay">
              <Id id={r.id} />
            </td>
            <td data-label="Range">
              <Time ms={r.since} /> – <Time ms={r.until} />
            </td>
            <td data-label="Status filter">{r.statusFilter ?? 'any'}</td>
            <td data-label="Progress">
              {r.done} / {r.total}
            </td>
            <td data-label="State">{r.state}</td>
            <td data-label="">
              {r.state === 'running' ? (
                <form method="post" action={`${base}/replays/${r.id}/cancel`}>
                  <CsrfField ctx={ctx} />
                  <button type="submit" class="secondary">
                    Cancel
                  </button>
                </form>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

export function EventTypesPage({ ctx, types }: { ctx: PageCtx; types: readonly EventType[] }) {
  return (
    <Page ctx={{ ...ctx, current: 'event-types' }} title="Event types">
      <h1>Event types</h1>
      <p>The events you can subscribe to, each with its JSON Schema and an example payload.</p>
      <ul>
        {types.map((t) => (
          <li key={t.name}>
            <a href={`#type-${t.name.replace(/[^a-z0-9_-]/gi, '-')}`}>{t.name}</a>
          </li>
        ))}
      </ul>
      {types.map((t) => (
        <section
          key={t.name}
          class="card"
          id={`type-${t.name.replace(/[^a-z0-9_-]/gi, '-')}`}
          aria-labelledby={`h-${t.name.replace(/[^a-z0-9_-]/gi, '-')}`}
        >
          <h2 id={`h-${t.name.replace(/[^a-z0-9_-]/gi, '-')}`}>
            <code>{t.name}</code>
          </h2>
          <p>{t.description}</p>
          <p>
            <a href={`${base}/subscriptions/new?event=${encodeURIComponent(t.name)}`}>
              Subscribe to {t.name}
            </a>
          </p>
          <h3>Example</h3>
          <Json value={t.example} label={`${t.name} example payload`} />
          <details>
            <summary>JSON Schema</summary>
            <Json value={t.schema} label={`${t.name} JSON Schema`} />
          </details>
        </section>
      ))}
    </Page>
  )
}

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

function HeaderTable({ headers, caption }: { headers: Record<string, string> | null; caption: string }) {
  if (!headers || Object.keys(headers).length === 0) return <p class="hint">{`${caption}: none recorded.`}</p>
  return (
    <table class="pairs">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Header</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(headers).map(([k, v]) => (
          <tr key={k}>
            <td>
              <code>{k}</code>
            </td>
            <td>
              <code>{v}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Attempt({ a, latest }: { a: AttemptRow; latest: boolean }) {
  // A broker's acknowledgement has no status code and no error (docs/destinations.md).
  const ok = a.error === null && (a.statusCode === null || (a.statusCode >= 200 && a.statusCode <= 299))
  return (
    <section class="card" aria-labelledby={`attempt-${a.number}`} data-attempt={a.number}>
      <h3 id={`attempt-${a.number}`}>
        Attempt {a.number}:{' '}
        <span class={`badge ${ok ? 's-ok' : 's-bad'}`}>
          {a.statusCode !== null ? `HTTP ${a.statusCode}` : (a.error ?? 'acknowledged by the broker')}
        </span>
      </h3>
      <dl class="facts">
        <dt>Started</dt>
        <dd>
          <Time ms={a.started} />
        </dd>
        <dt>Duration</dt>
        <dd>{a.durationMs} ms</dd>
        {a.error !== null ? (
          <>
            <dt>Error</dt>
            <dd>{a.error}</dd>
          </>
        ) : null}
      </dl>
      <details open={latest}>
        <summary>Request and response headers</summary>
        <HeaderTable headers={a.requestHeaders} caption="Request headers" />
        <HeaderTable headers={a.responseHeaders} caption="Response headers" />
      </details>
      <h4>Response body</h4>
      {a.responseBody === null || a.responseBody === '' ? (
        <p class="hint">Empty.</p>
      ) : (
        <Pre label={`Attempt ${a.number} response body`}>{a.responseBody}</Pre>
      )}
    </section>
  )
}

/** Whole bytes, KiB or MiB. */
function size(n: number): string {
  if (n < 1024) return `${n} bytes`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${(n / 1024 / 1024).toFixed(1)} MiB`
}

/** The event's body as the delivery sends it; indented for reading, copied byte for byte. */
function Payload({ body }: { body: Buffer | null }) {
  if (body === null) {
    return (
      <section id="payload" class="card" aria-labelledby="payload-h">
        <h2 id="payload-h">Payload</h2>
        <p class="hint">No longer kept: the retention sweep has removed this event's body.</p>
      </section>
    )
  }
  const text = body.toString('utf8')
  const pretty = prettyJson(text)
  return (
    <section id="payload" class="card" aria-labelledby="payload-h">
      <div class="head">
        <h2 id="payload-h">Payload</h2>
        <CopyButton label="Copy payload" bytes={body} />
      </div>
      <p class="hint">
        {`${size(body.length)}, sent and signed exactly as published.${
          pretty !== undefined ? ' Indented here for reading; Copy gives the exact bytes.' : ''
        }`}
      </p>
      <Pre label="Payload">{pretty ?? text}</Pre>
    </section>
  )
}

export function DeliveryPage(props: {
  ctx: PageCtx
  delivery: DeliveryRow
  attempts: AttemptRow[]
  payload: Buffer | null
  self: string
  notice?: string | undefined
  error?: string | undefined
}) {
  const { ctx, delivery: d } = props
  const attempts = [...props.attempts].sort((a, b) => b.number - a.number)
  return (
    <Page ctx={{ ...ctx, current: 'deliveries' }} title={`Delivery ${d.id}`}>
      <p>
        <a href={`${base}/deliveries`}>Delivery log</a>
      </p>
      <h1>
        Delivery <code>{d.id}</code>
      </h1>
      <p class="hint">
        Receivers see this id as <code>webhook-id</code> on every attempt.{' '}
        <CopyButton label="Copy delivery id" value={d.id} />
      </p>
      <div id="delivery">
        <Notice text={props.notice} />
        <ErrorBox text={props.error} />
        <div class="actions">
          <form
            method="post"
            action={`${props.self}/retry`}
            hx-post={`${props.self}/retry`}
            hx-target="#delivery"
            hx-select="#delivery"
            hx-select-oob="#attempts"
            hx-swap="outerHTML"
          >
            <CsrfField ctx={ctx} />
            <button type="submit" id="retry-button">
              Retry now
            </button>
          </form>
          <span class="hint">One more attempt now, under the same delivery id.</span>
        </div>
        <div
          id="delivery-state"
          {...pollAttrs(d.status === 'pending', props.self, 'delivery-state', '#attempts')}
        >
          <div class="card">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={d.status} />
              </dd>
              <dt>Event</dt>
              <dd>
                {d.event} (<code>{d.eventId}</code>)
              </dd>
              <dt>Subscription</dt>
              <dd>
                <a href={`${base}/subscriptions/${d.subscriptionId}`}>
                  <code>{d.subscriptionId}</code>
                </a>
              </dd>
              <dt>Attempts</dt>
              <dd>
                {d.attempts} of {d.attemptLimit}
              </dd>
              <dt>Next attempt</dt>
              <dd>
                <Time ms={d.status === 'pending' ? d.nextAttemptAt : null} empty="none scheduled" />
              </dd>
              <dt>Last result</dt>
              <dd>{lastResult(d)}</dd>
              <dt>Created</dt>
              <dd>
                <Time ms={d.created} />
              </dd>
              <dt>Updated</dt>
              <dd>
                <Time ms={d.updated} />
              </dd>
            </dl>
          </div>
        </div>
      </div>
      <Payload body={props.payload} />
      <section id="attempts" aria-labelledby="attempts-h">
        <h2 id="attempts-h">Attempts</h2>
        {attempts.length === 0 ? (
          <p>No attempt yet.</p>
        ) : (
          attempts.map((a, i) => <Attempt key={a.number} a={a} latest={i === 0} />)
        )}
      </section>
    </Page>
  )
}

export function SigningSecretPage(props: {
  ctx: PageCtx
  rotated?: { secret: string; previousExpires: number | null } | undefined
  /** The signing keys section (signing-key-views.tsx). */
  children?: ComponentChildren
}) {
  const { ctx } = props
  return (
    <Page ctx={{ ...ctx, current: 'signing-secret' }} title="Signing secret">
      <h1>Signing secret</h1>
      <p>
        Every delivery is signed with your environment's secret: <code>X-Delivery-Hmac-SHA256</code> and the
        Standard Webhooks <code>webhook-signature</code> header. Verify them with{' '}
        <code>@hookpost/verify</code>.
      </p>
      {props.rotated ? (
        <div class="secret" role="status">
          <p>
            <strong>Your new signing secret, shown this once:</strong>
          </p>
          <div class="copyable">
            <Pre label="New signing secret">
              <span data-secret>{props.rotated.secret}</span>
            </Pre>
            <CopyButton label="Copy signing secret" value={props.rotated.secret} />
          </div>
          {props.rotated.previousExpires === null ? (
            <p>
              It signs every delivery from now on: no earlier secret had been shown, so none signs beside it.
            </p>
          ) : (
            <p>
              The previous secret keeps signing beside it until <Time ms={props.rotated.previousExpires} />.
            </p>
          )}
        </div>
      ) : null}
      <form method="post" action="/dashboard/portal/signing-secret" class="card">
        <CsrfField ctx={ctx} />
        <p>Generating a new secret shows it once; Hookpost keeps it only encrypted.</p>
        <button type="submit">Generate a new signing secret</button>
      </form>
      {props.children}
    </Page>
  )
}
