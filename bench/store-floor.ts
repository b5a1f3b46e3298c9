// What storage costs per delivery, in process, with no HTTP and no worker: Hookpost's store
// (publishBatch, claimDue, complete: what the hot path runs) against the bare SQL statements of
// the same writes on the same schema (better-sqlite3 or pg with nothing between), and against the
// same bare statements with the queue state in a narrow table beside the delivery log (issue
// "Hot path redesign", point 1). It says how much of Hookpost's CPU per delivery the database
// itself needs and how much the store's code adds. A report, not a test.
//
//   npm run bench:store [-- --pg] [-- --events 2000] [-- --runs 3] [-- --only store,bare,narrow,minimal]
//
// Per run: 10 subscriptions of one event type; events (≈1 KB) published 50 a transaction, claimed
// 256 at a time, completed 128 at a time as first-try successes (an attempt row each), as the
// fan-out workload drives them. CPU is this process's (process.cpuUsage) plus, on PostgreSQL, the
// server's (every `postgres` process, from /proc); medians over runs.
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { completionRules } from '../src/deliveries/completion-rules.ts'
import { newId } from '../src/shared/ids.ts'
import { openPostgresStore } from '../src/store/postgres/postgres-store.ts'
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts'
import { type CompleteInput, freshHealth, type PublishInput, type Store } from '../src/store/store.ts'
import { barePostgres } from './baselines/bare-postgres.ts'
import { bareSqlite } from './baselines/bare-sqlite.ts'
import { median } from './lib/stats.ts'
import {
  benchBody,
  claimBatch,
  completeBatch,
  drive,
  eventName,
  fanOut,
  type Meter,
  meter,
  type Phases,
  publishBatch,
  type Shape,
} from './lib/storage-phases.ts'
import { defaultPgAdminUrl } from './service.ts'

interface Options {
  only: Variant[]
  pg: boolean
  pgUrl: string
  events: number
  runs: number
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    only: variants,
    pg: false,
    pgUrl: process.env['BENCH_PG_URL'] ?? defaultPgAdminUrl,
    events: 2000,
    runs: 3,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--pg') o.pg = true
    else if (a === '--pg-url') o.pgUrl = String(argv[++i])
    else if (a === '--only') o.only = String(argv[++i]).split(',') as Variant[]
    else if (a === '--events') o.events = Number(argv[++i])
    else if (a === '--runs') o.runs = Number(argv[++i])
    else throw new Error(`unknown option ${a}`)
  }
  if (o.events % publishBatch !== 0) throw new Error(`--events must be a multiple of ${publishBatch}`)
  return o
}

// --- Hookpost's store -------------------------------------------------------------------------

async function throughStore(store: Store, events: number, cpu: Meter): Promise<Phases> {
  await store.migrate()
  const now = Date.now()
  const env = { id: newId('env'), name: 'bench', signatureEncoding: 'hex' as const, created: now }
  await store.environments.create(env, {
    id: newId('sec'),
    envId: env.id,
    keyId: 'mk_bench',
    ciphertext: 'sealed',
    created: now,
    expires: null,
    revealed: false,
  })
  for (let i = 0; i < fanOut; i++) {
    await store.subscriptions.create({
      id: newId('sub'),
      envId: env.id,
      event: eventName,
      url: `https://receiver-${i}.example.com/hook`,
      active: true,
      ordered: false,
      created: now,
      updated: now,
      health: freshHealth,
      deactivatedReason: null,
    })
  }
  const body = benchBody()
  const rules = completionRules({ disableAfterMs: 5 * 86_400_000 })
  const claimed = new Map<string, { token: string; attempts: number }>()
  const input = (): PublishInput => ({
    event: { id: newId('evt'), envId: env.id, eventName, body, orderingKey: null, created: Date.now() },
    idempotencyKey: null,
    idempotencySince: 0,
    attemptLimit: 10,
    newDeliveryId: () => newId('dlv'),
  })
  return drive(events, cpu, {
    async publish(batch) {
      await store.events.publishBatch(Array.from({ length: batch }, input))
    },
    async claim(limit) {
      const r = await store.deliveries.claimDue({
        now: Date.now(),
        limit,
        leaseMs: 60_000,
        scan: { exclude: [], room: { perSubscription: claimBatch, busy: new Map() } },
      })
      for (const d of r.deliveries) claimed.set(d.id, { token: d.leaseToken, attempts: d.attempts })
      return r.deliveries.map((d) => d.id)
    },
    async complete(ids) {
      const at = Date.now()
      const results: CompleteInput[] = ids.map((id) => {
        const c = claimed.get(id)!
        claimed.delete(id)
        return {
          id,
          leaseToken: c.token,
          statusCode: 200,
          error: null,
          outcome: { kind: 'delivered' },
          attempt: {
            deliveryId: id,
            number: c.attempts,
            started: at,
            durationMs: 2,
            statusCode: 200,
            error: null,
            responseBody: 'ok',
            requestHeaders: {},
            responseHeaders: null,
            leanHeaders: true,
          },
        }
      })
      await store.deliveries.complete(results, at, rules)
    },
  })
}

// --- Runs and the report -----------------------------------------------------------------------

type Variant = 'store' | 'bare' | 'narrow' | 'minimal'
const variants: Variant[] = ['store', 'bare', 'narrow', 'minimal']
const label: Record<Variant, string> = {
  store: "Hookpost's store (what the hot path runs)",
  bare: 'bare statements, same schema',
  narrow: 'bare statements, narrow queue table',
  minimal: 'bare statements, minimal queue (due index only, no attempt rows)',
}

const shapeOf = (v: Exclude<Variant, 'store'>): Shape => (v === 'bare' ? 'log' : v)

async function sqliteRun(variant: Variant, events: number): Promise<Phases> {
  const path = join(tmpdir(), `hookpost-store-floor-${process.pid}.db`)
  const clean = () => {
    for (const s of ['', '-wal', '-shm']) rmSync(path + s, { force: true })
  }
  clean()
  try {
    const store = openSqliteStore(path)
    if (variant === 'store') {
      try {
        return await throughStore(store, events, meter())
      } finally {
        await store.close()
      }
    }
    await store.migrate()
    await store.close()
    const db = new Database(path)
    try {
      return await bareSqlite(db, events, shapeOf(variant))
    } finally {
      db.close()
    }
  } finally {
    clean()
  }
}

async function postgresRun(adminUrl: string, variant: Variant, events: number): Promise<Phases> {
  const name = `hookpost_store_floor_${process.pid}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`drop database if exists ${name} with (force)`)
  await admin.query(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  try {
    const store = openPostgresStore(url.toString())
    if (variant === 'store') {
      try {
        return await throughStore(store, events, meter(name))
      } finally {
        await store.close()
      }
    }
    await store.migrate()
    await store.close()
    const c = new pg.Client({ connectionString: url.toString() })
    await c.connect()
    try {
      return await barePostgres(c, events, shapeOf(variant), name)
    } finally {
      await c.end()
    }
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2))
  const stores = o.pg ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)
  const lines = [
    `# Storage cost per delivery (${o.events} events × ${fanOut} subscriptions, ${o.runs} runs, medians)`,
    '',
    `Published ${publishBatch} events a transaction, claimed ${claimBatch} at a time, completed ${completeBatch} at a time as first-try successes. CPU µs per delivery: this process${o.pg ? " and, on PostgreSQL, the server's backends for the run's database" : ''}.`,
    '',
    '| Store | Path | publish | claim | complete | total |',
    '|---|---|---:|---:|---:|---:|',
  ]
  for (const store of stores) {
    const results = new Map<Variant, Phases[]>(variants.map((v) => [v, []]))
    for (let run = 0; run < o.runs; run++) {
      for (const v of run % 2 === 0 ? o.only : [...o.only].reverse()) {
        process.stderr.write(`${store} run ${run + 1}: ${v}…\n`)
        results
          .get(v)!
          .push(store === 'sqlite' ? await sqliteRun(v, o.events) : await postgresRun(o.pgUrl, v, o.events))
      }
    }
    for (const v of o.only) {
      const rs = results.get(v)!
      const m = (k: keyof Phases) => median(rs.map((r) => r[k])) ?? Number.NaN
      const total = median(rs.map((r) => r.publish + r.claim + r.complete)) ?? Number.NaN
      lines.push(
        `| ${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${label[v]} | ${m('publish').toFixed(1)} | ${m('claim').toFixed(1)} | ${m('complete').toFixed(1)} | ${total.toFixed(1)} |`,
      )
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`)
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  process.exitCode = 1
})
