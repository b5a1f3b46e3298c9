// The portal's "Signing keys" section (on the signing secret page): Ed25519 key pairs whose v1a
// signatures a receiver checks with a public key alone. Public keys only: the private key
// never leaves the server.
import type { SigningKeyView } from '../../secrets/signing-key-pairs.ts'
import { Copyable, CsrfField, ErrorBox, Notice, type PageCtx, Time } from './layout.tsx'

const base = '/dashboard/portal/signing-keys'

export function SigningKeysSection(props: {
  ctx: PageCtx
  keys: readonly SigningKeyView[]
  notice?: string | undefined
  error?: string | undefined
}) {
  const { ctx, keys } = props
  return (
    <section aria-labelledby="signing-keys">
      <h2 id="signing-keys">Signing keys (Ed25519)</h2>
      <p>
        With a key, every delivery's <code>webhook-signature</code> also carries a <code>v1a</code> signature
        that a receiver verifies with the public key alone: use it where the receiver must not hold a signing
        secret. The private key stays in Hookpost.
      </p>
      <Notice text={props.notice} />
      <ErrorBox text={props.error} />
      {keys.length === 0 ? (
        <p>No signing key.</p>
      ) : (
        <table class="stack">
          <caption class="visually-hidden">Signing keys of this environment</caption>
          <thead>
            <tr>
              <th scope="col">Public key</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} id={k.id}>
                <td data-label="Public key">
                  <Copyable
                    value={k.publicKey}
                    label={`Copy public key ${k.id}`}
                    attrs={{ 'data-public-key': '' }}
                  />
                </td>
                <td data-label="Created">
                  <Time ms={k.created} />
                </td>
                <td>
                  <form method="post" action={`${base}/${k.id}/delete`}>
                    <CsrfField ctx={ctx} />
                    <button type="submit" class="danger">
                      Delete
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form method="post" action={base} class="card">
        <CsrfField ctx={ctx} />
        <button type="submit">Create an Ed25519 signing key</button>
      </form>
    </section>
  )
}
