// The "Credentials" card of an environment's operator page: its credentials, each revocable, and
// the forms that create one or revoke one by id.
import type { CredentialRow } from '../../store/store.ts'
import { RevokeForm } from './access-views.tsx'
import { DataTable } from './data-table.tsx'
import { CsrfField, Id, type PageCtx, Time } from './layout.tsx'

/** `credentials` undefined: this server cannot list them (revoking by id still works). */
export function CredentialsSection({
  ctx,
  credentials,
  self,
}: {
  ctx: PageCtx
  credentials: CredentialRow[] | undefined
  self: string
}) {
  return (
    <section class="card" aria-labelledby="cred-h">
      <h2 id="cred-h">Credentials</h2>
      {credentials === undefined ? (
        <p class="hint">This server cannot list credentials yet; revoke one by its id.</p>
      ) : (
        <CredentialTable ctx={ctx} rows={credentials} self={self} />
      )}
      <form method="post" action={`${self}/credentials`}>
        <CsrfField ctx={ctx} />
        <h3>New credential</h3>
        <label for="cred-role">Role</label>
        <select id="cred-role" name="role">
          <option value="consumer">consumer (subscriptions, delivery log, portal)</option>
          <option value="publisher">publisher (POST /events)</option>
        </select>
        <label for="cred-name">Name (optional)</label>
        <input type="text" id="cred-name" name="name" maxLength={200} />
        <div class="actions">
          <button type="submit">Create credential</button>
        </div>
      </form>
      <form method="post" action={`${self}/credentials/revoke`}>
        <CsrfField ctx={ctx} />
        <h3>Revoke a credential</h3>
        <label for="cred-id">Credential id</label>
        <input type="text" id="cred-id" name="credentialId" required spellcheck={false} placeholder="key_…" />
        <div class="actions">
          <button type="submit" class="danger">
            Revoke
          </button>
        </div>
      </form>
    </section>
  )
}

function CredentialTable({ ctx, rows, self }: { ctx: PageCtx; rows: CredentialRow[]; self: string }) {
  return (
    <DataTable
      caption="Credentials"
      empty="No credentials."
      rows={rows}
      rowKey={(c) => c.id}
      columns={[
        { header: 'Key', cell: (c) => <Id id={c.key} /> },
        { header: 'Role', cell: (c) => c.role },
        { header: 'Name', cell: (c) => c.name ?? '—' },
        { header: 'Created', cell: (c) => <Time ms={c.created} /> },
        { header: 'Revoked', cell: (c) => <Time ms={c.revoked} empty="no" /> },
        {
          header: 'Actions',
          hiddenHeader: true,
          cell: (c) =>
            c.revoked === null ? (
              <RevokeForm
                ctx={ctx}
                action={`${self}/credentials/revoke`}
                field={['credentialId', c.id]}
                label={c.key}
              />
            ) : null,
        },
      ]}
    />
  )
}
