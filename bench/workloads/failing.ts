// W4, failing endpoints with retries: 10 subscriptions; one always answers 500 (its deliveries
// must end `failed` after the whole, shortened, retry schedule), one answers 500 for its first
// seconds and then recovers (its deliveries must all arrive, through retries), eight are
// healthy. The ledger must show exactly the always-failing endpoint's deliveries as failed.
import type { Workload } from './types.ts'

export const failing: Workload = {
  id: 'failing',
  title: 'Failing endpoints with retries',
  question:
    'Healthy endpoints beside one that always fails and one that fails then recovers; retry schedule 200 ms, 400 ms, 800 ms (4 attempts).',
  scenario: (mode) => ({
    endpoints: [
      ...Array.from({ length: 8 }, () => ({ group: 'healthy' })),
      { group: 'failing', failStatus: 500 },
      { group: 'flaky', failStatus: 500, failForMs: mode === 'quick' ? 1000 : 5000 },
    ],
    events: mode === 'quick' ? 1000 : 10_000,
    publish: { mode: 'closed', concurrency: 32 },
    publishMaxMs: mode === 'quick' ? 10_000 : 120_000,
    drainMaxMs: mode === 'quick' ? 20_000 : 180_000,
    expectFail: ['failing'],
    scheduleMs: [200, 400, 800],
    quietMs: 2000,
  }),
  systems: (mode) => ['hookpost', ...(mode === 'full' ? (['bullmq-tuned'] as const) : [])],
  headline: {
    label: 'healthy deliveries/s per endpoint',
    unit: '/s',
    value: (r) => r.groups['healthy']?.ratePerEndpoint,
    higherIsBetter: true,
  },
}
