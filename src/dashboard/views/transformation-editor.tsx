// The portal's "Transformation" section of a subscription page: a JavaScript editor (a textarea)
// saved with the subscription, and a "Test run" on the event type's example or a pasted payload,
// which shows what a delivery would send and sends nothing (docs/transformations.md).
import type { TransformationTestResult } from '../../subscriptions/transformation-test.ts'
import { CsrfField, ErrorBox, Notice, type PageCtx } from './layout.tsx'

/** What the section shows beyond the saved code: the last test run and the text as typed. */
export interface TransformationView {
  code?: string | undefined
  payload?: string | undefined
  result?: TransformationTestResult | undefined
  error?: string | undefined
  notice?: string | undefined
}

const placeholder = `function handler(webhook) {
  // webhook: { eventName, payload, url, headers }
  webhook.headers['x-source'] = 'hookpost'
  return webhook // or { cancel: true }
}`

export function TransformationSection(props: {
  ctx: PageCtx
  self: string
  saved: string | null | undefined
  example: unknown
  view?: TransformationView | undefined
}) {
  const { ctx, self, view } = props
  const code = view?.code ?? props.saved ?? ''
  const payload = view?.payload ?? JSON.stringify(props.example ?? {}, null, 2)
  return (
    <section id="transformation" aria-labelledby="transformation-h" class="card">
      <h2 id="transformation-h">Transformation</h2>
      <p class="hint">
        JavaScript run before each delivery attempt: <code>handler(webhook)</code> gets{' '}
        <code>{'{ eventName, payload, url, headers }'}</code> and returns it changed, or{' '}
        <code>{'{ cancel: true }'}</code>. No I/O, clock or randomness; {props.saved ? 'saved' : 'none saved'}
        . Leave it empty and save to remove it.
      </p>
      <Notice text={view?.notice} />
      <ErrorBox text={view?.error} />
      <form method="post" action={`${self}/transformation`}>
        <CsrfField ctx={ctx} />
        <label for="transformation-code">Code</label>
        <textarea
          id="transformation-code"
          name="code"
          class="code"
          rows={12}
          spellcheck={false}
          placeholder={placeholder}
        >
          {code}
        </textarea>
        <label for="transformation-payload">Test payload (JSON; the event type's example by default)</label>
        <textarea id="transformation-payload" name="payload" class="code" rows={8} spellcheck={false}>
          {payload}
        </textarea>
        <div class="actions">
          <button type="submit" id="transformation-save">
            Save transformation
          </button>
          <button
            type="submit"
            id="transformation-test"
            class="secondary"
            formaction={`${self}/transformation/test`}
            hx-post={`${self}/transformation/test`}
            hx-target="#transformation-result"
            hx-select="#transformation-result"
            hx-swap="outerHTML"
          >
            Test run
          </button>
          <span class="hint">A test run sends nothing and saves nothing.</span>
        </div>
      </form>
      <TransformationResult result={view?.result} />
    </section>
  )
}

function TransformationResult({ result }: { result: TransformationTestResult | undefined }) {
  return (
    <div id="transformation-result" aria-live="polite">
      {result === undefined ? null : result.kind === 'error' ? (
        <p class="error" role="alert">
          <code>transformation_error</code>: {result.message}
        </p>
      ) : result.kind === 'cancel' ? (
        <p class="notice" role="status">
          Cancelled: this delivery would end <code>cancelled</code> and nothing would be sent.
        </p>
      ) : (
        <div class="notice" role="status">
          <p>
            Would send to <code>{result.webhook.url}</code>
            {Object.keys(result.webhook.headers).length > 0 ? ' with the headers' : ''}
          </p>
          {Object.keys(result.webhook.headers).length > 0 ? (
            <pre>
              {Object.entries(result.webhook.headers)
                .map(([k, v]) => `${k}: ${v}`)
                .join('\n')}
            </pre>
          ) : null}
          <pre>{JSON.stringify(result.webhook.payload, null, 2)}</pre>
        </div>
      )}
    </div>
  )
}
