// The "Credentials" card of an environment's operator page: its credentials, each revocable, and
// the forms that create one or revoke one by id.
import type { CredentialRow } from '../../store/store.ts'
import { RevokeForm } from './access-views.tsx'
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
  if (rows.length === 0) return <p>No credentials.</p>
  return (
    <table class="stack">
      <caption class="visually-hidden">Credentials</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Role</th>
          <th scope="col">Name</th>
          <th scope="col">Created</th>
          <th scope="col">Revoked</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((c) => (
          <tr key={c.id}>
            <td data-label="Key">
              <Id id={c.key} />
            </td>
            <td data-label="Role">{c.role}</td>
            <td data-label="Name">{c.name ?? '—'}</td>
            <td data-label="Created">
              <Time ms={c.created} />
            </td>
            <td data-label="Revoked">
              <Time ms={c.revoked} empty="no" />
            </td>
            <td data-label="">
              {c.revoked === null ? (
                <RevokeForm
                  ctx={ctx}
                  action={`${self}/credentials/revoke`}
                  field={['credentialId', c.id]}
                  label={c.key}
                />
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
