// `hookpost subscriptions …`: the consumer's subscriptions over the API.
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { ApiClient, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { fields, output, table, UsageError } from '../output.ts'
import {
  type Destination,
  destinationForCreate,
  destinationForUpdate,
  destinationSummary,
  withDestinationFlags,
} from './destination-flags.ts'
import { authOf, headersOf, withEndpointAuthOptions } from './endpoint-auth-flags.ts'
import { controlsOf, registerControls, withControlOptions } from './subscription-controls.ts'
import { settingsBody, withSettingsOptions } from './subscription-settings-flags.ts'

interface Subscription {
  id: string
  event: string
  url?: string
  destination?: Destination
  active: boolean
  created: string
  updated: string
  deactivatedReason?: string | null
  paused?: boolean
  verification?: string
  health?: { consecutiveFailures: number; successRate: number | null }
  headers?: Record<string, string>
}

const client = (flags: Flags) => new ApiClient(clientOptionsOf(flags)).requireCredentials()
const sub = (id: string) => `/webhooks/subscription/${encodeURIComponent(id)}`

/** `--transformation-file <path>` as the API's field: its code, read as UTF-8. */
async function transformationOf(flags: Flags): Promise<{ transformation?: { code: string } | null }> {
  if (flags['removeTransformation'] === true) return { transformation: null }
  const file = flags['transformationFile']
  return typeof file === 'string' ? { transformation: { code: await readFile(file, 'utf8') } } : {}
}

/** A transformation test's answer, for people. */
function testResult(r: {
  result?: { cancel?: boolean; eventName?: string; url?: string; headers?: object; payload?: unknown }
  error?: { code: string; message: string }
}): string {
  if (r.error) return `${r.error.code}: ${r.error.message}`
  if (r.result?.cancel) return 'cancelled: the delivery would end cancelled, nothing sent'
  return `${fields({ eventName: r.result?.eventName, url: r.result?.url, headers: r.result?.headers })}\n${JSON.stringify(r.result?.payload, null, 2)}`
}

function bool(raw: string): boolean {
  if (raw === 'true') return true
  if (raw === 'false') return false
  throw new UsageError(`--active must be true or false, not "${raw}"`)
}

export function register(program: Command): void {
  const subs = program.command('subscriptions').description('manage subscriptions (consumer credential)')

  withClientOptions(subs.command('list'), 'consumer')
    .description('list subscriptions, active and inactive')
    .option('--json', 'print the API answer as JSON')
    .action(async (flags: Flags) => {
      const r = await client(flags).call<{ subscriptions: Subscription[] }>('GET', '/webhooks/subscription')
      output(flags, r, () => {
        if (r.subscriptions.length === 0) return 'no subscriptions'
        const rows = [['ID', 'EVENT', 'ACTIVE', 'FAILING', 'URL']]
        for (const s of r.subscriptions) {
          const held = s.paused
            ? ' (paused)'
            : s.verification && s.verification !== 'verified'
              ? ` (${s.verification})`
              : ''
          const active = s.active ? `yes${held}` : s.deactivatedReason ? `no (${s.deactivatedReason})` : 'no'
          rows.push([
            s.id,
            s.event,
            active,
            String(s.health?.consecutiveFailures ?? 0),
            destinationSummary(s),
          ])
        }
        return table(rows)
      })
    })

  withControlOptions(
    withSettingsOptions(
      withEndpointAuthOptions(
        withDestinationFlags(withClientOptions(subs.command('create'), 'consumer'), true),
        false,
      ),
    ),
  )
    .description('subscribe an endpoint URL (or a message broker) to an event type')
    .requiredOption('--event <type>', 'an event type of the catalogue, e.g. site.publish')
    .requiredOption('--endpoint <url>', 'where deliveries go: the endpoint URL, or the broker URL')
    .option('--inactive', 'create it inactive')
    .option('--transformation-file <path>', 'JavaScript defining handler(webhook), run before each attempt')
    .action(async (flags: Flags) => {
      const auth = authOf(flags)
      const headers = headersOf(flags)
      const r = await client(flags).call<{ subscription: Subscription }>('POST', '/webhooks/subscription', {
        json: {
          event: flags['event'],
          ...destinationForCreate(flags),
          active: flags['inactive'] !== true,
          ...(auth ? { auth } : {}),
          ...(headers ? { headers } : {}),
          ...settingsBody(flags),
          ...controlsOf(flags),
          ...(await transformationOf(flags)),
        },
      })
      output(flags, r, () => fields(r.subscription))
    })

  withClientOptions(subs.command('get'), 'consumer')
    .argument('<subscriptionId>')
    .description('show one subscription')
    .action(async (id: string, flags: Flags) => {
      const r = await client(flags).call<{ subscription: Subscription }>('GET', sub(id))
      output(flags, r, () => fields(r.subscription))
    })

  withControlOptions(
    withSettingsOptions(
      withEndpointAuthOptions(
        withDestinationFlags(withClientOptions(subs.command('update'), 'consumer'), false),
        true,
      ),
    ),
  )
    .argument('<subscriptionId>')
    .description(
      'change the event, endpoint, active flag, delivery settings, auth or static headers of a subscription',
    )
    .option('--event <type>', 'a new event type')
    .option('--endpoint <url>', 'a new endpoint URL')
    .option('--active <bool>', 'true or false (false cancels its pending deliveries)')
    .option('--transformation-file <path>', 'a new transformation (JavaScript defining handler)')
    .option('--remove-transformation', 'remove its transformation')
    .action(async (id: string, flags: Flags) => {
      const c = client(flags)
      const auth = authOf(flags)
      const { subscription: s } = await c.call<{ subscription: Subscription }>('GET', sub(id))
      // Auth and headers left out of the PUT stay as stored; stored header values are sent as ****.
      const headers = headersOf(flags, Object.keys(s.headers ?? {}))
      const body = {
        event: typeof flags['event'] === 'string' ? flags['event'] : s.event,
        ...destinationForUpdate(flags, s),
        active: typeof flags['active'] === 'string' ? bool(flags['active']) : s.active,
        ...(auth !== undefined ? { auth } : {}),
        ...(headers !== undefined ? { headers } : {}),
        // Settings not given are left out: the API keeps them.
        ...settingsBody(flags),
        ...controlsOf(flags),
        ...(await transformationOf(flags)),
      }
      const r = await c.call<{ subscription: Subscription }>('PUT', sub(id), { json: body })
      output(flags, r, () => fields(r.subscription))
    })

  withClientOptions(subs.command('delete'), 'consumer')
    .argument('<subscriptionId>')
    .description('delete a subscription; its pending deliveries are cancelled')
    .action(async (id: string, flags: Flags) => {
      await client(flags).call('DELETE', sub(id))
      output(flags, { deleted: id }, () => `deleted ${id}`)
    })

  withClientOptions(subs.command('test-transformation'), 'consumer')
    .argument('<subscriptionId>')
    .description(
      "run a subscription's transformation (or --transformation-file, not saved) on a payload; nothing is sent (exits 1 on transformation_error)",
    )
    .option('--payload-file <path>', "a JSON payload (default: the event type's example)")
    .option('--transformation-file <path>', 'code to try instead of the saved transformation')
    .action(async (id: string, flags: Flags) => {
      const json: { code?: string; payload?: unknown } = {}
      if (typeof flags['transformationFile'] === 'string')
        json.code = await readFile(flags['transformationFile'], 'utf8')
      if (typeof flags['payloadFile'] === 'string') {
        const text = await readFile(flags['payloadFile'], 'utf8')
        try {
          json.payload = JSON.parse(text)
        } catch {
          throw new UsageError(`--payload-file ${flags['payloadFile']} is not JSON`)
        }
      }
      const r = await client(flags).call<Parameters<typeof testResult>[0]>(
        'POST',
        `${sub(id)}/transformation/test`,
        { json },
      )
      output(flags, r, () => testResult(r))
      if (r.error) process.exitCode = 1
    })

  withClientOptions(subs.command('check-url'), 'consumer')
    .argument('<endpoint>')
    .description('ask whether the sending policy accepts a URL (exits 1 when it does not)')
    .action(async (endpoint: string, flags: Flags) => {
      const r = await client(flags).call<{ allowed: boolean; reason: string; code?: string }>(
        'POST',
        '/webhooks/url-check',
        { json: { url: endpoint } },
      )
      output(flags, r, () =>
        r.allowed
          ? `allowed: ${endpoint}`
          : `refused: ${endpoint}\n${r.code ?? 'url_not_allowed'}: ${r.reason}`,
      )
      if (!r.allowed) process.exitCode = 1
    })

  registerControls(subs)
}
