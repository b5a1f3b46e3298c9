// `hookpost replay <subscriptionId> --since …`: starts a replay job and follows it to the end, with
// a progress bar on a terminal (plain lines otherwise). Ctrl-C cancels the job and exits.
import type { Command } from 'commander'
import { parseDuration } from '../../config/duration.ts'
import { ApiClient, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'

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
    throw new Error(`${name} must be an ISO-8601 time (2026-05-01T10:00:00Z) or a duration before now (2h)`)
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
      if (!Number.isInteger(interval) || interval < 50) throw new Error('--interval must be at least 50 ms')

      let job = (
        await api.call<{ replay: Replay }>(
          'POST',
          `/webhooks/subscription/${encodeURIComponent(subscriptionId)}/replay`,
          { json: body },
        )
      ).replay
      const tty = process.stdout.isTTY === true
      const out = (s: string) => process.stdout.write(s)
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
        const line = `${progressBar(j.done, j.total)} ${j.state}`
        if (line === shown) return
        shown = line
        out(tty ? `\r${line}` : `${line}\n`)
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
        out(
          `${tty ? '\n' : ''}cancelled ${job.id}: ${job.done} of ${job.total} re-queued (those still go out)\n`,
        )
        process.exitCode = 130
        return
      }
      if (tty) out('\n')
      if (job.state === 'finished')
        out(`finished ${job.id}: ${job.done} of ${job.total} deliveries re-queued\n`)
      else {
        out(`${job.id} was ${job.state}: ${job.done} of ${job.total} re-queued\n`)
        process.exitCode = 1
      }
    })
}
