// The sign-in page: a consumer credential for the portal, or the operator token. Plain forms
// (post, then redirect).
import { CsrfField, ErrorBox, Page, type PageCtx } from './layout.tsx'

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
