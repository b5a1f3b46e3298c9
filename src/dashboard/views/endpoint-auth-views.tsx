// The portal's "Endpoint authentication" card on a subscription's page: how Hookpost
// authenticates to the endpoint, and its static headers. Secrets are write-only: the form never
// renders a stored one (an empty secret field keeps it; a stored header shows as `name: ****`).
import type { SubscriptionRow } from '../../store/store.ts'
import { CsrfField, ErrorBox, type PageCtx } from './layout.tsx'

export function EndpointAuthSettings(props: {
  ctx: PageCtx
  sub: SubscriptionRow
  action: string
  error?: string | undefined
}) {
  const { ctx, sub } = props
  const a = sub.endpoint?.auth ?? null
  const stored = (type: string) => a?.type === type
  const keepHint = (type: string) => (stored(type) ? 'stored: leave empty to keep it' : undefined)
  const headerLines = (sub.endpoint?.headerNames ?? []).map((n) => `${n}: ****`).join('\n')
  return (
    <details class="card" id="endpoint-auth" open={props.error !== undefined}>
      <summary>
        Endpoint authentication{' '}
        <span class="hint">
          {a ? a.type : 'none'}
          {headerLines ? `, ${sub.endpoint!.headerNames.length} static header(s)` : ''}
        </span>
      </summary>
      <ErrorBox text={props.error} />
      <form method="post" action={props.action}>
        <CsrfField ctx={ctx} />
        <p class="hint">
          Secrets are never shown again once saved. Leave a secret empty to keep the stored one.
        </p>
        <label for="auth-type">Type</label>
        <select id="auth-type" name="authType">
          <option value="none" selected={a === null}>
            None
          </option>
          <option value="basic" selected={stored('basic')}>
            HTTP Basic
          </option>
          <option value="bearer" selected={stored('bearer')}>
            Bearer token
          </option>
          <option value="oauth2" selected={stored('oauth2')}>
            OAuth2 client credentials
          </option>
          <option value="mtls" selected={stored('mtls')}>
            Client certificate (mTLS)
          </option>
        </select>
        <fieldset>
          <legend>HTTP Basic</legend>
          <label for="auth-username">Username</label>
          <input
            id="auth-username"
            name="username"
            autocomplete="off"
            value={a?.type === 'basic' ? a.username : ''}
          />
          <label for="auth-password">Password</label>
          <input
            id="auth-password"
            name="password"
            type="password"
            autocomplete="new-password"
            placeholder={keepHint('basic')}
          />
        </fieldset>
        <fieldset>
          <legend>Bearer token</legend>
          <label for="auth-token">Token</label>
          <input
            id="auth-token"
            name="token"
            type="password"
            autocomplete="off"
            placeholder={keepHint('bearer')}
          />
        </fieldset>
        <fieldset>
          <legend>OAuth2 client credentials</legend>
          <label for="auth-token-url">Token URL</label>
          <input
            id="auth-token-url"
            name="tokenUrl"
            type="url"
            value={a?.type === 'oauth2' ? a.tokenUrl : ''}
          />
          <label for="auth-client-id">Client id</label>
          <input
            id="auth-client-id"
            name="clientId"
            autocomplete="off"
            value={a?.type === 'oauth2' ? a.clientId : ''}
          />
          <label for="auth-client-secret">Client secret</label>
          <input
            id="auth-client-secret"
            name="clientSecret"
            type="password"
            autocomplete="off"
            placeholder={keepHint('oauth2')}
          />
          <label for="auth-scope">Scope (optional)</label>
          <input id="auth-scope" name="scope" value={a?.type === 'oauth2' ? (a.scope ?? '') : ''} />
        </fieldset>
        <fieldset>
          <legend>Client certificate (mTLS)</legend>
          <label for="auth-certificate">Certificate (PEM)</label>
          <textarea id="auth-certificate" name="certificate" rows={4} spellcheck={false}>
            {a?.type === 'mtls' ? a.certificate : ''}
          </textarea>
          <label for="auth-private-key">Private key (PEM)</label>
          <textarea
            id="auth-private-key"
            name="privateKey"
            rows={4}
            spellcheck={false}
            autocomplete="off"
            placeholder={keepHint('mtls')}
          />
        </fieldset>
        <label for="auth-headers">Static headers</label>
        <textarea
          id="auth-headers"
          name="headers"
          rows={3}
          spellcheck={false}
          aria-describedby="auth-headers-hint"
          placeholder="X-Api-Key: value"
        >
          {headerLines}
        </textarea>
        <p class="hint" id="auth-headers-hint">
          One <code>name: value</code> a line. <code>****</code> keeps a stored value; remove a line to remove
          that header.
        </p>
        <div class="actions">
          <button type="submit">Save authentication</button>
        </div>
      </form>
    </details>
  )
}
