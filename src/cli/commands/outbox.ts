// `hookpost outbox relay|migrate|lag`: @hookpost/outbox's relay over the application's database.
// The package (and the driver it needs: pg, or mysql2 which the service does not depend on) is
// loaded only when one of these commands runs.
import { type Command, Option } from 'commander'
import type { Relay, RelayLogEntry } from '../../../packages/outbox/src/index.ts'
import { ApiClient, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { lineOutput, output, table } from '../output.ts'

const outboxPackage = () => import('../../../packages/outbox/src/index.ts')

function withDatabase(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--database-url <url>', "the application's database: postgres://…, mysql://… or mariadb://…")
        .env('HOOKPOST_OUTBOX_DATABASE_URL')
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--table <name>', 'the outbox table')
        .env('HOOKPOST_OUTBOX_TABLE')
        .default('hookpost_outbox'),
    )
}

function positiveInteger(raw: unknown, name: string, max: number): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} must be an integer from 1 to ${max}`)
  return n
}

/**
 * One relay log entry: a JSON line with --json, a line for a person otherwise (the start names
 * where rows go, so that a person sees the relay is up).
 */
function logLine(entry: RelayLogEntry, hookpostUrl: string, flags: Flags): void {
  const { level, msg, ...fields } = entry
  const json = { time: new Date().toISOString(), ...entry }
  const out = lineOutput(flags)
  if (msg === 'outbox relay started') {
    out(
      `relaying ${String(fields['table'])} (${String(fields['dialect'])}) to ${hookpostUrl}/events/batch`,
      json,
    )
    return
  }
  const details = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`,
  )
  out(
    [json.time, level === 'info' ? '' : level.toUpperCase(), msg, ...details].filter(Boolean).join(' '),
    json,
  )
}

export function register(program: Command): void {
  const outbox = program
    .command('outbox')
    .description("ship events from an application's outbox table (@hookpost/outbox) to POST /events/batch")

  withClientOptions(withDatabase(outbox.command('relay')), 'publisher')
    .description('publish committed outbox rows until SIGTERM or Ctrl-C (several relays may run at once)')
    .option('--batch-size <n>', 'rows per POST /events/batch (1 to 1000)', '500')
    .option('--concurrency <n>', 'batches in flight at once (more than 1: faster, not in id order)', '1')
    .option('--lag-interval <seconds>', 'how often to log the lag (0: never)', '10')
    .action(async (flags: Flags) => {
      const api = new ApiClient(clientOptionsOf(flags)).requireCredentials()
      const batchSize = positiveInteger(flags['batchSize'], '--batch-size', 1000)
      const concurrency = positiveInteger(flags['concurrency'], '--concurrency', 64)
      const lagSeconds = Number(flags['lagInterval'])
      if (!Number.isFinite(lagSeconds) || lagSeconds < 0)
        throw new Error('--lag-interval must be a number of seconds')
      const { key, secret } = clientOptionsOf(flags)
      // Handlers first: a signal while the package and its driver load still stops cleanly.
      let relay: Relay | undefined
      let stopRequested = false
      const stop = () => {
        stopRequested = true
        void relay?.stop()
      }
      process.once('SIGTERM', stop)
      process.once('SIGINT', stop)
      const { createRelay } = await outboxPackage()
      relay = await createRelay({
        database: String(flags['databaseUrl']),
        table: String(flags['table']),
        hookpost: { url: api.base, key: key as string, secret: secret as string },
        batchSize,
        concurrency,
        lagLogIntervalMs: lagSeconds * 1000,
        log: (entry) => logLine(entry, api.base, flags),
      })
      try {
        if (!stopRequested) await relay.run()
      } finally {
        await relay.close()
      }
    })

  withDatabase(outbox.command('migrate'))
    .description('create the outbox table and its index when missing (or print the statements)')
    .option('--print', "print the statements for the URL's dialect instead of running them")
    .option(
      '--notify',
      'PostgreSQL: add the trigger that wakes an idle relay at once (costs commit throughput)',
    )
    .action(async (flags: Flags) => {
      const { dialectOfUrl, openRelayDatabase, OutboxTable, outboxMigration } = await outboxPackage()
      const url = String(flags['databaseUrl'])
      const statements = outboxMigration(new OutboxTable(dialectOfUrl(url), String(flags['table'])), {
        notify: flags['notify'] === true,
      })
      if (flags['print']) {
        output(flags, { statements }, () => statements.map((s) => `${s};`).join('\n\n'))
        return
      }
      const db = await openRelayDatabase(url, 1)
      try {
        await db.migrate(statements)
      } finally {
        await db.close()
      }
      const table = String(flags['table'])
      output(flags, { table, ready: true }, () => `outbox table ${table} is ready`)
    })

  withDatabase(outbox.command('lag'))
    .description('how far behind the relays are: the oldest pending row, pending and failed rows')
    .action(async (flags: Flags) => {
      const { dialectOfUrl, openRelayDatabase, OutboxTable } = await outboxPackage()
      const url = String(flags['databaseUrl'])
      const db = await openRelayDatabase(url, 1)
      try {
        const lag = await db.lag(new OutboxTable(dialectOfUrl(url), String(flags['table'])))
        output(flags, lag, () =>
          table([
            ['OLDEST PENDING', 'PENDING', 'FAILED'],
            [`${(lag.oldestPendingMs / 1000).toFixed(1)} s`, String(lag.pending), String(lag.failed)],
          ]),
        )
      } finally {
        await db.close()
      }
    })
}
