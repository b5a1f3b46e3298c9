// The shapes shared by the workloads, the runner and the report.
import type { LatencySummary } from '../lib/stats.ts'
import type { EndpointSpec } from '../receiver.ts'
import type { LogProblems } from '../service.ts'

export type SystemId =
  | 'hookpost'
  | 'hookpost-split'
  | 'hookpost-pg-w1'
  | 'hookpost-pg-w2'
  | 'hookpost-pg-w4'
  | 'raw'
  | 'bullmq-naive'
  | 'bullmq-tuned'

export const systemLabels: Record<SystemId, string> = {
  hookpost: 'Hookpost (SQLite)',
  'hookpost-split': 'Hookpost (SQLite, API + worker processes)',
  'hookpost-pg-w1': 'Hookpost (PostgreSQL, 1 worker)',
  'hookpost-pg-w2': 'Hookpost (PostgreSQL, 2 workers)',
  'hookpost-pg-w4': 'Hookpost (PostgreSQL, 4 workers)',
  raw: 'Raw ceiling (undici Pool, no storage)',
  'bullmq-naive': 'BullMQ naive (add + fetch)',
  'bullmq-tuned': 'BullMQ tuned (addBulk + undici)',
}

export type Mode = 'quick' | 'full'

export interface Scenario {
  endpoints: EndpointSpec[]
  /** Events to publish (each goes to every endpoint). */
  events: number
  publish:
    | {
        mode: 'closed'
        concurrency: number
        /** Events per request through POST /events/batch; absent: one event per POST /events. */
        batch?: number
      }
    | { mode: 'open'; rate: number; warmupMs: number }
  /**
   * Closed loop only: events published (and delivered) before the measured phase, so that the
   * numbers are not those of a cold process. They are in the ledger, not in the rates.
   */
  warmupEvents?: number
  publishMaxMs: number
  drainMaxMs: number
  /** Groups whose deliveries must all arrive before the run ends; default all but expectFail. */
  waitFor?: string[]
  /** Groups whose deliveries are expected to end failed (retries exhausted). */
  expectFail?: string[]
  /** Ingest with the API only, stop, then start the workers and measure the drain. */
  backlog?: boolean
  /** Retry schedule (Hookpost's HOOKPOST_RETRY_SCHEDULE and the baselines' backoff). */
  scheduleMs?: number[]
  /** No new request at the receivers for this long (and nothing pending) ends a run early. */
  quietMs?: number
  /** Hookpost: every subscription gets this payload filter (contract section 12). */
  filter?: Record<string, unknown>
  /** Hookpost only: this transformation on every subscription. */
  transformation?: string
}

export interface GroupResult {
  endpoints: number
  expected: number
  delivered: number
  requests: number
  failedAnswers: number
  duplicates: number
  firstOkAt: number
  lastOkAt: number
  /** Deliveries per second to this group (whole group), over the run's window. */
  rate: number
  /** Per endpoint of the group. */
  ratePerEndpoint: number
  latency?: LatencySummary | undefined
}

export interface Ledger {
  published: number
  delivered: number
  failed: number
  cancelled: number
  pending: number
  /** published − (delivered + failed + cancelled + pending): 0 when it balances. */
  difference: number
  balanced: boolean
  /** false when a count was cut short by its bounds. */
  exact: boolean
  /** How the ledger was closed: drained, or counted at a cutoff. */
  closedBy: 'drained' | 'cutoff'
  expectedFailed?: number | undefined
  failedAsExpected?: boolean | undefined
}

export interface RunResult {
  workload: string
  system: SystemId
  rep: number
  startedAt: string
  wallMs: number
  /** Set when the system could not be run at all (missing dependency, crash). */
  skipped?: string | undefined
  error?: string | undefined
  /** Set when the ledger does not balance: the run is not a result. */
  void?: string | undefined
  events: {
    sent: number
    accepted: number
    rejected: Record<string, number>
    firstError?: string | undefined
  }
  /** Warm-up events published before the measured phase (in the ledger, not in the rates). */
  warmup?: { events: number; deliveries: number } | undefined
  ledger?: Ledger | undefined
  /** Window over which `throughput` is computed. */
  window: { startAt: number; endAt: number; seconds: number }
  /** Unique deliveries per second, all endpoints. */
  throughput: number
  groups: Record<string, GroupResult>
  ingest?: {
    eventsPerSec: number
    p50?: number | undefined
    p99?: number | undefined
    lagP99?: number | undefined
  }
  /** Delivery latency (t3 − t0) per group, and "all". */
  latency?: Record<string, LatencySummary> | undefined
  cpu: {
    sutSeconds: number
    harnessSeconds: number
    machineBusySeconds: number
    machineSeconds: number
    usPerDelivery: number
    parts: Record<string, number>
  }
  rss: { peakMb: number; byRole: Record<string, number> }
  attempts: number
  duplicates: number
  signatures: { checked: number; bad: number }
  problems?: LogProblems | undefined
  timeline?: { t: number; delivered: number; pending: number; rssMb: number }[] | undefined
  backlog?: {
    ingestEventsPerSec: number
    ingestSeconds: number
    deliveriesQueued: number
    ingestPeakRssMb: number
  }
  notes: string[]
}

export interface Workload {
  id: string
  title: string
  /** What it answers, for the report. */
  question: string
  scenario(mode: Mode): Scenario
  systems(mode: Mode, opts: { pg: boolean }): SystemId[]
  /** The headline number of a run, for tables and the throughput chart. */
  headline: { label: string; unit: string; value(r: RunResult): number | undefined; higherIsBetter: boolean }
}
