// The outbox relay's throughput and lag (issue "Integration", point 5): rows committed by an
// application into its PostgreSQL outbox table → events accepted by Hookpost through
// `hookpost outbox relay` (one process) and POST /events/batch. A report, not a test.
//
//   npm run bench:outbox [-- --rows 50000 --rate 2000 --seconds 20 --batch-size 500 --concurrency 1 --pg]
//
// 1. Drain: `--rows` rows are committed first, then one relay starts; rate = rows / (last
//    published_at − first published_at), both read from the application's database clock.
// 2. Steady: with the relay running, an open-loop writer commits `--rate` rows/s (one row per
//    transaction, 8 connections) for `--seconds`; the lag of each row is published_at −
//    created_at (same clock), reported as p50/p99/max.
// Hookpost runs with no subscription (events with 0 deliveries): the relay and the ingest are
// measured, not the delivery worker. `--pg` puts Hookpost itself on PostgreSQL too.
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { createOutbox } from '../packages/outbox/src/index.ts'
import { benchDir, cleanupAll, onCleanup, repoRoot, sleep, stopChild, track } from './lib/child.ts'
import { summarize } from './lib/stats.ts'
import { defaultPgAdminUrl, HookpostService } from './service.ts'

interface Options {
  rows: number
  rate: number
  seconds: number
  batchSize: number
  concurrency: number
  pg: boolean
  adminUrl: string
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    rows: 50_000,
    rate: 2000,
    seconds: 20,
    batchSize: 500,
    concurrency: 1,
    pg: false,
    adminUrl: process.env['BENCH_PG_URL'] ?? defaultPgAdminUrl,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const num = () => Number(argv[++i])
    if (a === '--rows') o.rows = num()
    else if (a === '--rate') o.rate = num()
    else if (a === '--seconds') o.seconds = num()
    else if (a === '--batch-size') o.batchSize = num()
    else if (a === '--concurrency') o.concurrency = num()
    else if (a === '--pg') o.pg = true
    else if (a === '--pg-url') o.adminUrl = String(argv[++i])
    else throw new Error(`unknown option ${a}`)
  }
  return o
}

async function freshAppDatabase(adminUrl: string): Promise<string> {
  const name = `outbox_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  onCleanup(async () => {
    const c = new pg.Client({ connectionString: adminUrl })
    await c.connect()
    await c.query(`drop database if exists ${name} with (force)`)
    await c.end()
  })
  const u = new URL(adminUrl)
  u.pathname = `/${name}`
  return u.toString()
}

function startRelay(appUrl: string, hookpost: string, auth: string, o: Options): ChildProcess {
  const [key, secret] = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
    .toString()
    .split(':')
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'bin/hookpost.js'),
      'outbox',
      'relay',
      '--batch-size',
      String(o.batchSize),
      '--concurrency',
      String(o.concurrency),
      '--lag-interval',
      '0',
    ],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        HOOKPOST_OUTBOX_DATABASE_URL: appUrl,
        HOOKPOST_URL: hookpost,
        HOOKPOST_KEY: key ?? '',
        HOOKPOST_SECRET: secret ?? '',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  track(child)
  return child
}

async function waitPublished(app: pg.Pool, expected: number): Promise<void> {
  for (;;) {
    const r = await app.query('select count(*)::int as n from hookpost_outbox where published_at is not null')
    if (r.rows[0].n >= expected) return
    const failed = await app.query(
      'select count(*)::int as n from hookpost_outbox where failed_at is not null',
    )
    if (failed.rows[0].n > 0) throw new Error(`${failed.rows[0].n} rows failed`)
    await sleep(100)
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2))
  const service = await HookpostService.create(o.pg ? { pgAdminUrl: o.adminUrl } : {})
  await service.start(o.pg ? { api: true, workers: 1 } : { api: false, workers: 0, all: true })
  const { publisherAuth, example } = await service.setup([])
  const payload = JSON.stringify(example)

  const appUrl = await freshAppDatabase(o.adminUrl)
  const app = new pg.Pool({ connectionString: appUrl, max: 8 })
  const outbox = createOutbox({ dialect: 'postgres' })
  for (const s of outbox.migration()) await app.query(s)

  // 1. Drain a committed backlog.
  await app.query(
    `insert into hookpost_outbox (event_name, payload) select 'account_holder.created', $1 from generate_series(1, $2)`,
    [payload, o.rows],
  )
  const relay = startRelay(appUrl, service.url, publisherAuth, o)
  await waitPublished(app, o.rows)
  const drain = (
    await app.query(
      `select extract(epoch from max(published_at) - min(published_at)) as seconds from hookpost_outbox`,
    )
  ).rows[0] as { seconds: number }
  const drainRate = o.rows / Number(drain.seconds)

  // 2. Steady: an open-loop writer, one row per transaction.
  const steadyStart = (await app.query('select max(id)::int as id from hookpost_outbox')).rows[0].id as number
  const total = Math.round(o.rate * o.seconds)
  const t0 = performance.now()
  let written = 0
  const inFlight = new Set<Promise<void>>()
  while (written < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * o.rate))
    for (; written < due; written++) {
      const p = (async () => {
        const c = await app.connect()
        try {
          await c.query('begin')
          await c.query(outbox.insert(example as never).sql, outbox.insert(example as never).params)
          await c.query('commit')
        } finally {
          c.release()
        }
      })()
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
    }
    await sleep(5)
  }
  await Promise.all(inFlight)
  const writeSeconds = (performance.now() - t0) / 1000
  await waitPublished(app, o.rows + total)
  const lags = (
    await app.query(
      `select extract(epoch from published_at - created_at) * 1000 as ms from hookpost_outbox where id > $1`,
      [steadyStart],
    )
  ).rows.map((r: { ms: number }) => Number(r.ms))
  const lag = summarize(lags)

  await stopChild(relay)
  await app.end()
  await service.stop()

  const fmt = (ms: number | undefined) => (ms === undefined ? '–' : `${ms.toFixed(1)} ms`)
  const report = [
    '# Outbox relay bench',
    '',
    `Hookpost on ${o.pg ? 'PostgreSQL (api + 1 worker)' : 'SQLite (one process)'}; the application's outbox on PostgreSQL; one \`hookpost outbox relay\` process, batch size ${o.batchSize}, concurrency ${o.concurrency}; no subscriptions.`,
    '',
    '| Phase | Rows | Result |',
    '|---|---|---|',
    `| drain (committed backlog) | ${o.rows} | ${Math.round(drainRate)} events/s (target ≥ 5,000 with one relay) |`,
    `| steady (${o.rate} rows/s written for ${o.seconds} s; achieved ${(total / writeSeconds).toFixed(0)}/s) | ${total} | lag p50 ${fmt(lag.p50)}, p99 ${fmt(lag.p99)}, max ${fmt(lag.max)} |`,
    '',
  ].join('\n')
  const dir = join(benchDir, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}-outbox`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'report.md'), report)
  writeFileSync(
    join(dir, 'results.json'),
    `${JSON.stringify({ options: o, drain: { rows: o.rows, seconds: Number(drain.seconds), rate: drainRate }, steady: { rows: total, writeSeconds, lag: { ...lag, histogram: undefined } } }, null, 2)}\n`,
  )
  process.stdout.write(`${report}\n(${join(dir, 'report.md')})\n`)
}

try {
  await main()
} catch (e) {
  console.error(e)
  process.exitCode = 1
} finally {
  await cleanupAll()
}
