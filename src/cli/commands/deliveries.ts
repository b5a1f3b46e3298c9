// `hookpost deliveries …`: the delivery log, one delivery with its attempts, a manual retry, and
// `tail`, which follows the log live by polling it.
import type { Command } from 'commander'
import { ApiClient, ApiError, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { fields, lineOutput, output, rowsOf, table, UsageError } from '../output.ts'

export interface Delivery {
  id: string
  eventId: string
  subscriptionId: string
  event: string
  status: string
  attempts: number
  nextAttemptAt: string | null
  lastStatusCode: number | null
  lastError?: string | null
  created: string
  updated: string
}

export interface Attempt {
  number: number
  started: string
  durationMs: number
  statusCode: number | null
  error: string | null
}

interface Page {
  deliveries: Delivery[]
  nextCursor: string | null
}

const client = (flags: Flags) => new ApiClient(clientOptionsOf(flags)).requireCredentials()
const str = (v: unknown) => (typeof v === 'string' ? v : undefined)

function positiveInt(raw: string, name: string, max: number): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${name} must be an integer in 1..${max}`)
  return n
}

export function register(program: Command): void {
  const dl = program.command('deliveries').description('the delivery log (consumer credential)')

  withClientOptions(dl.command('list'), 'consumer')
    .description('list deliveries, newest first')
    .option('--status <status>', 'pending, delivered, failed or cancelled')
    .option('--subscription <id>', 'only this subscription')
    .option('--limit <n>', '1 to 200', '20')
    .option('--cursor <cursor>', 'the nextCursor of a previous page')
    .option('--json', 'print the API answer as JSON')
    .action(async (flags: Flags) => {
      const r = await client(flags).call<Page>('GET', '/webhooks/deliveries', {
        query: {
          status: str(flags['status']),
          subscriptionId: str(flags['subscription']),
          limit: positiveInt(String(flags['limit']), '--limit', 200),
          cursor: str(flags['cursor']),
        },
      })
      output(flags, r, () => {
        const rows = [['ID', 'EVENT', 'SUBSCRIPTION', 'STATUS', 'ATTEMPTS', 'LAST', 'CREATED']]
        for (const d of r.deliveries) {
          rows.push([d.id, d.event, d.subscriptionId, d.status, String(d.attempts), last(d), d.created])
        }
        const more = r.nextCursor ? `\nmore: --cursor ${r.nextCursor}` : ''
        return `${r.deliveries.length === 0 ? 'no deliveries' : table(rows)}${more}`
      })
    })

  withClientOptions(dl.command('get'), 'consumer')
    .argument('<deliveryId>')
    .description('one delivery with its attempt log')
    .action(async (id: string, flags: Flags) => {
      const r = await client(flags).call<{ delivery: Delivery & { attemptLog: Attempt[] } }>(
        'GET',
        `/webhooks/deliveries/${encodeURIComponent(id)}`,
      )
      output(flags, r, () => {
        const attempts = r.delivery.attemptLog
        // The request and response headers and bodies are in --json.
        const log = attempts.length === 0 ? 'no attempts yet' : rowsOf(attempts, attemptColumns)
        return `${fields(r.delivery, ['attemptLog'])}\n\n${log}`
      })
    })

  withClientOptions(dl.command('retry'), 'consumer')
    .argument('<deliveryId>')
    .description('one more attempt now, under the same delivery id')
    .action(async (id: string, flags: Flags) => {
      const r = await client(flags).call<{ delivery: Delivery }>(
        'POST',
        `/webhooks/deliveries/${encodeURIComponent(id)}/retry`,
      )
      output(flags, r, () => fields(r.delivery))
    })

  withClientOptions(dl.command('tail'), 'consumer')
    .description('follow the delivery log live: one line per new delivery and per attempt (Ctrl-C stops)')
    .option('--subscription <id>', 'only this subscription')
    .option('-n, --lines <n>', 'recent deliveries to show first (0 for none)', '10')
    .option('--interval <ms>', 'how often to poll', '1000')
    .action(async (flags: Flags) => {
      const lines = Number(flags['lines'])
      if (!Number.isInteger(lines) || lines < 0 || lines > 200)
        throw new UsageError('--lines must be in 0..200')
      const stop = new AbortController()
      const onSignal = () => stop.abort()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      await tail(client(flags), {
        subscriptionId: str(flags['subscription']),
        lines,
        intervalMs: positiveInt(String(flags['interval']), '--interval', 60_000),
        signal: stop.signal,
        out: lineOutput(flags),
      })
    })
}

const attemptColumns = ['number', 'started', 'durationMs', 'statusCode', 'error'] as const

function last(d: Delivery): string {
  if (d.lastStatusCode !== null) return String(d.lastStatusCode)
  return d.lastError ?? '-'
}

export interface TailOptions {
  subscriptionId: string | undefined
  lines: number
  intervalMs: number
  signal: AbortSignal
  /** A line for a person, and the same as an object (for --json). */
  out: (line: string, json?: object) => void
}

interface Seen {
  updated: string
  status: string
  /** Attempts already printed (or that happened before the tail began). */
  printed: number
}

/** Deliveries tracked for status changes; older ones drop out. */
const tracked = 200
const pageSize = 100
const maxPagesPerPoll = 10
const maxDetailsPerPoll = 25

/**
 * Polls the log with the newest id seen as a watermark (ids sort by creation): a new delivery
 * gets a line; a tracked one whose `updated` changed is fetched with its attempt log and gets a
 * line per attempt not printed yet.
 */
export async function tail(api: ApiClient, o: TailOptions): Promise<void> {
  const seen = new Map<string, Seen>()
  const list = (limit: number, cursor?: string) =>
    api.call<Page>('GET', '/webhooks/deliveries', {
      query: { limit, subscriptionId: o.subscriptionId, cursor },
      signal: o.signal,
    })
  const attemptLine = (d: Delivery, a: Attempt, lastOfLog: boolean) => {
    const result = a.statusCode !== null ? String(a.statusCode) : (a.error ?? 'error')
    let next = 'retry'
    if (lastOfLog && d.status !== 'pending') next = d.status
    else if (lastOfLog && d.attempts === a.number && d.nextAttemptAt) next = `retry at ${d.nextAttemptAt}`
    o.out(`${a.started}  ${d.id}  attempt ${a.number}: ${result} in ${a.durationMs} ms → ${next}`, {
      type: 'attempt',
      deliveryId: d.id,
      ...a,
      next,
    })
  }
  const created = (d: Delivery) =>
    o.out(`${d.created}  ${d.id}  ${d.event}  ${d.subscriptionId}  new (${d.status})`, {
      type: 'delivery',
      ...d,
    })

  let watermark = ''
  try {
    const first = await list(Math.max(1, o.lines))
    const initial = first.deliveries.slice(0, o.lines).reverse()
    for (const d of initial) {
      o.out(`${d.updated}  ${d.id}  ${d.event}  ${d.subscriptionId}  ${d.status}`, { type: 'recent', ...d })
    }
    for (const d of first.deliveries) {
      // An attempt in flight (claimed, no result yet) is not counted as printed.
      const inFlight = d.status === 'pending' && d.lastStatusCode === null && !d.lastError && d.attempts > 0
      seen.set(d.id, { updated: d.updated, status: d.status, printed: d.attempts - (inFlight ? 1 : 0) })
      if (d.id > watermark) watermark = d.id
    }
    o.out(`following${o.subscriptionId ? ` ${o.subscriptionId}` : ''}… (Ctrl-C to stop)`)
    let failing = false
    while (!o.signal.aborted) {
      await sleep(o.intervalMs, o.signal)
      if (o.signal.aborted) break
      try {
        // Everything newer than the watermark, in pages, then the newest page for changes.
        const page = await list(pageSize)
        const rows = [...page.deliveries]
        let cursor = page.nextCursor
        for (
          let i = 1;
          i < maxPagesPerPoll && cursor && rows.length > 0 && rows.at(-1)!.id > watermark;
          i++
        ) {
          const more = await list(pageSize, cursor)
          rows.push(...more.deliveries)
          cursor = more.nextCursor
        }
        let details = 0
        for (const d of rows.reverse()) {
          const s = seen.get(d.id)
          const isNew = d.id > watermark && !s
          if (isNew) created(d)
          if (!isNew && (!s || s.updated === d.updated)) continue
          const entry = s ?? { updated: '', status: 'pending', printed: 0 }
          seen.set(d.id, entry)
          const unprinted = d.attempts > entry.printed || d.status !== entry.status
          // Past the cap, `updated` is left as it was so that the next poll comes back to it.
          if (!unprinted || details < maxDetailsPerPoll) entry.updated = d.updated
          if (unprinted && details < maxDetailsPerPoll) {
            details++
            const full = await api.call<{ delivery: Delivery & { attemptLog: Attempt[] } }>(
              'GET',
              `/webhooks/deliveries/${encodeURIComponent(d.id)}`,
              { signal: o.signal },
            )
            const log = [...full.delivery.attemptLog].sort((a, b) => a.number - b.number)
            const fresh = log.filter((a) => a.number > entry.printed)
            fresh.forEach((a) => {
              attemptLine(full.delivery, a, a === log.at(-1))
            })
            if (fresh.length > 0) entry.printed = fresh.at(-1)!.number
            else if (full.delivery.status !== entry.status && full.delivery.status !== 'pending') {
              o.out(`${full.delivery.updated}  ${d.id}  ${full.delivery.status}`, {
                type: 'status',
                deliveryId: d.id,
                status: full.delivery.status,
                updated: full.delivery.updated,
              })
            }
            entry.status = full.delivery.status
          } else if (!unprinted) entry.status = d.status
        }
        for (const d of rows) if (d.id > watermark) watermark = d.id
        if (seen.size > tracked) {
          for (const id of [...seen.keys()].sort().slice(0, seen.size - tracked)) seen.delete(id)
        }
        if (failing) o.out('polling again')
        failing = false
      } catch (e) {
        if (o.signal.aborted) break
        // A credential or request problem ends the tail; a network or server problem does not.
        if (e instanceof ApiError && e.status < 500 && e.status !== 429) throw e
        if (!failing) o.out(`poll failed (${(e as Error).message}); retrying`)
        failing = true
      }
    }
  } catch (e) {
    if (!o.signal.aborted) throw e
  }
}

/** Resolves after ms, or at once when signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms)
    function done() {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}
