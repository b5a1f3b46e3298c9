// W2, many events → one endpoint: one subscription, every event a single delivery; measures the
// per-endpoint ceiling (Hookpost caps attempts in flight per subscription, 32 by default) and the
// ingest path, which does one commit per event here.
import type { Workload } from './types.ts'

export const oneEndpoint: Workload = {
  id: 'one-endpoint',
  title: 'Many events → one endpoint',
  question: 'Deliveries per second to a single subscription (one event = one delivery, one origin).',
  scenario: (mode) => ({
    endpoints: [{ group: 'healthy' }],
    events: mode === 'quick' ? 4000 : 50_000,
    publish: { mode: 'closed', concurrency: 32 },
    warmupEvents: mode === 'quick' ? 500 : 5000,
    publishMaxMs: mode === 'quick' ? 15_000 : 120_000,
    drainMaxMs: mode === 'quick' ? 20_000 : 120_000,
  }),
  systems: (mode, { pg }) => [
    'hookpost',
    'raw',
    ...(mode === 'full' ? (['bullmq-tuned'] as const) : []),
    ...(pg ? (['hookpost-pg-w1'] as const) : []),
  ],
  headline: { label: 'deliveries/s', unit: '/s', value: (r) => r.throughput, higherIsBetter: true },
}
