// The destination flags of `hookpost subscriptions create|update` (docs/destinations.md):
// `--destination-type amqp --endpoint amqp://… --field exchange=webhooks --field routingKey=orders`.
// Kept type-agnostic: the API checks the fields of each type.
import type { Command } from 'commander'
import type { Flags } from '../api-client.ts'
import { UsageError } from '../output.ts'

export interface Destination {
  type: string
  url: string
  [field: string]: string
}

const collect = (value: string, previous: string[] = []) => [...previous, value]

export function withDestinationFlags(cmd: Command, create: boolean): Command {
  return cmd
    .option(
      '--destination-type <type>',
      create ? 'http (default), amqp, nats or redis (docs/destinations.md)' : 'a new destination type',
    )
    .option('--field <name=value>', 'a destination field, e.g. exchange=webhooks (repeat it)', collect)
}

function fieldsOf(flags: Flags): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of (flags['field'] as string[] | undefined) ?? []) {
    const i = raw.indexOf('=')
    if (i <= 0) throw new UsageError(`--field takes name=value, not "${raw}"`)
    out[raw.slice(0, i)] = raw.slice(i + 1)
  }
  return out
}

/** The body's `url` or `destination` for create: BaseKit's `url` for plain http. */
export function destinationForCreate(flags: Flags): { url: string } | { destination: Destination } {
  const type = typeof flags['destinationType'] === 'string' ? flags['destinationType'] : 'http'
  const url = flags['endpoint'] as string
  const fields = fieldsOf(flags)
  if (type === 'http' && Object.keys(fields).length === 0) return { url }
  return { destination: { ...fields, type, url } }
}

/** For update: the current destination with the flags' changes (a masked URL keeps its password). */
export function destinationForUpdate(
  flags: Flags,
  current: { url?: string; destination?: Destination },
): { url: string } | { destination: Destination } {
  const was = current.destination ?? { type: 'http', url: current.url ?? '' }
  const type = typeof flags['destinationType'] === 'string' ? flags['destinationType'] : was.type
  const url = typeof flags['endpoint'] === 'string' ? flags['endpoint'] : was.url
  // Another type starts from its own fields, not the old type's.
  const kept = type === was.type ? was : { type, url }
  const next: Destination = { ...kept, ...fieldsOf(flags), type, url }
  if (type === 'http' && Object.keys(next).length === 2) return { url }
  return { destination: next }
}

/** One line for the list: the URL, and the type with its fields for a broker. */
export function destinationSummary(s: { url?: string; destination?: Destination }): string {
  const d = s.destination
  if (!d || d.type === 'http') return s.url ?? d?.url ?? ''
  const extra = Object.entries(d)
    .filter(([k]) => k !== 'type' && k !== 'url')
    .map(([k, v]) => `${k}=${v}`)
  return [`${d.type}:`, d.url, ...extra].join(' ')
}
