// `hookpost feed`: the catch-up feed (GET /webhooks/feed). One page, or with --follow every
// event as it is committed (long-polls of 30 s), and the cursor to resume from at the end.
import type { Command } from 'commander'
import { ApiClient, ApiError, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { lineOutput, table, UsageError, wantsJson } from '../output.ts'
import { sleep } from './deliveries.ts'

export interface FeedEvent {
  id: string
  eventName: string
  created: string
  payload: unknown
}

interface FeedPage {
  events: FeedEvent[]
  nextCursor: string | null
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
/** The longest wait the API allows. */
const followWaitSeconds = 30
const retryMs = [1000, 2000, 5000, 10_000]

export function register(program: Command): void {
  withClientOptions(program.command('feed'), 'consumer')
    .description("the environment's events in commit order, with their payloads (consumer credential)")
    .option('--event <name>', 'only events of this type')
    .option(
      '--after <cursor>',
      'start after this cursor (printed by an earlier run); default: the oldest kept',
    )
    .option('--limit <n>', 'events per request, 1 to 1000', '100')
    .option('--follow', 'keep waiting for new events (Ctrl-C stops and prints the cursor to resume)')
    .option('--json', 'the API answer; with --follow one JSON line per event, then {"nextCursor"}')
    .action(async (flags: Flags) => {
      const limit = Number(flags['limit'])
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new UsageError('--limit must be in 1..1000')
      const stop = new AbortController()
      const onSignal = () => stop.abort()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      try {
        await feed(new ApiClient(clientOptionsOf(flags)).requireCredentials(), {
          event: str(flags['event']),
          after: str(flags['after']),
          limit,
          follow: flags['follow'] === true,
          json: wantsJson(flags),
          signal: stop.signal,
          out: lineOutput(flags),
        })
      } finally {
        process.off('SIGINT', onSignal)
        process.off('SIGTERM', onSignal)
      }
    })
}

export interface FeedOptions {
  event: string | undefined
  after: string | undefined
  limit: number
  follow: boolean
  json: boolean
  signal: AbortSignal
  out: (line: string, json?: object) => void
}

/** Reads the feed (following it on request); ends with the cursor to resume from. */
export async function feed(api: ApiClient, o: FeedOptions): Promise<void> {
  let cursor = o.after ?? null
  const read = (wait: number) =>
    api.call<FeedPage>('GET', '/webhooks/feed', {
      query: { event: o.event, after: cursor ?? undefined, limit: o.limit, wait: wait || undefined },
      signal: o.signal,
    })
  const resume = () =>
    o.out(cursor ? `resume with: --after ${cursor}` : 'no events yet', { nextCursor: cursor })
  if (!o.follow) {
    // One page: a table for people, the API's answer for scripts.
    const page = await read(0)
    cursor = page.nextCursor
    if (o.json) return o.out('', page)
    if (page.events.length > 0) {
      o.out(table([['ID', 'EVENT', 'CREATED'], ...page.events.map((e) => [e.id, e.eventName, e.created])]))
    }
    return resume()
  }
  let failures = 0
  o.out(`following the feed${o.event ? ` (${o.event})` : ''}… (Ctrl-C to stop)`)
  try {
    while (!o.signal.aborted) {
      try {
        const page = await read(followWaitSeconds)
        for (const e of page.events)
          o.out(`${e.created}  ${e.id}  ${e.eventName}  ${JSON.stringify(e.payload)}`, e)
        cursor = page.nextCursor
        failures = 0
      } catch (e) {
        if (o.signal.aborted) break
        // A credential or request problem ends it; a network or server problem is waited out.
        if (e instanceof ApiError && e.status < 500 && e.status !== 429) throw e
        if (failures === 0) o.out(`feed read failed (${(e as Error).message}); retrying`)
        await sleep(retryMs[Math.min(failures++, retryMs.length - 1)]!, o.signal)
      }
    }
  } finally {
    resume()
  }
}
