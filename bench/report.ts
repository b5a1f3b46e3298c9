// The report: a summary per workload and system (median and min–max over runs, ratios from the
// same repetition), the targets, the ledger of every run, the machine it ran on, and SVG charts.
// Written to bench/results/<timestamp>/ and copied to bench/results/latest/.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MachineInfo } from './lib/proc.ts'
import { fmtMs, fmtNum, fmtRate, histogramEdges, median, mergeHistograms, range } from './lib/stats.ts'
import { isLatencyWorkload } from './workloads/latency.ts'
import { type Mode, type RunResult, type SystemId, systemLabels, type Workload } from './workloads/types.ts'

export interface Meta {
  mode: Mode
  startedAt: string
  finishedAt: string
  wallSeconds: number
  reps: number
  machine: MachineInfo
  loadAvgEnd: number[]
  git: { commit: string; dirty: boolean }
  versions: Record<string, string>
  settings: Record<string, string>
  calibration: { fsyncInsertsPerSec: number[] }
  command: string
  notes: string[]
}

export interface Stat {
  median?: number | undefined
  min?: number | undefined
  max?: number | undefined
  n: number
}

export interface CellSummary {
  workload: string
  system: SystemId
  runs: number
  valid: number
  voided: number
  skipped?: string | undefined
  headline: Stat
  throughput: Stat
  cpuUsPerDelivery: Stat
  peakRssMb: Stat
  ingestEventsPerSec: Stat
  p50?: Stat | undefined
  p99?: Stat | undefined
  /** Hookpost ÷ this system, from runs of the same repetition. */
  ratioHookpostOver?: Stat | undefined
}

export interface TargetResult {
  id: string
  target: string
  measured: string
  status: 'pass' | 'fail' | 'not run' | 'void'
  note?: string | undefined
}

function stat(xs: (number | undefined)[]): Stat {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x))
  const r = range(v)
  return { median: median(v), min: r?.min, max: r?.max, n: v.length }
}

function isValid(r: RunResult): boolean {
  return !r.void && !r.skipped && !r.error
}

/** Per repetition: a(rep) / b(rep) where both are valid; median and range. */
function pairedRatio(
  runs: RunResult[],
  a: { w: string; s: SystemId; v: (r: RunResult) => number | undefined },
  b: { w: string; s: SystemId; v: (r: RunResult) => number | undefined },
): Stat {
  const ratios: number[] = []
  const reps = new Set(runs.map((r) => r.rep))
  for (const rep of reps) {
    const ra = runs.find((r) => r.workload === a.w && r.system === a.s && r.rep === rep && isValid(r))
    const rb = runs.find((r) => r.workload === b.w && r.system === b.s && r.rep === rep && isValid(r))
    const va = ra ? a.v(ra) : undefined
    const vb = rb ? b.v(rb) : undefined
    if (va !== undefined && vb !== undefined && vb > 0) ratios.push(va / vb)
  }
  return stat(ratios)
}

export function summarize(workloads: Workload[], runs: RunResult[]): CellSummary[] {
  const out: CellSummary[] = []
  for (const w of workloads) {
    const systems = [...new Set(runs.filter((r) => r.workload === w.id).map((r) => r.system))]
    for (const s of systems) {
      const all = runs.filter((r) => r.workload === w.id && r.system === s)
      const ok = all.filter(isValid)
      const cell: CellSummary = {
        workload: w.id,
        system: s,
        runs: all.length,
        valid: ok.length,
        voided: all.filter((r) => r.void).length,
        skipped: all.find((r) => r.skipped)?.skipped,
        headline: stat(ok.map((r) => w.headline.value(r))),
        throughput: stat(ok.map((r) => r.throughput)),
        cpuUsPerDelivery: stat(ok.map((r) => r.cpu.usPerDelivery)),
        peakRssMb: stat(ok.map((r) => r.rss.peakMb)),
        ingestEventsPerSec: stat(ok.map((r) => (s === 'raw' ? undefined : r.ingest?.eventsPerSec))),
      }
      if (s !== 'raw') {
        cell.p50 = stat(ok.map((r) => r.latency?.['all']?.p50))
        cell.p99 = stat(ok.map((r) => r.latency?.['all']?.p99))
      }
      if (s !== 'hookpost' && systems.includes('hookpost')) {
        const v = (r: RunResult) => w.headline.value(r)
        cell.ratioHookpostOver = pairedRatio(runs, { w: w.id, s: 'hookpost', v }, { w: w.id, s, v })
        if (!w.headline.higherIsBetter && cell.ratioHookpostOver.median !== undefined) {
          // Lower is better (latency): report how many times lower Hookpost's value is.
          cell.ratioHookpostOver = pairedRatio(runs, { w: w.id, s, v }, { w: w.id, s: 'hookpost', v })
        }
      }
      out.push(cell)
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Targets (issue: on SQLite unless said; ratios from one run).

export function evaluateTargets(runs: RunResult[], mode: Mode): TargetResult[] {
  const thr = (r: RunResult) => r.throughput
  const has = (w: string, s: SystemId) => runs.some((r) => r.workload === w && r.system === s && isValid(r))
  const ran = (w: string, s: SystemId) => runs.some((r) => r.workload === w && r.system === s)
  const out: TargetResult[] = []
  const ratioTarget = (
    id: string,
    target: string,
    w: string,
    a: SystemId,
    b: SystemId,
    min: number,
    v: (r: RunResult) => number | undefined = thr,
    bw = w,
  ) => {
    if (!ran(w, a) || !ran(bw, b)) {
      out.push({ id, target, measured: '–', status: 'not run' })
      return
    }
    if (!has(w, a) || !has(bw, b)) {
      out.push({
        id,
        target,
        measured: '–',
        status: 'void',
        note: 'no valid run pair (see the ledger and skipped runs)',
      })
      return
    }
    const s = pairedRatio(runs, { w, s: a, v }, { w: bw, s: b, v })
    if (s.median === undefined) {
      out.push({ id, target, measured: '–', status: 'void', note: 'no repetition with both valid' })
      return
    }
    out.push({
      id,
      target,
      measured: `${s.median.toFixed(2)}× (${fmtNum(s.min, 2)}–${fmtNum(s.max, 2)}, ${s.n} runs)`,
      status: s.median >= min ? 'pass' : 'fail',
    })
  }
  ratioTarget('T1', 'fan-out throughput ≥ 60 % of the raw ceiling', 'fanout', 'hookpost', 'raw', 0.6)
  ratioTarget('T2', 'fan-out ≥ 3× BullMQ tuned', 'fanout', 'hookpost', 'bullmq-tuned', 3)
  ratioTarget('T3', 'fan-out ≥ 6× BullMQ naive', 'fanout', 'hookpost', 'bullmq-naive', 6)
  const latencyTarget = (
    id: string,
    target: string,
    w: string,
    system: SystemId,
    p99Max: number,
    p50Max?: number,
  ) => {
    const lat = runs.filter((r) => r.workload === w && r.system === system)
    const ok = lat.filter(isValid)
    if (lat.length === 0) out.push({ id, target, measured: '–', status: 'not run' })
    else if (ok.length === 0) out.push({ id, target, measured: '–', status: 'void' })
    else {
      const s = stat(ok.map((r) => r.latency?.['all']?.p99))
      const p50 = stat(ok.map((r) => r.latency?.['all']?.p50))
      const inf = Number.POSITIVE_INFINITY
      out.push({
        id,
        target,
        measured: `p99 ${fmtMs(s.median)} (${fmtMs(s.min)}–${fmtMs(s.max)}), p50 ${fmtMs(p50.median)}`,
        status:
          (s.median ?? inf) <= p99Max && (p50Max === undefined || (p50.median ?? inf) <= p50Max)
            ? 'pass'
            : 'fail',
      })
    }
  }
  latencyTarget(
    'T4',
    'publish→received p99 ≤ 25 ms at 1,000 events/s (10,000 deliveries/s)',
    'latency',
    'hookpost',
    25,
  )
  ratioTarget(
    'T5',
    'with 10 % slow endpoints, healthy endpoints keep ≥ 95 % of their fan-out rate',
    'slow',
    'hookpost',
    'hookpost',
    0.95,
    (r) => r.groups['healthy']?.ratePerEndpoint,
    'fanout',
  )
  {
    const id = 'T6'
    const target = 'backlog of 1 M pending: peak RSS < 300 MB while draining'
    const b = runs.filter((r) => r.workload === 'backlog' && r.system === 'hookpost')
    const ok = b.filter(isValid)
    if (b.length === 0) out.push({ id, target, measured: '–', status: 'not run' })
    else if (ok.length === 0) out.push({ id, target, measured: '–', status: 'void' })
    else {
      const peak = Math.max(...ok.map((r) => r.rss.peakMb))
      const queued = median(ok.map((r) => r.backlog?.deliveriesQueued ?? 0)) ?? 0
      out.push({
        id,
        target,
        measured: `${peak.toFixed(0)} MB (worst run), backlog ${fmtRate(queued)} deliveries`,
        status: peak < 300 ? 'pass' : 'fail',
        note:
          queued < 1_000_000 ? `measured on a ${fmtRate(queued)} backlog, not 1 M (${mode} mode)` : undefined,
      })
    }
  }
  ratioTarget('T7', 'backlog drain ≥ 50 % of the raw ceiling', 'backlog', 'hookpost', 'raw', 0.5)
  // The same targets for SQLite deployed as an API process and a worker process (one database
  // file): reported beside the single process, never instead of it.
  if (runs.some((r) => r.system === 'hookpost-split')) {
    const split = 'SQLite, API + worker processes:'
    ratioTarget('T1s', `${split} fan-out ≥ 60 % of the raw ceiling`, 'fanout', 'hookpost-split', 'raw', 0.6)
    ratioTarget('T2s', `${split} fan-out ≥ 3× BullMQ tuned`, 'fanout', 'hookpost-split', 'bullmq-tuned', 3)
    ratioTarget('T3s', `${split} fan-out ≥ 6× BullMQ naive`, 'fanout', 'hookpost-split', 'bullmq-naive', 6)
    ratioTarget(
      'T7s',
      `${split} backlog drain ≥ 50 % of the raw ceiling`,
      'backlog',
      'hookpost-split',
      'raw',
      0.5,
    )
  }
  ratioTarget(
    'T8',
    'PostgreSQL, 1 worker: fan-out ≥ 50 % of SQLite',
    'fanout',
    'hookpost-pg-w1',
    'hookpost',
    0.5,
  )
  latencyTarget(
    'T9',
    'PostgreSQL, 1 worker: publish→received p50 ≤ 10 ms and p99 ≤ 50 ms at 300 events/s',
    'latency-300',
    'hookpost-pg-w1',
    50,
    10,
  )
  ratioTarget(
    'T10',
    '4 publishers through POST /events/batch: fan-out ≥ 60 % of the raw ceiling',
    'fanout-batch',
    'hookpost',
    'raw',
    0.6,
  )
  // T11: the SUT CPU a small transformation adds per delivery, per repetition (same machine state).
  {
    const id = 'T11'
    const target = 'a small transformation adds ≤ 100 µs of CPU per delivery (fanout-transform − fanout)'
    const pairs = runs
      .filter((r) => r.workload === 'fanout-transform' && r.system === 'hookpost' && isValid(r))
      .flatMap((t) => {
        const plain = runs.find(
          (r) => r.workload === 'fanout' && r.system === 'hookpost' && r.rep === t.rep && isValid(r),
        )
        return plain ? [t.cpu.usPerDelivery - plain.cpu.usPerDelivery] : []
      })
    if (!ran('fanout-transform', 'hookpost') || !ran('fanout', 'hookpost'))
      out.push({ id, target, measured: '–', status: 'not run' })
    else if (pairs.length === 0)
      out.push({ id, target, measured: '–', status: 'void', note: 'no repetition with both valid' })
    else {
      const d = stat(pairs)
      out.push({
        id,
        target,
        measured: `+${fmtNum(d.median, 1)} µs (${fmtNum(d.min, 1)}–${fmtNum(d.max, 1)}, ${d.n} runs)`,
        status: (d.median ?? Number.POSITIVE_INFINITY) <= 100 ? 'pass' : 'fail',
      })
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Markdown.

function cellStat(s: Stat, f: (x: number | undefined) => string): string {
  if (s.n === 0) return '–'
  if (s.n === 1 || s.min === s.max) return f(s.median)
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`
}

function ratioText(s: Stat | undefined): string {
  if (!s || s.n === 0) return '–'
  return `${fmtNum(s.median, 2)}× (${fmtNum(s.min, 2)}–${fmtNum(s.max, 2)})`
}

const statusMark: Record<TargetResult['status'], string> = {
  pass: '✅ pass',
  fail: '❌ fail',
  'not run': '– not run',
  void: '⚠️ void',
}

export function markdown(
  meta: Meta,
  workloads: Workload[],
  runs: RunResult[],
  cells: CellSummary[],
  targets: TargetResult[],
): string {
  const L: string[] = []
  const m = meta.machine
  L.push(`# Hookpost benchmark: ${meta.mode} mode, ${meta.startedAt.slice(0, 19).replace('T', ' ')} UTC`)
  L.push('')
  if (meta.mode === 'quick')
    L.push(
      '> Quick mode: short runs, small backlog. A smoke test of the harness and a rough picture; the numbers that count come from `npm run bench -- --full` on a quiet machine.',
    )
  L.push('')
  L.push(
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGb} GiB, ${m.os}, kernel ${m.kernel}, Node ${m.node}. ` +
      `Load average at start ${m.loadAvgStart.join(' / ')}, at end ${meta.loadAvgEnd.join(' / ')}. ` +
      `Commit ${meta.git.commit.slice(0, 12)}${meta.git.dirty ? ' (with uncommitted changes)' : ''}. ` +
      `${meta.reps} runs per cell, interleaved ABBA; wall time ${Math.round(meta.wallSeconds)} s.`,
  )
  L.push('')
  L.push(
    `Versions: ${Object.entries(meta.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  )
  L.push('')
  L.push(
    `Settings: ${Object.entries(meta.settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('; ')}.`,
  )
  L.push('')
  if (meta.calibration.fsyncInsertsPerSec.length > 0)
    L.push(
      `Calibration: SQLite synchronous=FULL single-row inserts (the disk's fsync rate): ${meta.calibration.fsyncInsertsPerSec.map((x) => fmtRate(x)).join(' → ')} /s (start → end).`,
    )
  L.push('')
  const voided = runs.filter((r) => r.void)
  const skipped = [...new Set(runs.filter((r) => r.skipped).map((r) => `${r.system}: ${r.skipped}`))]
  if (voided.length > 0) {
    L.push(
      `**${voided.length} run(s) are VOID** (their ledger did not balance or they failed); they are left out of every median:`,
    )
    L.push('')
    for (const r of voided) L.push(`- ${r.workload} / ${r.system} / run ${r.rep + 1}: ${r.void}`)
    L.push('')
  }
  if (skipped.length > 0) {
    L.push('**Not run:**')
    L.push('')
    for (const s of skipped) L.push(`- ${s}`)
    L.push('')
  }
  for (const n of meta.notes) L.push(`- ${n}`)
  if (meta.notes.length > 0) L.push('')

  L.push('## Targets')
  L.push('')
  L.push('| | Target | Measured (median, min–max over runs) | Result |')
  L.push('|---|---|---|---|')
  for (const t of targets)
    L.push(
      `| ${t.id} | ${t.target} | ${t.measured}${t.note ? ` — ${t.note}` : ''} | ${statusMark[t.status]} |`,
    )
  L.push('')
  L.push('Ratios are taken within one repetition (same machine state), then the median over repetitions.')
  L.push('')

  L.push('## Results')
  L.push('')
  L.push('![throughput](throughput.svg)')
  L.push('')
  for (const w of workloads) {
    const cs = cells.filter((c) => c.workload === w.id)
    if (cs.length === 0) continue
    const sc = w.scenario(meta.mode)
    L.push(`### ${w.title}`)
    L.push('')
    L.push(
      `${w.question} ${sc.events.toLocaleString('en')} events × ${sc.endpoints.length} endpoints, ${
        sc.publish.mode === 'closed'
          ? `closed loop, ${sc.publish.concurrency} publish requests in flight${sc.publish.batch ? ` (POST /events/batch, ${sc.publish.batch} events each)` : ''}`
          : `open loop at ${sc.publish.rate}/s, first ${sc.publish.warmupMs} ms discarded`
      }.`,
    )
    L.push('')
    L.push(
      `| System | ${w.headline.label} | Hookpost ÷ system | SUT CPU µs/delivery | peak RSS MB | ingest events/s | delivery p50 / p99 | valid runs |`,
    )
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|')
    for (const c of cs) {
      const head =
        w.headline.unit === 'ms' ? cellStat(c.headline, fmtMs) : cellStat(c.headline, (x) => fmtRate(x))
      const lat = c.p50 && c.p50.n > 0 ? `${fmtMs(c.p50.median)} / ${fmtMs(c.p99?.median)}` : '–'
      const valid = c.skipped ? `not run` : `${c.valid}/${c.runs}${c.voided ? ` (${c.voided} void)` : ''}`
      L.push(
        `| ${systemLabels[c.system]} | ${head} | ${c.system === 'hookpost' ? '1' : ratioText(c.ratioHookpostOver)} | ${cellStat(c.cpuUsPerDelivery, (x) => fmtNum(x, 0))} | ${cellStat(c.peakRssMb, (x) => fmtNum(x, 0))} | ${cellStat(c.ingestEventsPerSec, (x) => fmtRate(x))} | ${lat} | ${valid} |`,
      )
    }
    L.push('')
    L.push(...workloadDetails(w, runs))
  }
  L.push('## Latency distributions')
  L.push('')
  L.push('![latency](latency.svg)')
  L.push('')
  L.push('## Backlog drain over time')
  L.push('')
  L.push('![drain](drain.svg)')
  L.push('')

  L.push('## Service-side problems')
  L.push('')
  const probs = runs.filter((r) => r.problems && (r.problems.errors > 0 || r.problems.warnings > 0))
  if (probs.length === 0) L.push('No errors or warnings in the services’ logs (log level warn).')
  for (const r of probs) {
    L.push(
      `- ${r.workload} / ${r.system} / run ${r.rep + 1}: ${r.problems!.errors} error(s), ${r.problems!.warnings} warning(s): ${r.problems!.samples.slice(0, 4).join(' | ')}`,
    )
  }
  const noted = runs.filter((r) => r.notes.length > 0 || r.error)
  if (noted.length > 0) {
    L.push('')
    L.push('Notes from the runs:')
    L.push('')
    for (const r of noted)
      L.push(
        `- ${r.workload} / ${r.system} / run ${r.rep + 1}: ${[...r.notes, ...(r.error ? [r.error.split('\n')[0]] : [])].join('; ')}`,
      )
  }
  L.push('')

  L.push('## Ledger of every run')
  L.push('')
  L.push(
    'published = delivered (unique, at the receivers) + failed + cancelled + pending. A run whose ledger does not balance is void.',
  )
  L.push('')
  L.push(
    '| Workload | System | Run | Published | Delivered | Failed | Cancelled | Pending | Difference | Closed by | Duplicates | SUT CPU µs/delivery | Status |',
  )
  L.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|')
  for (const r of runs) {
    const l = r.ledger
    const status = r.skipped ? 'not run' : r.void ? 'VOID' : 'balanced'
    const failedNote = l?.expectedFailed !== undefined ? ` (expected ${l.expectedFailed})` : ''
    L.push(
      `| ${r.workload} | ${r.system} | ${r.rep + 1} | ${l?.published ?? '–'} | ${l?.delivered ?? '–'} | ${l ? `${l.failed}${failedNote}` : '–'} | ${l?.cancelled ?? '–'} | ${l?.pending ?? '–'} | ${l?.difference ?? '–'} | ${l?.closedBy ?? '–'} | ${r.duplicates} | ${r.skipped ? '–' : fmtNum(r.cpu.usPerDelivery, 0)} | ${status} |`,
    )
  }
  L.push('')
  L.push('## How to read this')
  L.push('')
  L.push(
    '- **deliveries/s**: unique deliveries acknowledged 2xx at the receivers, divided by the time from the first publish to the last delivery (backlog: first to last delivery of the drain).',
  )
  L.push(
    '- **SUT CPU µs/delivery**: user+system CPU of the system under test (Hookpost processes; BullMQ process plus Redis; for PostgreSQL every postgres process on the box) over the run, divided by deliveries. The load generator and receivers are not included.',
  )
  L.push('- **peak RSS**: VmHWM of the service process(es); Redis/PostgreSQL are not included.')
  L.push(
    '- **latency**: t3 (first byte at the receiver) − t0 (the time the event was scheduled to be published), per delivery, first successful arrival only. Percentiles are per run; the table shows their median over runs.',
  )
  L.push('- Method and caveats: docs/benchmarks.md.')
  L.push('')
  return L.join('\n')
}

/** The SUT's CPU per delivery over these runs: median (min–max). */
function cpuCell(rs: RunResult[]): string {
  return cellStat(stat(rs.map((r) => r.cpu.usPerDelivery)), (x) => fmtNum(x, 0))
}

/** Per repetition: a(rep) − b(rep) where both are valid; median and range. */
function pairedDifference(
  runs: RunResult[],
  a: { w: string; s: SystemId },
  b: { w: string; s: SystemId },
  v: (r: RunResult) => number | undefined,
): Stat {
  const out: number[] = []
  for (const rep of new Set(runs.map((r) => r.rep))) {
    const ra = runs.find((r) => r.workload === a.w && r.system === a.s && r.rep === rep && isValid(r))
    const rb = runs.find((r) => r.workload === b.w && r.system === b.s && r.rep === rep && isValid(r))
    const va = ra ? v(ra) : undefined
    const vb = rb ? v(rb) : undefined
    if (va !== undefined && vb !== undefined) out.push(va - vb)
  }
  return stat(out)
}

function workloadDetails(w: Workload, runs: RunResult[]): string[] {
  const L: string[] = []
  if (w.id === 'fanout-filtered') {
    for (const s of ['hookpost', 'hookpost-pg-w1'] as const) {
      const d = pairedDifference(runs, { w: w.id, s }, { w: 'fanout', s }, (r) => r.cpu.usPerDelivery)
      if (d.n === 0) continue
      L.push(
        `**Filter cost, ${systemLabels[s]}**: SUT CPU µs/delivery with the filter minus without (plain fan-out, same repetition): ${cellStat(d, (x) => fmtNum(x, 1))} (target ≤ 5 µs).`,
      )
      L.push('')
    }
  }
  const hp = runs.filter((r) => r.workload === w.id && isValid(r))
  const bySystem = [...new Set(hp.map((r) => r.system))]
  if (w.id === 'slow' || w.id === 'failing') {
    L.push(
      '| System | group | endpoints | delivered / expected | deliveries/s per endpoint | attempts per delivery | p50 / p99 | SUT CPU µs/delivery (all groups) |',
    )
    L.push('|---|---|---:|---:|---:|---:|---:|---:|')
    for (const s of bySystem) {
      const rs = hp.filter((r) => r.system === s)
      const groups = [...new Set(rs.flatMap((r) => Object.keys(r.groups)))]
      for (const g of groups) {
        const gs = rs.map((r) => r.groups[g]).filter((x) => x !== undefined)
        const del = median(gs.map((x) => x.delivered))
        const exp = median(gs.map((x) => x.expected))
        const per = stat(gs.map((x) => x.ratePerEndpoint))
        const amp = median(gs.map((x) => (x.delivered > 0 ? x.requests / x.delivered : Number.NaN)))
        const p50 = median(gs.map((x) => x.latency?.p50 ?? Number.NaN))
        const p99 = median(gs.map((x) => x.latency?.p99 ?? Number.NaN))
        L.push(
          `| ${systemLabels[s]} | ${g} | ${gs[0]?.endpoints ?? '–'} | ${fmtNum(del)} / ${fmtNum(exp)} | ${cellStat(per, (x) => fmtNum(x, 0))} | ${fmtNum(amp, 2)} | ${fmtMs(p50)} / ${fmtMs(p99)} | ${cpuCell(rs)} |`,
        )
      }
    }
    L.push('')
    if (w.id === 'failing') {
      const f = hp.filter((r) => r.ledger?.failedAsExpected !== undefined)
      const okN = f.filter((r) => r.ledger?.failedAsExpected).length
      L.push(
        `Failed deliveries equal to the always-failing endpoint's share in ${okN} of ${f.length} valid runs.`,
      )
      L.push('')
    }
  }
  if (w.id === 'backlog') {
    L.push(
      '| System | queued deliveries | ingest events/s while queuing | ingest peak RSS MB | drain deliveries/s | drain peak RSS MB | drain SUT CPU µs/delivery |',
    )
    L.push('|---|---:|---:|---:|---:|---:|---:|')
    for (const s of bySystem) {
      const rs = hp.filter((r) => r.system === s)
      L.push(
        `| ${systemLabels[s]} | ${fmtNum(median(rs.map((r) => r.ledger?.published ?? 0)))} | ${s === 'raw' ? '–' : cellStat(stat(rs.map((r) => r.backlog?.ingestEventsPerSec)), (x) => fmtRate(x))} | ${s === 'raw' ? '–' : cellStat(stat(rs.map((r) => r.backlog?.ingestPeakRssMb)), (x) => fmtNum(x, 0))} | ${cellStat(stat(rs.map((r) => r.throughput)), (x) => fmtRate(x))} | ${cellStat(stat(rs.map((r) => r.rss.peakMb)), (x) => fmtNum(x, 0))} | ${cpuCell(rs)} |`,
      )
    }
    L.push('')
  }
  if (isLatencyWorkload(w.id)) {
    L.push(
      '| System | p50 | p90 | p99 | p99.9 | max | ingest p99 (t2 − t0) | generator lag p99 | SUT CPU µs/delivery |',
    )
    L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const s of bySystem) {
      const rs = hp.filter((r) => r.system === s)
      const q = (f: (r: RunResult) => number | undefined) => cellStat(stat(rs.map(f)), fmtMs)
      L.push(
        `| ${systemLabels[s]} | ${q((r) => r.latency?.['all']?.p50)} | ${q((r) => r.latency?.['all']?.p90)} | ${q((r) => r.latency?.['all']?.p99)} | ${q((r) => r.latency?.['all']?.p999)} | ${q((r) => r.latency?.['all']?.max)} | ${q((r) => r.ingest?.p99)} | ${q((r) => r.ingest?.lagP99)} | ${cpuCell(rs)} |`,
      )
    }
    L.push('')
  }
  return L
}

// ---------------------------------------------------------------------------------------------
// SVG charts.

const palette: Record<SystemId, string> = {
  hookpost: '#2563eb',
  'hookpost-split': '#7c3aed',
  'hookpost-pg-w1': '#0891b2',
  'hookpost-pg-w2': '#0d9488',
  'hookpost-pg-w4': '#16a34a',
  raw: '#6b7280',
  'bullmq-naive': '#dc2626',
  'bullmq-tuned': '#f59e0b',
}

const shortLabels: Record<SystemId, string> = {
  hookpost: 'Hookpost (SQLite)',
  'hookpost-split': 'Hookpost (SQLite, 2 processes)',
  'hookpost-pg-w1': 'Hookpost (PG, 1 worker)',
  'hookpost-pg-w2': 'Hookpost (PG, 2 workers)',
  'hookpost-pg-w4': 'Hookpost (PG, 4 workers)',
  raw: 'Raw ceiling',
  'bullmq-naive': 'BullMQ naive',
  'bullmq-tuned': 'BullMQ tuned',
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function svgDoc(w: number, h: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
  ].join('\n')
}

function niceMax(x: number): number {
  if (!(x > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(x))
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= x) return m * p
  return 10 * p
}

/** Horizontal bars per workload: median per system with a min–max whisker. */
export function throughputSvg(workloads: Workload[], cells: CellSummary[]): string {
  const panels = workloads
    .filter((w) => w.headline.higherIsBetter && w.headline.label.includes('deliveries/s'))
    .map((w) => ({ w, cs: cells.filter((c) => c.workload === w.id && c.headline.n > 0) }))
    .filter((p) => p.cs.length > 0)
  const width = 860
  const labelW = 250
  const barH = 22
  const body: string[] = []
  let y = 30
  body.push(
    `<text x="16" y="20" font-size="15" font-weight="600">Throughput per system (median, whisker = min–max over runs)</text>`,
  )
  for (const { w, cs } of panels) {
    y += 18
    body.push(
      `<text x="16" y="${y}" font-size="13" font-weight="600">${esc(w.title)} — ${esc(w.headline.label)}</text>`,
    )
    y += 8
    const max = niceMax(Math.max(...cs.map((c) => c.headline.max ?? 0)))
    const plotW = width - labelW - 90
    for (const c of cs) {
      const x0 = labelW
      const v = c.headline.median ?? 0
      const bw = (v / max) * plotW
      body.push(
        `<text x="${labelW - 8}" y="${y + barH / 2 + 4}" text-anchor="end">${esc(systemLabels[c.system])}</text>`,
      )
      body.push(
        `<rect x="${x0}" y="${y}" width="${bw.toFixed(1)}" height="${barH}" fill="${palette[c.system]}" rx="2"/>`,
      )
      if (c.headline.min !== undefined && c.headline.max !== undefined && c.headline.n > 1) {
        const a = x0 + (c.headline.min / max) * plotW
        const b = x0 + (c.headline.max / max) * plotW
        const cy = y + barH / 2
        body.push(
          `<line x1="${a.toFixed(1)}" y1="${cy}" x2="${b.toFixed(1)}" y2="${cy}" stroke="#111" stroke-width="1.2"/>`,
        )
        body.push(
          `<line x1="${a.toFixed(1)}" y1="${cy - 5}" x2="${a.toFixed(1)}" y2="${cy + 5}" stroke="#111"/>`,
        )
        body.push(
          `<line x1="${b.toFixed(1)}" y1="${cy - 5}" x2="${b.toFixed(1)}" y2="${cy + 5}" stroke="#111"/>`,
        )
      }
      const labelX = x0 + Math.max(bw, c.headline.max !== undefined ? (c.headline.max / max) * plotW : 0) + 6
      body.push(`<text x="${labelX.toFixed(1)}" y="${y + barH / 2 + 4}">${fmtRate(v)}/s</text>`)
      y += barH + 6
    }
    y += 6
  }
  if (panels.length === 0) body.push(`<text x="16" y="60">No throughput results.</text>`)
  return svgDoc(width, y + 16, body)
}

/** Cumulative distribution of delivery latency (log x), all valid runs of a system merged. */
export function latencySvg(runs: RunResult[]): string {
  const width = 860
  const height = 420
  const m = { l: 60, r: 220, t: 40, b: 50 }
  const pw = width - m.l - m.r
  const ph = height - m.t - m.b
  const series: {
    label: string
    color: string
    cdf: { x: number; y: number }[]
    p99?: number | undefined
  }[] = []
  const workloadOrder = ['latency', 'fanout', 'slow']
  for (const w of workloadOrder) {
    const rs = runs.filter((r) => r.workload === w && isValid(r) && r.latency?.['all'])
    const systems = [...new Set(rs.map((r) => r.system))]
    for (const s of systems) {
      const hs = rs.filter((r) => r.system === s).map((r) => r.latency!['all']!.histogram)
      const h = mergeHistograms(hs)
      const total = h.reduce((a, b) => a + b, 0)
      if (total === 0) continue
      let acc = 0
      const cdf: { x: number; y: number }[] = []
      h.forEach((c, i) => {
        acc += c
        const edge = histogramEdges[i]!
        if (Number.isFinite(edge) && c > 0) cdf.push({ x: edge, y: acc / total })
      })
      series.push({
        label: `${shortLabels[s]}${w === 'latency' ? '' : ` (${w})`}`,
        color: palette[s],
        cdf,
        p99: median(rs.filter((r) => r.system === s).map((r) => r.latency?.['all']?.p99 ?? Number.NaN)),
      })
    }
    if (series.length > 0 && w === 'latency') break
  }
  const body: string[] = []
  body.push(
    `<text x="16" y="22" font-size="15" font-weight="600">Delivery latency, publish (scheduled) → first byte at the receiver</text>`,
  )
  // x: log scale over the decades the data covers; y: percentile scale (0, 90, 99, 99.9 % equally
  // spaced), so that the tail is as visible as the median.
  const lo = Math.min(...series.flatMap((s) => s.cdf.map((p) => p.x)), 1)
  const hi = Math.max(...series.flatMap((s) => s.cdf.map((p) => p.x)), 100)
  const xmin = Math.max(-2, Math.floor(Math.log10(lo)) - 0)
  const xmax = Math.min(5, Math.ceil(Math.log10(hi)))
  const X = (ms: number) =>
    m.l + ((Math.min(xmax, Math.max(xmin, Math.log10(Math.max(ms, 1e-3)))) - xmin) / (xmax - xmin)) * pw
  const Y = (f: number) => m.t + (1 - Math.min(3, -Math.log10(Math.max(1e-3, 1 - f))) / 3) * ph
  for (let e = xmin; e <= xmax; e++) {
    const x = X(10 ** e)
    body.push(`<line x1="${x}" y1="${m.t}" x2="${x}" y2="${m.t + ph}" stroke="#e5e7eb"/>`)
    body.push(`<text x="${x}" y="${m.t + ph + 16}" text-anchor="middle">${fmtMs(10 ** e)}</text>`)
  }
  for (const [f, label] of [
    [0, '0 %'],
    [0.5, 'p50'],
    [0.9, 'p90'],
    [0.99, 'p99'],
    [0.999, 'p99.9'],
  ] as const) {
    const y = Y(f)
    body.push(
      `<line x1="${m.l}" y1="${y}" x2="${m.l + pw}" y2="${y}" stroke="${f === 0.99 ? '#fca5a5' : '#e5e7eb'}"/>`,
    )
    body.push(`<text x="${m.l - 6}" y="${y + 4}" text-anchor="end">${label}</text>`)
  }
  body.push(
    `<text x="${m.l + pw / 2}" y="${height - 12}" text-anchor="middle">latency (log scale); y: share of deliveries at or below</text>`,
  )
  series.forEach((s, i) => {
    const pts = s.cdf.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')
    body.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"/>`)
    const ly = m.t + 10 + i * 34
    body.push(`<rect x="${m.l + pw + 14}" y="${ly - 8}" width="12" height="12" fill="${s.color}"/>`)
    body.push(`<text x="${m.l + pw + 30}" y="${ly + 2}" font-size="11">${esc(s.label)}</text>`)
    body.push(
      `<text x="${m.l + pw + 30}" y="${ly + 16}" font-size="11" fill="#555">p99 ${fmtMs(s.p99)}</text>`,
    )
  })
  if (series.length === 0) body.push(`<text x="${m.l + 20}" y="${m.t + 30}">No latency results.</text>`)
  return svgDoc(width, height, body)
}

/** Pending deliveries over time during the backlog drain (the median run of each system). */
export function drainSvg(runs: RunResult[]): string {
  const width = 860
  const m = { l: 70, r: 70, t: 40, b: 60 }
  const pw = width - m.l - m.r
  const ph = 320
  const rs = runs.filter((r) => r.workload === 'backlog' && isValid(r) && (r.timeline?.length ?? 0) > 1)
  const systems = [...new Set(rs.map((r) => r.system))]
  const picked: RunResult[] = []
  const height = m.t + ph + m.b + 22 * Math.max(1, systems.length) + 16
  for (const s of systems) {
    const list = rs.filter((r) => r.system === s).sort((a, b) => a.throughput - b.throughput)
    const mid = list[Math.floor((list.length - 1) / 2)]
    if (mid) picked.push(mid)
  }
  const body: string[] = []
  body.push(
    `<text x="16" y="22" font-size="15" font-weight="600">Backlog drain: deliveries still pending over time (median run)</text>`,
  )
  if (picked.length === 0) {
    body.push(`<text x="${m.l + 20}" y="${m.t + 30}">No backlog results.</text>`)
    return svgDoc(width, height, body)
  }
  const tmax = niceMax(Math.max(...picked.map((r) => r.timeline!.at(-1)!.t)))
  const ymax = niceMax(Math.max(...picked.map((r) => r.ledger?.published ?? r.timeline![0]!.pending)))
  const rssMax = niceMax(Math.max(1, ...picked.map((r) => Math.max(...r.timeline!.map((p) => p.rssMb)))))
  const X = (t: number) => m.l + (t / tmax) * pw
  const Y = (v: number) => m.t + (1 - v / ymax) * ph
  const YR = (v: number) => m.t + (1 - v / rssMax) * ph
  for (let i = 0; i <= 5; i++) {
    const t = (tmax * i) / 5
    body.push(`<line x1="${X(t)}" y1="${m.t}" x2="${X(t)}" y2="${m.t + ph}" stroke="#e5e7eb"/>`)
    body.push(
      `<text x="${X(t)}" y="${m.t + ph + 16}" text-anchor="middle">${fmtNum(t, t < 10 ? 1 : 0)} s</text>`,
    )
    const v = (ymax * i) / 5
    body.push(`<line x1="${m.l}" y1="${Y(v)}" x2="${m.l + pw}" y2="${Y(v)}" stroke="#e5e7eb"/>`)
    body.push(`<text x="${m.l - 6}" y="${Y(v) + 4}" text-anchor="end">${fmtRate(v)}</text>`)
    const rv = (rssMax * i) / 5
    body.push(
      `<text x="${m.l + pw + 6}" y="${YR(rv) + 4}" fill="#9ca3af" font-size="10">${fmtNum(rv)} MB</text>`,
    )
  }
  body.push(
    `<text x="${m.l + pw / 2}" y="${m.t + ph + 34}" text-anchor="middle">seconds since the workers were started (raw: since sending began)</text>`,
  )
  picked.forEach((r, i) => {
    const pts = r.timeline!.map((p) => `${X(p.t).toFixed(1)},${Y(p.pending).toFixed(1)}`).join(' ')
    body.push(`<polyline points="${pts}" fill="none" stroke="${palette[r.system]}" stroke-width="2"/>`)
    if (r.system !== 'raw') {
      const rp = r.timeline!.map((p) => `${X(p.t).toFixed(1)},${YR(p.rssMb).toFixed(1)}`).join(' ')
      body.push(
        `<polyline points="${rp}" fill="none" stroke="${palette[r.system]}" stroke-width="1" stroke-dasharray="4 3" opacity="0.7"/>`,
      )
    }
    const ly = m.t + ph + m.b + i * 22
    body.push(`<rect x="${m.l}" y="${ly - 9}" width="12" height="12" fill="${palette[r.system]}"/>`)
    body.push(
      `<text x="${m.l + 18}" y="${ly + 1}">${esc(systemLabels[r.system])}: ${fmtRate(r.throughput)} deliveries/s, ${fmtRate(r.ledger?.published)} queued, peak RSS ${fmtNum(r.rss.peakMb)} MB</text>`,
    )
  })
  body.push(
    `<text x="${m.l + pw}" y="${m.t - 8}" font-size="10" fill="#6b7280" text-anchor="end">solid: pending deliveries (left) · dashed: service RSS (right)</text>`,
  )
  return svgDoc(width, height, body)
}

// ---------------------------------------------------------------------------------------------

/** The directory of one run's results: bench/results/<timestamp>-<mode>. */
export function runDirOf(resultsRoot: string, startedAt: string, mode: Mode): string {
  return join(resultsRoot, `${startedAt.replace(/[:.]/g, '-').slice(0, 19)}-${mode}`)
}

export function writeReport(
  resultsRoot: string,
  meta: Meta,
  workloads: Workload[],
  runs: RunResult[],
): { dir: string; latest: string; markdown: string } {
  const cells = summarize(workloads, runs)
  const targets = evaluateTargets(runs, meta.mode)
  const md = markdown(meta, workloads, runs, cells, targets)
  const dir = runDirOf(resultsRoot, meta.startedAt, meta.mode)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'report.md'), md)
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify({ meta, targets, cells, runs }, null, 1)}\n`)
  writeFileSync(join(dir, 'throughput.svg'), throughputSvg(workloads, cells))
  writeFileSync(join(dir, 'latency.svg'), latencySvg(runs))
  writeFileSync(join(dir, 'drain.svg'), drainSvg(runs))
  const latest = join(resultsRoot, 'latest')
  rmSync(latest, { recursive: true, force: true })
  cpSync(dir, latest, { recursive: true })
  return { dir, latest, markdown: md }
}
