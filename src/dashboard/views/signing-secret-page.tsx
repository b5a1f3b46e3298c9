// The portal's signing secret page: generate a new secret (shown once; the previous one keeps
// signing beside it for a while) and, below, the Ed25519 signing keys.
import type { ComponentChildren } from 'preact'
import { CopyButton, CsrfField, Page, type PageCtx, Pre, Time } from './layout.tsx'

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
