// Runs one cell (one workload × one system × one repetition): fresh state, start the system,
// publish, drain, close the ledger, collect the numbers, stop what was started.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  BullBaseline,
  type BullConfig,
  type BullStats,
  ioredisAvailable,
} from '../baselines/bullmq-common.ts'
import { RawCeiling } from '../baselines/raw-ceiling.ts'
import type { RedisServer } from '../baselines/redis.ts'
import { freePort, sleep } from '../lib/child.ts'
import { bodyTail, newSecret } from '../lib/payload.ts'
import { CpuMeter, machineCpu, memoryMb } from '../lib/proc.ts'
import type { Progress } from '../lib/progress.ts'
import { fmtRate, now } from '../lib/stats.ts'
import type { Publisher, PublishResult } from '../publisher.ts'
import type { ReceiverStats, Receivers } from '../receiver.ts'
import { HookpostService } from '../service.ts'
import type { GroupResult, Ledger, Mode, RunResult, Scenario, SystemId, Workload } from './types.ts'

export interface Ctx {
  mode: Mode
  receivers: Receivers
  publisher: Publisher
  progress: Progress
  pgAdminUrl: string | undefined
  /** Why PostgreSQL runs are not possible, if they are not. */
  pgUnavailable: string | undefined
  redis: () => Promise<RedisServer>
  example: unknown
  /** When set, Hookpost processes write V8 CPU profiles under this directory. */
  profileDir?: string | undefined
  /** The node binary Hookpost's processes run under (--node); the harness's own when unset. */
  node?: string | undefined
}

/** Hookpost's default retry schedule, used by the baselines when a workload sets none. */
const defaultScheduleMs = [5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 504e5, 72e6, 864e5]

interface Proc {
  role: string
  pid: number
  /** A database or broker process (its RSS is reported apart from the service's). */
  db?: boolean
}

interface LedgerCounts {
  failed: number
  cancelled: number
  pending: number
  exact: boolean
  /** Counted after stopping the system (at a cutoff) rather than while it was idle. */
  cutoff: boolean
}

interface Sut {
  ingestUrl: string
  authorization: string
  secret: string
  procs(): Proc[]
  /** Backlog workload: stop the ingest-only processes and start the delivering ones. */
  startDrain(): Promise<void>
  anyPending(): Promise<boolean>
  closeLedger(cutoff: boolean): Promise<LedgerCounts>
  stop(): Promise<void>
  problems(): RunResult['problems']
  notes: string[]
}

// ---------------------------------------------------------------------------------------------

function postgresPids(): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'postgres') out.push(Number(name))
    } catch {
      // gone
    }
  }
  return out
}

class HookpostSut implements Sut {
  readonly svc: HookpostService
  readonly workers: number
  /** On PostgreSQL: the server's processes count as the system's CPU. */
  readonly pg: boolean
  readonly backlog: boolean
  ingestUrl = ''
  authorization = ''
  consumer = ''
  secret = ''
  notes: string[] = []
  #pgPids: number[] = []
  #pgScannedAt = 0
  /** Bound on counting pending deliveries page by page at a cutoff (a 1 M backlog takes a while). */
  countMaxMs = 120_000

  private constructor(svc: HookpostService, workers: number, backlog: boolean, pg: boolean) {
    this.svc = svc
    this.workers = workers
    this.backlog = backlog
    this.pg = pg
  }

  static async start(
    system: SystemId,
    sc: Scenario,
    ctx: Ctx,
    urls: string[],
    label: string,
  ): Promise<HookpostSut> {
    // hookpost: one process (role all); hookpost-split: SQLite with an api and a worker process;
    // hookpost-pg-wN: PostgreSQL with an api and N worker processes.
    const pg = system.startsWith('hookpost-pg')
    const workers = system === 'hookpost' ? 0 : pg ? Number(system.slice(-1)) : 1
    const env: Record<string, string> = {}
    if (sc.scheduleMs) env['HOOKPOST_RETRY_SCHEDULE'] = sc.scheduleMs.map((ms) => `${ms}ms`).join(',')
    const svc = await HookpostService.create({
      pgAdminUrl: pg ? ctx.pgAdminUrl : undefined,
      env,
      nodeArgs: ctx.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(ctx.profileDir, label)}`] : [],
      node: ctx.node,
    })
    const s = new HookpostSut(svc, workers, sc.backlog === true, pg)
    if (ctx.mode === 'full') s.countMaxMs = 900_000
    try {
      await svc.start(s.backlog ? { api: true, workers: 0 } : s.#runRoles())
      const setup = await svc.setup(urls, sc.filter, sc.transformation)
      s.ingestUrl = svc.url
      s.authorization = setup.publisherAuth
      s.consumer = setup.consumerAuth
      s.secret = setup.secret
      s.refreshDbPids()
    } catch (e) {
      await svc.cleanup()
      throw e
    }
    return s
  }

  #runRoles() {
    return this.workers > 0 ? { api: true, workers: this.workers } : { api: false, workers: 0, all: true }
  }

  procs(): Proc[] {
    const list: Proc[] = this.svc.roles().map((r) => ({ role: `hookpost-${r.role}`, pid: r.pid }))
    // PostgreSQL backends come and go with the service's connection pools: look again each second.
    if (this.pg && Date.now() - this.#pgScannedAt > 1000) this.refreshDbPids()
    for (const pid of this.#pgPids) list.push({ role: 'postgres', pid, db: true })
    return list
  }

  refreshDbPids(): void {
    if (!this.pg) return
    this.#pgPids = postgresPids()
    this.#pgScannedAt = Date.now()
  }

  async startDrain(): Promise<void> {
    await this.svc.stop()
    await this.svc.start(this.#runRoles())
    this.refreshDbPids()
  }

  anyPending(): Promise<boolean> {
    return this.svc.anyPending(this.consumer)
  }

  async closeLedger(cutoff: boolean): Promise<LedgerCounts> {
    if (!cutoff) {
      // Everything arrived; completions are flushed within a few ms. Confirm nothing is pending.
      const deadline = Date.now() + 5000
      while (Date.now() < deadline) {
        if (!(await this.anyPending())) {
          const failed = await this.svc.count(this.consumer, 'failed')
          const cancelled = await this.svc.count(this.consumer, 'cancelled')
          return {
            failed: failed.count,
            cancelled: cancelled.count,
            pending: 0,
            exact: failed.exact && cancelled.exact,
            cutoff: false,
          }
        }
        await sleep(100)
      }
      this.notes.push('deliveries still pending 5 s after the receivers had them all; counted at a cutoff')
    }
    // A cutoff: stop gracefully (attempts in flight finish and are recorded), then count through
    // the API of an api-only process on the same database, so nothing moves while we count.
    await this.svc.stop()
    await this.svc.start({ api: true, workers: 0 })
    const pending = await this.svc.count(this.consumer, 'pending', { maxMs: this.countMaxMs })
    const failed = await this.svc.count(this.consumer, 'failed')
    const cancelled = await this.svc.count(this.consumer, 'cancelled')
    return {
      failed: failed.count,
      cancelled: cancelled.count,
      pending: pending.count,
      exact: pending.exact && failed.exact && cancelled.exact,
      cutoff: true,
    }
  }

  async stop(): Promise<void> {
    await this.svc.stop().catch(() => undefined)
    await this.svc.cleanup()
  }

  problems() {
    return this.svc.problems
  }
}

class BullSut implements Sut {
  readonly cfg: BullConfig
  readonly redis: RedisServer
  bl: BullBaseline
  ingestUrl: string
  authorization = 'Basic YmVuY2g6YmVuY2g='
  secret: string
  notes: string[] = []
  #final: BullStats | undefined
  #enqueued = 0

  private constructor(cfg: BullConfig, redis: RedisServer, bl: BullBaseline) {
    this.cfg = cfg
    this.redis = redis
    this.bl = bl
    this.ingestUrl = bl.url
    this.secret = cfg.secret
  }

  static async start(system: SystemId, sc: Scenario, ctx: Ctx, urls: string[]): Promise<BullSut> {
    const redis = await ctx.redis()
    redis.flush()
    const cfg: BullConfig = {
      kind: system === 'bullmq-naive' ? 'naive' : 'tuned',
      role: sc.backlog ? 'api' : 'all',
      port: await freePort(),
      redisPort: redis.port,
      queue: 'webhooks',
      urls,
      secret: newSecret(),
      scheduleMs: sc.scheduleMs ?? defaultScheduleMs,
      timeoutMs: 15_000,
    }
    const bl = await BullBaseline.start(cfg)
    return new BullSut(cfg, redis, bl)
  }

  procs(): Proc[] {
    const list: Proc[] = []
    if (this.bl.child.exitCode === null) list.push({ role: `bullmq-${this.cfg.role}`, pid: this.bl.pid })
    list.push({ role: 'redis', pid: this.redis.pid, db: true })
    return list
  }

  async startDrain(): Promise<void> {
    const s = await this.bl.shutdown()
    this.#enqueued = s.enqueued
    this.cfg.role = 'worker'
    this.bl = await BullBaseline.start({ ...this.cfg, port: await freePort() })
  }

  async anyPending(): Promise<boolean> {
    const s = await this.bl.counts()
    return pendingOf(s) > 0
  }

  async closeLedger(): Promise<LedgerCounts> {
    const s = await this.bl.shutdown()
    this.#final = s
    return { failed: s.finalFailed, cancelled: 0, pending: pendingOf(s), exact: true, cutoff: false }
  }

  async stop(): Promise<void> {
    if (this.bl.child.exitCode === null) await this.bl.kill()
  }

  problems() {
    return undefined
  }

  get enqueued(): number {
    return this.#enqueued || this.#final?.enqueued || 0
  }
}

function pendingOf(s: BullStats): number {
  const c = s.counts ?? {}
  return (
    (c['waiting'] ?? 0) +
    (c['delayed'] ?? 0) +
    (c['active'] ?? 0) +
    (c['prioritized'] ?? 0) +
    (c['paused'] ?? 0) +
    (c['waiting-children'] ?? 0)
  )
}

// ---------------------------------------------------------------------------------------------

function groupCounts(sc: Scenario): Map<string, number> {
  const m = new Map<string, number>()
  for (const e of sc.endpoints) m.set(e.group, (m.get(e.group) ?? 0) + 1)
  return m
}

function deliveredByGroup(st: ReceiverStats): Map<string, number> {
  const m = new Map<string, number>()
  for (const e of st.endpoints) m.set(e.group, (m.get(e.group) ?? 0) + e.unique)
  return m
}

function targetGroups(sc: Scenario): string[] {
  if (sc.waitFor) return sc.waitFor
  return [...groupCounts(sc).keys()].filter((g) => !(sc.expectFail ?? []).includes(g))
}

class Sampler {
  readonly byRole: Record<string, number> = {}
  timeline: NonNullable<RunResult['timeline']> = []
  #t0 = now()
  #procs: () => Proc[]

  constructor(procs: () => Proc[]) {
    this.#procs = procs
  }

  resetTimeline(): void {
    this.#t0 = now()
    this.timeline = []
  }

  resetPeaks(): void {
    for (const k of Object.keys(this.byRole)) delete this.byRole[k]
  }

  /** Samples memory; returns the SUT's RSS now (MB, excluding databases). */
  sample(): number {
    let rss = 0
    for (const p of this.#procs()) {
      const m = memoryMb(p.pid)
      if (!m) continue
      // Service processes: their own peak (VmHWM). Long-lived databases: the largest RSS seen.
      const v = p.db ? m.rss : m.hwm
      this.byRole[p.role] = Math.max(this.byRole[p.role] ?? 0, v)
      if (!p.db) rss += m.rss
    }
    return rss
  }

  point(delivered: number, published: number): void {
    const rssMb = this.sample()
    if (this.timeline.length < 20_000)
      this.timeline.push({
        t: Math.round(now() - this.#t0) / 1000,
        delivered,
        pending: Math.max(0, published - delivered),
        rssMb: Math.round(rssMb * 10) / 10,
      })
  }

  peak(): number {
    let p = 0
    for (const [role, v] of Object.entries(this.byRole))
      if (role !== 'redis' && role !== 'postgres') p = Math.max(p, v)
    return p
  }
}

function emptyResult(workload: string, system: SystemId, rep: number): RunResult {
  return {
    workload,
    system,
    rep,
    startedAt: new Date().toISOString(),
    wallMs: 0,
    events: { sent: 0, accepted: 0, rejected: {} },
    window: { startAt: 0, endAt: 0, seconds: 0 },
    throughput: 0,
    groups: {},
    cpu: {
      sutSeconds: 0,
      harnessSeconds: 0,
      machineBusySeconds: 0,
      machineSeconds: 0,
      usPerDelivery: 0,
      parts: {},
    },
    rss: { peakMb: 0, byRole: {} },
    attempts: 0,
    duplicates: 0,
    signatures: { checked: 0, bad: 0 },
    notes: [],
  }
}

export async function runCell(
  workload: Workload,
  system: SystemId,
  rep: number,
  ctx: Ctx,
): Promise<RunResult> {
  const res = emptyResult(workload.id, system, rep)
  const wall0 = Date.now()
  try {
    if (system.startsWith('bullmq') && !ioredisAvailable()) {
      res.skipped = 'the ioredis package is not installed (BullMQ 6 needs it as a peer dependency)'
    } else if (system.startsWith('hookpost-pg') && ctx.pgUnavailable) {
      res.skipped = ctx.pgUnavailable
    } else if (system === 'raw') {
      await runRaw(workload, res, ctx)
    } else {
      await runQueued(workload, system, res, ctx)
    }
  } catch (e) {
    res.error = e instanceof Error ? e.message : String(e)
    res.void = `error: ${res.error.split('\n')[0]}`
  }
  res.wallMs = Date.now() - wall0
  return res
}

async function runQueued(workload: Workload, system: SystemId, res: RunResult, ctx: Ctx): Promise<void> {
  const sc = workload.scenario(ctx.mode)
  const p = ctx.progress
  p.phase('start')
  const urls = await ctx.receivers.configure(sc.endpoints)
  const sut: Sut = system.startsWith('hookpost')
    ? await HookpostSut.start(system, sc, ctx, urls, `${workload.id}-${system}-run${res.rep + 1}`)
    : await BullSut.start(system, sc, ctx, urls)
  try {
    await ctx.receivers.setSecret(sut.secret)
    const tail = bodyTail(ctx.example)
    const counts = groupCounts(sc)
    const harnessPids = () => [ctx.publisher.pid, ...ctx.receivers.pids()]
    const sutMeter = new CpuMeter(() => sut.procs().map((x) => x.pid))
    const partMeters = new Map<string, CpuMeter>()
    for (const part of ['service', 'db']) {
      partMeters.set(
        part,
        new CpuMeter(() =>
          sut
            .procs()
            .filter((x) => (part === 'db') === (x.db === true))
            .map((x) => x.pid),
        ),
      )
    }
    const harnessMeter = new CpuMeter(harnessPids)
    const sampler = new Sampler(() => sut.procs())
    let published = 0
    let delivered = 0
    // Warm-up: a few events through the whole path, waited for, before anything is measured.
    let warm = { accepted: 0, deliveries: 0 }
    let baseline = new Map<string, number>()
    if (sc.warmupEvents && sc.publish.mode === 'closed' && !sc.backlog) {
      p.phase('warm-up')
      const wp = await ctx.publisher.run({
        url: sut.ingestUrl,
        authorization: sut.authorization,
        tail,
        mode: 'closed',
        events: sc.warmupEvents,
        concurrency: sc.publish.concurrency,
        batch: sc.publish.batch,
        maxMs: 30_000,
        seqBase: res.rep * 10_000_000 + 9_000_000,
      })
      warm = { accepted: wp.accepted, deliveries: wp.deliveries }
      res.warmup = { events: wp.accepted, deliveries: wp.deliveries }
      const goals = targetGroups(sc)
      const until = Date.now() + (ctx.mode === 'quick' ? 10_000 : 30_000)
      for (;;) {
        const st = await ctx.receivers.stats(false)
        baseline = deliveredByGroup(st)
        if (goals.every((g) => (baseline.get(g) ?? 0) >= wp.accepted * (counts.get(g) ?? 0))) break
        if (Date.now() > until) {
          res.notes.push('warm-up deliveries had not all arrived in time; measuring anyway')
          break
        }
        await sleep(100)
      }
    }
    const startMeters = () => {
      sutMeter.start()
      harnessMeter.start()
      for (const m of partMeters.values()) m.start()
    }
    if (sc.publish.mode === 'open') await ctx.receivers.latencyFrom(now() + sc.publish.warmupMs)
    const m0 = machineCpu()
    startMeters()
    // Publish.
    const total = sc.events
    const tick = setInterval(() => {
      sampler.point(0, 0)
      p.detail(`published ${ctx.publisher.sent}/${total} events`)
    }, 250)
    p.phase(sc.backlog ? 'ingest (api only)' : 'publish')
    let pub: PublishResult
    try {
      pub = await ctx.publisher.run({
        url: sut.ingestUrl,
        authorization: sut.authorization,
        tail,
        mode: sc.publish.mode,
        events: sc.events,
        concurrency: sc.publish.mode === 'closed' ? sc.publish.concurrency : undefined,
        batch: sc.publish.mode === 'closed' ? sc.publish.batch : undefined,
        rate: sc.publish.mode === 'open' ? sc.publish.rate : undefined,
        warmupMs: sc.publish.mode === 'open' ? sc.publish.warmupMs : undefined,
        maxMs: sc.publishMaxMs,
        seqBase: res.rep * 10_000_000,
      })
    } finally {
      clearInterval(tick)
    }
    published = pub.deliveries + warm.deliveries
    res.events = {
      sent: pub.sent,
      accepted: pub.accepted,
      rejected: pub.rejected,
      firstError: pub.firstError,
    }
    const pubSeconds = Math.max(0.001, (pub.endedAt - pub.startedAt) / 1000)
    res.ingest = {
      eventsPerSec: pub.accepted / pubSeconds,
      p50: pub.ingest.p50,
      p99: pub.ingest.p99,
      lagP99: pub.lag.p99,
    }
    if (pub.stoppedByTime) res.notes.push(`publishing stopped at its time bound (${sc.publishMaxMs} ms)`)
    if (pub.accepted > 0 && pub.deliveries !== pub.accepted * sc.endpoints.length)
      res.notes.push(
        `202 answers announced ${pub.deliveries} deliveries for ${pub.accepted} events × ${sc.endpoints.length} subscriptions`,
      )
    const expected = new Map<string, number>()
    for (const [g, n] of counts) expected.set(g, (pub.accepted + warm.accepted) * n)

    let drainStartAt = pub.startedAt
    if (sc.backlog) {
      const ingestPeak = sampler.peak()
      p.phase('restart with workers')
      await sut.startDrain()
      // Start-up CPU is not delivery work: measure from the moment the workers are up.
      startMeters()
      sampler.resetPeaks()
      sampler.resetTimeline()
      drainStartAt = now()
      res.backlog = {
        ingestEventsPerSec: res.ingest.eventsPerSec,
        ingestSeconds: pubSeconds,
        deliveriesQueued: published,
        ingestPeakRssMb: ingestPeak,
      }
    } else {
      sampler.resetTimeline()
    }

    // Drain: until every target delivery arrived, or the system is quiet with nothing pending,
    // or the time bound.
    p.phase('drain')
    const goals = targetGroups(sc)
    const partial = sc.waitFor !== undefined
    const expectFail = (sc.expectFail ?? []).length > 0
    const quietMs = sc.quietMs ?? 1500
    const deadline = Date.now() + sc.drainMaxMs
    let lastRequests = -1
    let lastChange = Date.now()
    let lastPendingCheck = 0
    let cutoff = false
    let prev = { t: now(), n: 0 }
    for (;;) {
      const st = await ctx.receivers.stats(false)
      const byGroup = deliveredByGroup(st)
      delivered = st.unique
      sampler.point(delivered, published)
      const t = now()
      const rate = ((delivered - prev.n) * 1000) / Math.max(1, t - prev.t)
      prev = { t, n: delivered }
      p.detail(`delivered ${delivered}/${published} · ${fmtRate(rate)}/s`)
      const reached = goals.every((g) => (byGroup.get(g) ?? 0) >= (expected.get(g) ?? 0))
      if (st.requests !== lastRequests) {
        lastRequests = st.requests
        lastChange = Date.now()
      }
      if (reached && partial) {
        cutoff = true
        break
      }
      if (reached && !expectFail) break
      const quiet = Date.now() - lastChange >= quietMs
      if (quiet && Date.now() - lastPendingCheck >= 1000) {
        lastPendingCheck = Date.now()
        if (!(await sut.anyPending())) break
      }
      if (Date.now() > deadline) {
        cutoff = true
        res.notes.push(`drain stopped at its time bound (${sc.drainMaxMs} ms)`)
        break
      }
      await sleep(200)
    }
    const m1 = machineCpu()
    const sutSeconds = sutMeter.seconds()
    res.cpu = {
      sutSeconds,
      harnessSeconds: harnessMeter.seconds(),
      machineBusySeconds: m1.busy - m0.busy,
      machineSeconds: m1.total - m0.total,
      usPerDelivery: 0,
      parts: Object.fromEntries([...partMeters].map(([k, m]) => [k, m.seconds()])),
    }
    sampler.sample()

    // Close the ledger.
    p.phase(cutoff ? 'ledger (cutoff count)' : 'ledger')
    const lc = await sut.closeLedger(cutoff)
    const st = await ctx.receivers.stats(true)
    delivered = st.unique
    const ledger: Ledger = {
      published,
      delivered,
      failed: lc.failed,
      cancelled: lc.cancelled,
      pending: lc.pending,
      difference: published - (delivered + lc.failed + lc.cancelled + lc.pending),
      balanced: false,
      exact: lc.exact,
      closedBy: cutoff || lc.cutoff ? 'cutoff' : 'drained',
    }
    ledger.balanced = ledger.difference === 0 && ledger.exact
    if (sc.expectFail) {
      ledger.expectedFailed = sc.expectFail.reduce((a, g) => a + (expected.get(g) ?? 0), 0)
      ledger.failedAsExpected = ledger.failed === ledger.expectedFailed
    }
    res.ledger = ledger
    if (!ledger.exact) res.void = 'ledger not closed: a count was cut short by its bounds'
    else if (!ledger.balanced)
      res.void = `ledger does not balance: published ${published} ≠ delivered ${delivered} + failed ${lc.failed} + cancelled ${lc.cancelled} + pending ${lc.pending} (difference ${ledger.difference})`
    if (sut instanceof BullSut && sc.backlog) res.notes.push(`enqueued ${sut.enqueued} jobs before the drain`)
    res.notes.push(...sut.notes)
    res.problems = sut.problems()
    fillDeliveryMetrics(res, st, sc, counts, expected, sc.backlog ? undefined : drainStartAt, baseline)
    const measured = delivered - [...baseline.values()].reduce((a, b) => a + b, 0)
    res.cpu.usPerDelivery = measured > 0 ? (sutSeconds / measured) * 1e6 : 0
    res.rss = { peakMb: sampler.peak(), byRole: { ...sampler.byRole } }
    res.timeline = sampler.timeline
  } finally {
    p.phase('stop')
    await sut.stop()
  }
}

function minPositive(xs: number[]): number {
  const v = xs.filter((x) => x > 0)
  return v.length > 0 ? Math.min(...v) : 0
}

/** Throughput, per-group rates and latency from the receivers' final stats. */
function fillDeliveryMetrics(
  res: RunResult,
  st: ReceiverStats,
  sc: Scenario,
  counts: Map<string, number>,
  expected: Map<string, number>,
  startAt: number | undefined,
  baseline: Map<string, number> = new Map(),
): void {
  const goals = targetGroups(sc)
  const start = startAt ?? minPositive(st.endpoints.map((e) => e.firstOkAt))
  for (const [g, n] of counts) {
    const eps = st.endpoints.filter((e) => e.group === g)
    const delivered = eps.reduce((a, e) => a + e.unique, 0)
    const measured = delivered - (baseline.get(g) ?? 0)
    const lastOk = Math.max(0, ...eps.map((e) => e.lastOkAt))
    const secs = Math.max(0.001, (lastOk - start) / 1000)
    const gr: GroupResult = {
      endpoints: n,
      expected: expected.get(g) ?? 0,
      delivered,
      requests: eps.reduce((a, e) => a + e.requests, 0),
      failedAnswers: eps.reduce((a, e) => a + e.failedAnswers, 0),
      duplicates: eps.reduce((a, e) => a + e.duplicates, 0),
      firstOkAt: minPositive(eps.map((e) => e.firstOkAt)),
      lastOkAt: lastOk,
      rate: lastOk > 0 ? measured / secs : 0,
      ratePerEndpoint: lastOk > 0 ? measured / secs / n : 0,
      latency: st.latency?.[g],
    }
    res.groups[g] = gr
  }
  const goalEps = st.endpoints.filter((e) => goals.includes(e.group))
  const goalDelivered =
    goalEps.reduce((a, e) => a + e.unique, 0) - goals.reduce((a, g) => a + (baseline.get(g) ?? 0), 0)
  const end = Math.max(0, ...goalEps.map((e) => e.lastOkAt))
  res.window = { startAt: start, endAt: end, seconds: Math.max(0, (end - start) / 1000) }
  res.throughput = res.window.seconds > 0 ? goalDelivered / res.window.seconds : 0
  res.latency = st.latency
  res.attempts = st.requests
  res.duplicates = st.duplicates
  res.signatures = { checked: st.signaturesChecked, bad: st.signaturesBad }
  if (st.signaturesBad > 0)
    res.notes.push(`${st.signaturesBad} of ${st.signaturesChecked} checked signatures did not verify`)
  if (st.samplesDropped > 0) res.notes.push(`${st.samplesDropped} latency samples dropped (sample cap)`)
}

async function runRaw(workload: Workload, res: RunResult, ctx: Ctx): Promise<void> {
  const sc = workload.scenario(ctx.mode)
  const p = ctx.progress
  p.phase('start')
  const urls = await ctx.receivers.configure(sc.endpoints)
  const secret = newSecret()
  await ctx.receivers.setSecret(secret)
  const raw = await RawCeiling.start()
  try {
    const counts = groupCounts(sc)
    const total = sc.events * urls.length
    const sutMeter = new CpuMeter(() => [raw.pid])
    const harnessMeter = new CpuMeter(() => ctx.receivers.pids())
    const sampler = new Sampler(() => [{ role: 'raw', pid: raw.pid }])
    const tail = bodyTail(ctx.example)
    let baseline = new Map<string, number>()
    let warmSent = 0
    let warmFailed = 0
    if (sc.warmupEvents && !sc.backlog) {
      p.phase('warm-up')
      const wr = await raw.run({
        urls,
        events: sc.warmupEvents,
        secret,
        tail,
        connectionsPerOrigin: 32,
        inFlight: Math.min(512, 32 * urls.length),
        maxMs: 30_000,
      })
      warmSent = wr.sent
      warmFailed = wr.failed
      baseline = deliveredByGroup(await ctx.receivers.stats(false))
      res.warmup = { events: sc.warmupEvents, deliveries: wr.sent }
    }
    const m0 = machineCpu()
    sutMeter.start()
    harnessMeter.start()
    p.phase('send')
    const tick = setInterval(() => {
      sampler.point(raw.done, total)
      p.detail(`sent ${raw.done}/${total}`)
    }, 250)
    let rr: Awaited<ReturnType<RawCeiling['run']>>
    try {
      rr = await raw.run({
        urls,
        events: sc.events,
        secret,
        tail,
        connectionsPerOrigin: 32,
        inFlight: Math.min(512, 32 * urls.length),
        maxMs: sc.publishMaxMs + sc.drainMaxMs,
      })
    } finally {
      clearInterval(tick)
    }
    const m1 = machineCpu()
    const sutSeconds = sutMeter.seconds()
    res.cpu = {
      sutSeconds,
      harnessSeconds: harnessMeter.seconds(),
      machineBusySeconds: m1.busy - m0.busy,
      machineSeconds: m1.total - m0.total,
      usPerDelivery: 0,
      parts: { sender: sutSeconds },
    }
    const st = await ctx.receivers.stats(false)
    sampler.point(st.unique - [...baseline.values()].reduce((a, b) => a + b, 0), total)
    res.events = { sent: rr.sent, accepted: rr.sent, rejected: {} }
    const expected = new Map<string, number>()
    for (const [g, n] of counts) expected.set(g, Math.ceil((rr.sent + warmSent) / urls.length) * n)
    const sent = rr.sent + warmSent
    const failed = rr.failed + warmFailed
    const ledger: Ledger = {
      published: sent,
      delivered: st.unique,
      failed,
      cancelled: 0,
      pending: 0,
      difference: sent - (st.unique + failed),
      balanced: false,
      exact: true,
      closedBy: 'drained',
    }
    ledger.balanced = ledger.difference === 0
    res.ledger = ledger
    if (!ledger.balanced)
      res.void = `ledger does not balance: sent ${rr.sent} ≠ delivered ${st.unique} + failed ${rr.failed}`
    if (rr.stoppedByTime) res.notes.push('stopped at its time bound')
    // Latency of the raw sender is send-to-first-byte only, not comparable with queued systems.
    fillDeliveryMetrics(res, st, sc, counts, expected, sc.backlog ? undefined : rr.startedAt, baseline)
    res.latency = undefined
    for (const g of Object.values(res.groups)) g.latency = undefined
    const measured = st.unique - [...baseline.values()].reduce((a, b) => a + b, 0)
    res.cpu.usPerDelivery = measured > 0 ? (sutSeconds / measured) * 1e6 : 0
    res.rss = { peakMb: sampler.peak(), byRole: { ...sampler.byRole } }
    res.timeline = sampler.timeline
  } finally {
    p.phase('stop')
    await raw.stop()
  }
}
