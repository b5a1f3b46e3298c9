// The portal's subscription list with each one's health, or, while there is none, the steps to a
// first verified delivery.
import type { SubscriptionRow } from '../../store/store.ts'
import { successRate } from '../stats.ts'
import { ActiveBadge, Notice, Page, type PageCtx, percent, Time } from './layout.tsx'

const base = '/dashboard/portal'

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
