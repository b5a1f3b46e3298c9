// Views of portal links: the page a link opens (a button, so that only a person spends it) and
// the operator's list of an environment's links, each revocable.
import type { PortalLinkRow } from '../../store/store.ts'
import { CsrfField, Page, type PageCtx, Time } from './layout.tsx'

export function PortalLinkOpen({ ctx, token }: { ctx: PageCtx; token: string }) {
  return (
    <Page ctx={ctx} title="Open the portal">
      <h1>Open the portal</h1>
      <p>This link signs you in to your platform's webhook portal. It works once.</p>
      <form method="post" action="/dashboard/portal-login">
        <CsrfField ctx={ctx} />
        <input type="hidden" name="token" value={token} />
        <div class="actions">
          <button type="submit">Continue to the portal</button>
        </div>
      </form>
    </Page>
  )
}

/** A one-button form that revokes what its hidden field names. */
export function RevokeForm(props: { ctx: PageCtx; action: string; field: [string, string]; label: string }) {
  return (
    <form method="post" action={props.action}>
      <CsrfField ctx={props.ctx} />
      <input type="hidden" name={props.field[0]} value={props.field[1]} />
      <button type="submit" class="danger" aria-label={`Revoke ${props.label}`}>
        Revoke
      </button>
    </form>
  )
}

export function PortalLinkTable({ ctx, rows, self }: { ctx: PageCtx; rows: PortalLinkRow[]; self: string }) {
  if (rows.length === 0) return <p>No outstanding portal links.</p>
  return (
    <table>
      <caption class="visually-hidden">Outstanding portal links</caption>
      <thead>
        <tr>
          <th scope="col">Id</th>
          <th scope="col">Expires</th>
          <th scope="col">Used</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((l) => (
          <tr key={l.id}>
            <td>
              <code>{l.id}</code>
            </td>
            <td>
              <Time ms={l.expires} />
            </td>
            <td>
              <Time ms={l.used} empty="no" />
            </td>
            <td>
              <RevokeForm
                ctx={ctx}
                action={`${self}/portal-links/revoke`}
                field={['linkId', l.id]}
                label={l.id}
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
