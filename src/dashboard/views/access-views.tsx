// Views of portal links: the page a link opens (a button, so that only a person spends it) and
// the operator's list of an environment's links, each revocable.
import type { PortalLinkRow } from '../../store/store.ts'
import { DataTable } from './data-table.tsx'
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
  return (
    <DataTable
      caption="Outstanding portal links"
      empty="No outstanding portal links."
      rows={rows}
      rowKey={(l) => l.id}
      columns={[
        { header: 'Id', cell: (l) => <code>{l.id}</code> },
        { header: 'Expires', cell: (l) => <Time ms={l.expires} /> },
        { header: 'Used', cell: (l) => <Time ms={l.used} empty="no" /> },
        {
          header: 'Actions',
          hiddenHeader: true,
          cell: (l) => (
            <RevokeForm
              ctx={ctx}
              action={`${self}/portal-links/revoke`}
              field={['linkId', l.id]}
              label={l.id}
            />
          ),
        },
      ]}
    />
  )
}
