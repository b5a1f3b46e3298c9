// The portal's subscription controls beyond BaseKit's fields: pause and resume, the endpoint's
// verification (its state, the last error, "send the challenge again"), and the filter editor
// with its "does this example match" check. Forms post and redirect without JavaScript; with
// htmx, the check answers in place.
import type { EventType } from '../../events/event-types.ts'
import type { SubscriptionRow } from '../../store/store.ts'
import { CsrfField, ErrorBox, Page, type PageCtx, Time } from './layout.tsx'

const verificationText = {
  pending: 'Waiting for the endpoint to echo the challenge: nothing is sent to it until then.',
  verified: 'The endpoint answered the challenge.',
  failed:
    'The endpoint did not answer the challenge; deliveries wait. Fix it, then send the challenge again.',
} as const

export function SubscriptionControls(props: {
  ctx: PageCtx
  sub: SubscriptionRow
  types: readonly EventType[]
  self: string
}) {
  const { ctx, sub, self } = props
  const v = sub.verification
  const example = props.types.find((t) => t.name === sub.event)?.example
  const filterText = sub.filter ? JSON.stringify(JSON.parse(sub.filter), null, 2) : ''
  return (
    <section id="controls" aria-labelledby="controls-h" class="card">
      <h2 id="controls-h">Sending</h2>
      <dl class="facts">
        <dt>Paused</dt>
        <dd id="paused-state">
          {sub.paused ? 'Yes: deliveries are created and kept pending; none is sent until you resume.' : 'No'}
        </dd>
        {v ? (
          <>
            <dt>Endpoint verification</dt>
            <dd id="verification-state" data-state={v.state}>
              <strong>{v.state}</strong>: {verificationText[v.state]}
              {v.lastError ? (
                <>
                  {' '}
                  Last error: <code>{v.lastError}</code>.
                </>
              ) : null}
              {v.state === 'pending' && v.nextAt !== null ? (
                <>
                  {' '}
                  Next challenge: <Time ms={v.nextAt} />.
                </>
              ) : null}
            </dd>
          </>
        ) : null}
      </dl>
      <div class="actions">
        <form method="post" action={`${self}/${sub.paused ? 'resume' : 'pause'}`}>
          <CsrfField ctx={ctx} />
          <button type="submit" id="pause-button" class="secondary">
            {sub.paused ? 'Resume' : 'Pause'}
          </button>
        </form>
        <form method="post" action={`${self}/verify`}>
          <CsrfField ctx={ctx} />
          <button type="submit" id="verify-button" class="secondary" aria-describedby="verify-hint">
            {v ? 'Send the challenge again' : 'Verify the endpoint'}
          </button>
        </form>
        <span class="hint" id="verify-hint">
          Posts a signed <code>{'{"type": "webhook.verification", "challenge": "…"}'}</code>; the endpoint
          answers 2xx with the challenge.
        </span>
      </div>

      <h3 id="filter-h">Filter</h3>
      <p class="hint" id="filter-hint">
        Only events whose payload matches are delivered here, e.g.{' '}
        <code>{'{"site.accountHolder.brand.ref": 1}'}</code> or{' '}
        <code>{'{"order.price": {"$gte": 50}, "order.status": {"$in": ["pending", "paid"]}}'}</code>. Empty:
        every event.
      </p>
      <form method="post" action={`${self}/filter`}>
        <CsrfField ctx={ctx} />
        <label for="filter">Filter (JSON)</label>
        <textarea id="filter" name="filter" rows={6} spellcheck={false} aria-describedby="filter-hint">
          {filterText}
        </textarea>
        <label for="filter-payload">Example payload</label>
        <textarea id="filter-payload" name="payload" rows={8} spellcheck={false}>
          {example ? JSON.stringify(example, null, 2) : ''}
        </textarea>
        <div class="actions">
          <button type="submit">Save filter</button>
          <button
            type="submit"
            class="secondary"
            formaction={`${self}/filter/check`}
            hx-post={`${self}/filter/check`}
            hx-target="#filter-check"
            hx-swap="outerHTML"
          >
            Does this example match?
          </button>
        </div>
        <FilterCheck />
      </form>
    </section>
  )
}

/** The answer of "does this example match": a region htmx swaps in place. */
export function FilterCheck(props: { matches?: boolean | undefined; error?: string | undefined }) {
  return (
    <div id="filter-check" role="status" aria-live="polite">
      <ErrorBox text={props.error} />
      {props.matches === undefined ? null : props.matches ? (
        <p class="notice" data-matches="true">
          Matches: this event would be delivered here.
        </p>
      ) : (
        <p class="notice" data-matches="false">
          Does not match: this event would not be delivered here.
        </p>
      )}
    </div>
  )
}

/** The check's answer without JavaScript: a page of its own, with the way back. */
export function FilterCheckPage(props: {
  ctx: PageCtx
  back: string
  matches?: boolean | undefined
  error?: string | undefined
}) {
  return (
    <Page ctx={{ ...props.ctx, current: 'subscriptions' }} title="Filter check">
      <h1>Filter check</h1>
      <FilterCheck matches={props.matches} error={props.error} />
      <p>
        <a href={props.back}>Back to the subscription</a>
      </p>
    </Page>
  )
}
