// npm run bench [-- options]: runs the benchmark workloads against the real service (started as
// separate processes) and the baselines, and writes the report.
//
//   --quick            short runs, 3 repetitions, small backlog (default; a few minutes)
//   --full             longer runs, 5 repetitions, 1 M-delivery backlog (tens of minutes)
//   --only a,b         only these workloads (fanout, fanout-filtered, fanout-transform, fanout-batch, one-endpoint, slow, failing,
//                      backlog, latency, latency-300)
//   --systems a,b      only these systems (hookpost, raw, bullmq-naive, bullmq-tuned,
//                      hookpost-pg-w1, hookpost-pg-w2, hookpost-pg-w4)
//   --pg               add the PostgreSQL systems (1, 2 and 4 worker processes)
//   --pg-url URL       PostgreSQL admin URL (default postgres://postgres@127.0.0.1:5432/postgres);
//                      a fresh database is created and dropped for every run
//   --reps N           repetitions per cell
//   --receivers N      receiver processes (default 1)
//   --redis-aof MODE   none (default), everysec or always, for the BullMQ baselines' Redis
//   --out DIR          results directory (default bench/results)
//   --cpu-prof         Hookpost processes write V8 CPU profiles into <results>/profiles/ (open
//                      them in Chrome DevTools or speedscope); profiling slows them down
//   --node PATH        run Hookpost's processes under this node binary (default: BENCH_NODE, else
//                      the harness's node); the report names its version. better-sqlite3 must be
//                      built for it: run the bench under scripts/with-node.sh (bench/README.md)
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import pg from 'pg'
import { type RedisPersistence, RedisServer } from './baselines/redis.ts'
import { benchDir, cleanupAll, repoRoot } from './lib/child.ts'
import { fallbackExample } from './lib/payload.ts'
import { machineInfo } from './lib/proc.ts'
import { Progress } from './lib/progress.ts'
import { fmtMs, fmtNum, fmtRate } from './lib/stats.ts'
import { Publisher } from './publisher.ts'
import { Receivers } from './receiver.ts'
import { evaluateTargets, type Meta, runDirOf, writeReport } from './report.ts'
import { defaultPgAdminUrl, HookpostService } from './service.ts'
import { workloads as allWorkloads } from './workloads/index.ts'
import { isLatencyWorkload } from './workloads/latency.ts'
import { type Ctx, runCell } from './workloads/runner.ts'
import type { Mode, RunResult, SystemId, Workload } from './workloads/types.ts'

const allSystems: SystemId[] = [
  'hookpost',
  'raw',
  'bullmq-naive',
  'bullmq-tuned',
  'hookpost-split',
  'hookpost-pg-w1',
  'hookpost-pg-w2',
  'hookpost-pg-w4',
]

interface Options {
  mode: Mode
  only: string[] | undefined
  systems: SystemId[] | undefined
  pg: boolean
  pgUrl: string
  reps: number | undefined
  receivers: number
  redisAof: RedisPersistence
  out: string
  cpuProf: boolean
  node: string | undefined
}

function usage(): never {
  const text = readFileSync(new URL(import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('//'))
    .map((l) => l.slice(3))
    .join('\n')
  process.stdout.write(`${text}\n`)
  process.exit(0)
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    mode: 'quick',
    only: undefined,
    systems: undefined,
    pg: false,
    pgUrl: process.env['BENCH_PG_URL'] ?? defaultPgAdminUrl,
    reps: undefined,
    receivers: 1,
    redisAof: 'none',
    out: join(benchDir, 'results'),
    cpuProf: false,
    node: process.env['BENCH_NODE'] || undefined,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    const val = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${a} needs a value`)
      return v
    }
    if (a === '--quick') o.mode = 'quick'
    else if (a === '--full') o.mode = 'full'
    else if (a === '--only') o.only = val().split(',')
    else if (a === '--systems') o.systems = val().split(',') as SystemId[]
    else if (a === '--pg') o.pg = true
    else if (a === '--pg-url') {
      o.pgUrl = val()
      o.pg = true
    } else if (a === '--reps') o.reps = Number(val())
    else if (a === '--receivers') o.receivers = Math.max(1, Number(val()))
    else if (a === '--redis-aof') o.redisAof = val() as RedisPersistence
    else if (a === '--out') o.out = val()
    else if (a === '--cpu-prof') o.cpuProf = true
    else if (a === '--node') o.node = val()
    else if (a === '--help' || a === '-h') usage()
    else throw new Error(`unknown option ${a} (see --help)`)
  }
  for (const s of o.systems ?? []) if (!allSystems.includes(s)) throw new Error(`unknown system ${s}`)
  for (const w of o.only ?? [])
    if (!allWorkloads.some((x) => x.id === w))
      throw new Error(`unknown workload ${w} (${allWorkloads.map((x) => x.id).join(', ')})`)
  if (!['none', 'everysec', 'always'].includes(o.redisAof))
    throw new Error('--redis-aof is none, everysec or always')
  if (o.systems?.some((s) => s.startsWith('hookpost-pg'))) o.pg = true
  return o
}

function git(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    const dirty =
      execFileSync('git', ['status', '--porcelain'], { cwd: repoRoot, encoding: 'utf8' }).trim() !== ''
    return { commit, dirty }
  } catch {
    return { commit: 'unknown', dirty: false }
  }
}

function pkgVersion(name: string): string {
  try {
    const j = JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string
    }
    return j.version
  } catch {
    return 'not installed'
  }
}

/** The disk's fsync rate as SQLite sees it (bench/lib/fsync-probe.js), under the service's node. */
function fsyncProbe(ms: number, node: string): number {
  const out = execFileSync(node, [join(benchDir, 'lib/fsync-probe.js'), String(ms)], { encoding: 'utf8' })
  return Number(out.trim())
}

async function pgCheck(url: string): Promise<{ version?: string; error?: string }> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    const r = await c.query<{ v: string }>("select current_setting('server_version') as v")
    return { version: r.rows[0]?.v ?? 'unknown' }
  } catch (e) {
    return { error: `PostgreSQL at ${url} is unreachable: ${(e as Error).message}` }
  } finally {
    await c.end().catch(() => undefined)
  }
}

/** The example event through the public API (and a check that the service starts at all). */
async function fetchExample(node: string | undefined): Promise<unknown> {
  const svc = await HookpostService.create({ node })
  try {
    await svc.start({ api: true, workers: 0 })
    const s = await svc.setup([])
    return s.example
  } finally {
    await svc.stop()
    await svc.cleanup()
  }
}

function oneLine(r: RunResult, w: Workload): string {
  const head = `${w.id} · ${r.system} · run ${r.rep + 1}`
  if (r.skipped) return `${head}: not run (${r.skipped})`
  if (r.error && !r.ledger) return `${head}: ERROR ${r.error.split('\n')[0]}`
  const v = w.headline.value(r)
  const hv = w.headline.unit === 'ms' ? fmtMs(v) : `${fmtRate(v)}/s`
  const ledger = r.void ? `VOID (${r.void})` : 'ledger balanced'
  return `${head}: ${w.headline.label} ${hv}, ${fmtNum(r.cpu.usPerDelivery)} µs CPU/delivery, peak RSS ${fmtNum(r.rss.peakMb)} MB, ${ledger}`
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2))
  const mode = opts.mode
  const reps = opts.reps ?? (mode === 'quick' ? 3 : 5)
  const selected = allWorkloads.filter((w) => !opts.only || opts.only.includes(w.id))
  const startedAt = new Date()
  const machine = machineInfo()
  const progress = new Progress()
  const runs: RunResult[] = []
  const notes: string[] = []
  let redis: RedisServer | undefined
  let receivers: Receivers | undefined
  let publisher: Publisher | undefined
  let interrupted = false

  const finish = async (): Promise<void> => {
    progress.stop()
    await publisher?.stop().catch(() => undefined)
    await receivers?.stop().catch(() => undefined)
    await redis?.stop().catch(() => undefined)
    await cleanupAll()
  }
  process.once('SIGINT', () => {
    interrupted = true
    progress.log('interrupted: stopping what the bench started…')
    void finish().then(() => process.exit(130))
  })

  // The plan: repetitions outermost; within one, workloads in order and systems in ABBA order
  // (reversed on odd repetitions).
  const plan: { w: Workload; s: SystemId; rep: number }[] = []
  for (let rep = 0; rep < reps; rep++) {
    for (const w of selected) {
      let systems = w.systems(mode, { pg: opts.pg })
      if (opts.systems) systems = systems.filter((s) => opts.systems!.includes(s))
      if (opts.systems && opts.only) {
        // With both given, run exactly the systems asked for on those workloads.
        systems = opts.systems.filter((s) => s !== 'raw' || !isLatencyWorkload(w.id))
      }
      const ordered = rep % 2 === 0 ? systems : [...systems].reverse()
      for (const s of ordered) plan.push({ w, s, rep })
    }
  }
  if (plan.length === 0) throw new Error('nothing to run with these options')

  const calibration: number[] = []
  // The node Hookpost's processes run under (--node), named in the report; the harness and the
  // baselines keep the node that runs this script.
  const serviceNode = opts.node ? resolve(opts.node) : undefined
  const serviceNodeVersion = serviceNode
    ? execFileSync(serviceNode, ['--version'], { encoding: 'utf8' }).trim()
    : process.version
  const versions: Record<string, string> = {
    hookpost: 'unknown',
    node: serviceNode
      ? `${serviceNodeVersion} (Hookpost, ${serviceNode}); ${process.version} (harness, baselines)`
      : process.version,
    undici: pkgVersion('undici'),
    'better-sqlite3': pkgVersion('better-sqlite3'),
    bullmq: pkgVersion('bullmq'),
    ioredis: pkgVersion('ioredis'),
    pg: pkgVersion('pg'),
  }
  try {
    versions['hookpost'] = (
      JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
    ).version
  } catch {
    // keep
  }
  // Measure what `npm start` runs: the bundle, rebuilt from the current sources.
  execFileSync(process.execPath, [join(repoRoot, 'scripts/build.js')], { cwd: repoRoot, stdio: 'inherit' })
  versions['hookpost build'] = existsSync(join(repoRoot, 'dist/build-stamp.json'))
    ? 'bundle (dist/hookpost.js)'
    : 'sources through tsx (the build failed)'

  progress.start(plan.length + 2) // + preflight and the closing calibration
  progress.cell('preflight')
  progress.phase('fsync probe')
  calibration.push(fsyncProbe(mode === 'quick' ? 1000 : 2000, serviceNode ?? process.execPath))
  progress.phase('start the service once')
  let example: unknown = fallbackExample
  try {
    example = await fetchExample(serviceNode)
  } catch (e) {
    await finish()
    throw new Error(`Hookpost did not start: ${(e as Error).message}`)
  }
  let pgUnavailable: string | undefined
  if (opts.pg) {
    const c = await pgCheck(opts.pgUrl)
    if (c.error) {
      pgUnavailable = c.error
      notes.push(c.error)
    } else versions['postgresql'] = c.version ?? 'unknown'
  }
  if (opts.cpuProf) notes.push('Hookpost ran under --cpu-prof: its numbers are lower than without profiling.')
  const needsRedis = plan.some((p) => p.s.startsWith('bullmq'))
  if (needsRedis && !RedisServer.available())
    notes.push('redis-server is not installed: the BullMQ baselines cannot run')

  receivers = await Receivers.start(opts.receivers)
  publisher = await Publisher.start()
  const ctx: Ctx = {
    mode,
    receivers,
    publisher,
    progress,
    pgAdminUrl: opts.pg ? opts.pgUrl : undefined,
    pgUnavailable,
    example,
    node: serviceNode,
    profileDir: opts.cpuProf
      ? join(runDirOf(opts.out, startedAt.toISOString(), mode), 'profiles')
      : undefined,
    redis: async () => {
      if (!redis) {
        redis = await RedisServer.start(opts.redisAof)
        versions['redis'] = redis.version
      }
      return redis
    },
  }

  for (const c of plan) {
    if (interrupted) break
    progress.cell(`${c.w.id} · ${c.s} · run ${c.rep + 1}/${reps}`)
    const r = await runCell(c.w, c.s, c.rep, ctx)
    runs.push(r)
    progress.log(oneLine(r, c.w))
  }
  progress.cell('calibration')
  progress.phase('fsync probe')
  calibration.push(fsyncProbe(mode === 'quick' ? 1000 : 2000, serviceNode ?? process.execPath))
  await finish()

  const finishedAt = new Date()
  const meta: Meta = {
    mode,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    reps,
    machine,
    loadAvgEnd: os.loadavg().map((x) => Math.round(x * 100) / 100),
    git: git(),
    versions,
    settings: {
      'Hookpost store':
        'SQLite (WAL, synchronous=FULL per its design); PostgreSQL runs: a fresh database on the local server',
      'Hookpost concurrency': 'defaults: 512 attempts in flight per worker process, 32 per subscription',
      'raw ceiling': 'undici Pool per origin, 32 connections, ≤ 512 requests in flight',
      'BullMQ naive': 'queue.add per delivery, Worker concurrency 50, global fetch',
      'BullMQ tuned': 'addBulk per event, Worker concurrency 100, undici Pool (50 connections) per origin',
      Redis: `private redis-server on 127.0.0.1, --save "", appendonly ${opts.redisAof === 'none' ? 'no' : `yes (${opts.redisAof})`}`,
      receivers: `${opts.receivers} node:http process(es), one 127.0.0.1 port per endpoint`,
      body: '≈1 KB account_holder.created event, both signatures on every delivery',
    },
    calibration: { fsyncInsertsPerSec: calibration },
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    notes,
  }
  const { dir, latest } = writeReport(opts.out, meta, selected, runs)
  const targets = evaluateTargets(runs, mode)
  process.stdout.write(`\nTargets (${mode} mode):\n`)
  for (const t of targets)
    process.stdout.write(`  ${t.id} ${t.status.padEnd(7)} ${t.target}: ${t.measured}\n`)
  const voided = runs.filter((r) => r.void).length
  if (voided > 0) process.stdout.write(`\n${voided} run(s) VOID: see the report.\n`)
  process.stdout.write(
    `\nReport: ${join(latest, 'report.md')} (also ${dir})\nWall time: ${Math.round(meta.wallSeconds)} s\n`,
  )
}

main().catch(async (e: unknown) => {
  process.stderr.write(`\nbench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
  await cleanupAll()
  process.exit(1)
})
