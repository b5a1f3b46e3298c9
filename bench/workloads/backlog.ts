// W5, backlog drain: the service runs with its API only while events are published as fast as
// it acknowledges them (1 event → 10 deliveries), until the backlog is queued (1 M deliveries in
// full mode); then it is stopped and started again with its workers, and the drain is measured
// at the receivers over time, with the service's RSS. The raw sender sends the same number of
// requests for comparison.
import type { Workload } from './types.ts'

export const backlog: Workload = {
  id: 'backlog',
  title: 'Backlog drain',
  question:
    'Drain rate of a backlog queued while no worker ran (full: 1 M deliveries), peak RSS while draining, and ingest rate while queuing.',
  scenario: (mode) => ({
    endpoints: Array.from({ length: 10 }, () => ({ group: 'healthy' })),
    // BENCH_BACKLOG_EVENTS overrides the size (events; deliveries are ten times as many).
    events: Number(process.env['BENCH_BACKLOG_EVENTS']) || (mode === 'quick' ? 3000 : 100_000),
    publish: { mode: 'closed', concurrency: 64 },
    publishMaxMs: mode === 'quick' ? 30_000 : 600_000,
    drainMaxMs: mode === 'quick' ? 40_000 : 600_000,
    backlog: true,
  }),
  systems: (_mode, { pg }) => [
    'hookpost',
    'raw',
    'hookpost-split',
    ...(pg ? (['hookpost-pg-w1', 'hookpost-pg-w4'] as const) : []),
  ],
  headline: { label: 'drain deliveries/s', unit: '/s', value: (r) => r.throughput, higherIsBetter: true },
}
