// The per-subscription delivery settings as `subscriptions create|update` flags
// (docs/subscription-settings.md): `--retry-schedule 10s,1m --timeout 5s --rate-limit 10/s
// --max-in-flight 4`; `default` sends null (back to the service's setting). Only parsing: the
// API checks the values and names a bad one.
import type { Command } from 'commander'
import type { Flags } from '../api-client.ts'
import { UsageError } from '../output.ts'

export function withSettingsOptions(cmd: Command): Command {
  return cmd
    .option(
      '--retry-schedule <delays>',
      "comma-separated delays between attempts, e.g. 10s,1m,1h ('default': the service's)",
    )
    .option('--timeout <duration>', "total deadline of one attempt, e.g. 5s ('default': the service's)")
    .option(
      '--rate-limit <rate>',
      "attempts started per second or minute across all workers, e.g. 10/s or 600/m ('default': none)",
    )
    .option('--max-in-flight <n>', "attempts in flight at once across all workers ('default': no limit)")
}

/** The settings the flags name, as API fields (absent when not given: unchanged on update). */
export function settingsBody(flags: Flags): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  const given = (name: string): string | undefined => {
    const v = flags[name]
    return typeof v === 'string' ? v.trim() : undefined
  }
  const schedule = given('retrySchedule')
  if (schedule !== undefined)
    body['retrySchedule'] = schedule === 'default' ? null : schedule.split(',').map((d) => d.trim())
  const timeout = given('timeout')
  if (timeout !== undefined) body['timeout'] = timeout === 'default' ? null : timeout
  const rate = given('rateLimit')
  if (rate !== undefined) body['rateLimit'] = rate === 'default' ? null : rate
  const most = given('maxInFlight')
  if (most !== undefined) {
    if (most !== 'default' && !/^\d+$/.test(most))
      throw new UsageError(`--max-in-flight must be a whole number or default, not "${most}"`)
    body['maxInFlight'] = most === 'default' ? null : Number(most)
  }
  return body
}
