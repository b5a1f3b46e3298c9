// The portal's page of one delivery: its state (refreshed while pending), "Retry now", the
// payload as sent, and every attempt with its request and response headers and response body.
import type { AttemptRow, DeliveryRow } from '../../store/store.ts'
import { prettyJson } from '../pretty-json.ts'
import { lastResult } from './delivery-rows.tsx'
import {
  CopyButton,
  CsrfField,
  ErrorBox,
  Notice,
  Page,
  type PageCtx,
  Pre,
  StatusBadge,
  Time,
} from './layout.tsx'
import { pollAttrs } from './poll-attrs.ts'

const base = '/dashboard/portal'

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
