// `hookpost signing-keys …`: the environment's Ed25519 signing keys (Standard Webhooks v1a) over
// the API. Only public keys ever come back: the private key stays in Hookpost.
import type { Command } from 'commander'
import { ApiClient, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { fields, output, table } from '../output.ts'

interface SigningKey {
  id: string
  type: 'ed25519'
  publicKey: string
  created: string
}

const client = (flags: Flags) => new ApiClient(clientOptionsOf(flags)).requireCredentials()

export function register(program: Command): void {
  const keys = program
    .command('signing-keys')
    .description('Ed25519 signing keys: deliveries also carry a v1a signature (consumer credential)')

  withClientOptions(keys.command('create'), 'consumer')
    .description('create an Ed25519 key pair; prints the public key (whpk_…) receivers verify with')
    .action(async (flags: Flags) => {
      const r = await client(flags).call<{ signingKey: SigningKey }>('POST', '/webhooks/signing-keys', {
        json: { type: 'ed25519' },
      })
      output(flags, r, () => fields(r.signingKey))
    })

  withClientOptions(keys.command('list'), 'consumer')
    .description("list the environment's signing keys (public keys only)")
    .action(async (flags: Flags) => {
      const r = await client(flags).call<{ signingKeys: SigningKey[] }>('GET', '/webhooks/signing-keys')
      output(flags, r, () =>
        r.signingKeys.length === 0
          ? 'no signing keys'
          : table([
              ['ID', 'TYPE', 'CREATED', 'PUBLIC KEY'],
              ...r.signingKeys.map((k) => [k.id, k.type, k.created, k.publicKey]),
            ]),
      )
    })

  withClientOptions(keys.command('delete'), 'consumer')
    .argument('<signingKeyId>')
    .description('delete a signing key: deliveries stop carrying its v1a signature')
    .action(async (id: string, flags: Flags) => {
      await client(flags).call('DELETE', `/webhooks/signing-keys/${encodeURIComponent(id)}`)
      output(flags, { deleted: id }, () => `deleted ${id}`)
    })
}
