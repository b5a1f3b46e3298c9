// W3, slow endpoints beside healthy ones: 10 subscriptions, one of them (10 %) answers after
// 2 s ± 200 ms. Every event goes to all 10, so the slow endpoint's backlog grows for as long as
// events arrive. The question is isolation: do the 9 healthy endpoints keep their rate? The run
// ends when every healthy delivery has arrived; the slow endpoint's remainder is counted as
// pending in the ledger (at a cutoff).
import type { Workload } from './types.ts'

export const slow: Workload = {
  id: 'slow',
  title: '10 % slow endpoints (2 s) beside healthy ones',
  question:
    'Per-endpoint rate of the healthy endpoints when one endpoint in ten answers after 2 s; compared with the fan-out run (target ≥ 95 %).',
  scenario: (mode) => ({
    endpoints: [
      ...Array.from({ length: 9 }, () => ({ group: 'healthy' })),
      { group: 'slow', delayMs: 2000, jitterMs: 200 },
    ],
    events: mode === 'quick' ? 1500 : 10_000,
    publish: { mode: 'closed', concurrency: 32 },
    warmupEvents: mode === 'quick' ? 200 : 1000,
    publishMaxMs: mode === 'quick' ? 10_000 : 120_000,
    drainMaxMs: mode === 'quick' ? 20_000 : 180_000,
    waitFor: ['healthy'],
  }),
  systems: (mode) => ['hookpost', ...(mode === 'full' ? (['bullmq-tuned'] as const) : [])],
  headline: {
    label: 'healthy deliveries/s per endpoint',
    unit: '/s',
    value: (r) => r.groups['healthy']?.ratePerEndpoint,
    higherIsBetter: true,
  },
}
