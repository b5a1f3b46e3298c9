// `hookpost subscriptions pause|resume|verify <id>` and the `--filter`/`--paused` options of
// create and update: contract sections 12 (filters, pause) and 13 (endpoint verification).
import type { Command } from 'commander'
import { ApiClient, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { fields, output, UsageError } from '../output.ts'

const client = (flags: Flags) => new ApiClient(clientOptionsOf(flags)).requireCredentials()
const sub = (id: string) => `/webhooks/subscription/${encodeURIComponent(id)}`

/** Adds `--filter <json>` and `--paused [bool]` to a create or update command. */
export function withControlOptions(cmd: Command): Command {
  return cmd
    .option('--filter <json>', 'a JSON filter on the payload, e.g. \'{"site.ref": 3412}\'; null removes it')
    .option('--paused [bool]', 'keep deliveries pending, send none (true or false; alone: true)')
}

/** The API fields for the options given; absent options are left out (unchanged on update). */
export function controlsOf(flags: Flags): { filter?: unknown; paused?: boolean } {
  const out: { filter?: unknown; paused?: boolean } = {}
  const f = flags['filter']
  if (typeof f === 'string') {
    try {
      out.filter = JSON.parse(f)
    } catch {
      throw new UsageError(`--filter must be JSON, e.g. '{"site.ref": 3412}', not ${JSON.stringify(f)}`)
    }
  }
  const p = flags['paused']
  if (p === true || p === 'true') out.paused = true
  else if (p === 'false') out.paused = false
  else if (p !== undefined) throw new UsageError(`--paused must be true or false, not "${String(p)}"`)
  return out
}

export function registerControls(subs: Command): void {
  for (const [action, text] of [
    ['pause', 'pause a subscription: deliveries are created and kept pending, none is sent'],
    ['resume', 'resume a subscription: what was kept goes out, oldest first'],
  ] as const) {
    withClientOptions(subs.command(action), 'consumer')
      .argument('<subscriptionId>')
      .description(text)
      .action(async (id: string, flags: Flags) => {
        const r = await client(flags).call<{ subscription: object }>('POST', `${sub(id)}/${action}`)
        output(flags, r, () => fields(r.subscription))
      })
  }

  withClientOptions(subs.command('verify'), 'consumer')
    .argument('<subscriptionId>')
    .description('send the endpoint a new verification challenge (nothing is sent to it until it echoes it)')
    .action(async (id: string, flags: Flags) => {
      const r = await client(flags).call<{ subscription: object }>('POST', `${sub(id)}/verify`)
      output(flags, r, () => fields(r.subscription))
    })
}
