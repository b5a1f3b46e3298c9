// W-lat, open-loop latency: events published at a fixed rate (1,000 events/s → 10,000
// deliveries/s over 10 endpoints), t0 = the time each event was *scheduled*, t3 = the first
// byte of its delivery at the receiver. A generator that falls behind shows in the numbers.
import type { Workload } from './types.ts'

export const latency: Workload = {
  id: 'latency',
  title: 'Publish → received latency, open loop at 1,000 events/s (10,000 deliveries/s)',
  question:
    'Time from an event’s scheduled publish time to the first byte of each delivery at its receiver, at a fixed offered rate (target p99 ≤ 25 ms).',
  scenario: (mode) => ({
    endpoints: Array.from({ length: 10 }, () => ({ group: 'healthy' })),
    events: mode === 'quick' ? 5000 : 35_000,
    publish: { mode: 'open', rate: 1000, warmupMs: mode === 'quick' ? 1000 : 5000 },
    publishMaxMs: mode === 'quick' ? 8000 : 40_000,
    drainMaxMs: mode === 'quick' ? 20_000 : 120_000,
  }),
  systems: (mode, { pg }) => [
    'hookpost',
    ...(mode === 'full' ? (['bullmq-tuned', 'bullmq-naive'] as const) : []),
    ...(pg ? (['hookpost-pg-w1'] as const) : []),
  ],
  headline: {
    label: 'delivery p99 (ms)',
    unit: 'ms',
    value: (r) => r.latency?.['all']?.p99,
    higherIsBetter: false,
  },
}
