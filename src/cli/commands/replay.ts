// `hookpost replay <subscriptionId> --since …`: starts a replay job and follows it to the end, with
// a progress bar on a terminal (plain lines otherwise). Ctrl-C cancels the job and exits.
import type { Command } from 'commander'
import { parseDuration } from '../../config/duration.ts'
import { ApiClient, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { exitCode, lineOutput, UsageError, wantsJson } from '../output.ts'

interface Replay {
  id: string
  subscriptionId: string
  since: string
  until: string
  status: string | null
  state: 'running' | 'finished' | 'cancelled'
  total: number
  done: number
}

/** An ISO-8601 time, or a duration before now (`2h`, `30m`, `7d`). */
export function parseSince(raw: string, now: number, name: string): string {
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(raw.trim())) return new Date(now - parseDuration(raw)).toISOString()
  const t = Date.parse(raw)
  if (!/^\d{4}-\d{2}-\d{2}/.test(raw) || Number.isNaN(t)) {
    throw new UsageError(
      `${name} must be an ISO-8601 time (2026-05-01T10:00:00Z) or a duration before now (2h)`,
    )
  }
  return new Date(t).toISOString()
}

export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total === 0 ? 1 : Math.min(1, done / total)
  const filled = Math.round(ratio * width)
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total}`
}

export function register(program: Command): void {
  withClientOptions(program.command('replay'), 'consumer')
    .argument('<subscriptionId>')
    .description("send a subscription's past deliveries again (same ids) and follow the job")
    .requiredOption(
      '--since <time>',
      'deliveries created at or after: ISO-8601, or a duration before now (2h)',
    )
    .option('--until <time>', 'and before (default: now)')
    .option('--status <status>', 'only deliveries in this status (e.g. failed)')
    .option('--interval <ms>', 'how often to poll the job', '500')
    .action(async (subscriptionId: string, flags: Flags) => {
      const api = new ApiClient(clientOptionsOf(flags)).requireCredentials()
      const now = Date.now()
      const body: Record<string, string> = { since: parseSince(String(flags['since']), now, '--since') }
      if (typeof flags['until'] === 'string') body['until'] = parseSince(flags['until'], now, '--until')
      if (typeof flags['status'] === 'string') body['status'] = flags['status']
      const interval = Number(flags['interval'])
      if (!Number.isInteger(interval) || interval < 50)
        throw new UsageError('--interval must be at least 50 ms')

      let job = (
        await api.call<{ replay: Replay }>(
          'POST',
          `/webhooks/subscription/${encodeURIComponent(subscriptionId)}/replay`,
          { json: body },
        )
      ).replay
      // A progress bar on a terminal; a line per change otherwise; with --json, a JSON line per change.
      const json = wantsJson(flags)
      const tty = process.stdout.isTTY === true && !json
      const line = lineOutput(flags)
      const out = (s: string) => {
        if (!json) process.stdout.write(s)
      }
      const result = (text: string, j: Replay) => (json ? line(text, { replay: j }) : out(`${text}\n`))
      out(
        `replay ${job.id}: ${job.total} deliveries of ${job.subscriptionId} from ${job.since} to ${job.until}\n`,
      )

      let interrupted = false
      const onSigint = () => {
        interrupted = true
      }
      process.once('SIGINT', onSigint)
      let shown = ''
      const show = (j: Replay) => {
        const bar = `${progressBar(j.done, j.total)} ${j.state}`
        if (bar === shown) return
        shown = bar
        if (json) line(bar, { replay: j })
        else out(tty ? `\r${bar}` : `${bar}\n`)
      }
      show(job)
      while (job.state === 'running' && !interrupted) {
        await new Promise((r) => setTimeout(r, interval))
        if (interrupted) break
        job = (await api.call<{ replay: Replay }>('GET', `/webhooks/replays/${encodeURIComponent(job.id)}`))
          .replay
        show(job)
      }
      process.removeListener('SIGINT', onSigint)
      if (interrupted && job.state === 'running') {
        job = (
          await api.call<{ replay: Replay }>('POST', `/webhooks/replays/${encodeURIComponent(job.id)}/cancel`)
        ).replay
        show(job)
        if (tty) out('\n')
        result(`cancelled ${job.id}: ${job.done} of ${job.total} re-queued (those still go out)`, job)
        process.exitCode = exitCode.interrupted
        return
      }
      if (tty) out('\n')
      if (job.state === 'finished')
        result(`finished ${job.id}: ${job.done} of ${job.total} deliveries re-queued`, job)
      else {
        result(`${job.id} was ${job.state}: ${job.done} of ${job.total} re-queued`, job)
        process.exitCode = exitCode.failed
      }
    })
}
