// W-lat, open-loop latency: events published at a fixed rate over 10 endpoints, t0 = the time
// each event was *scheduled*, t3 = the first byte of its delivery at the receiver. A generator
// that falls behind shows in the numbers. Two rates: the target's 1,000 events/s, and 300
// events/s, below what this machine class sustains, so that the latency of the design shows
// apart from queueing when the offered rate exceeds throughput.
import type { Workload } from './types.ts'

function latencyAt(id: string, rate: number, note: string, withBaselines: boolean): Workload {
  const deliveries = (rate * 10).toLocaleString('en-US')
  return {
    id,
    title: `Publish → received latency, open loop at ${rate.toLocaleString('en-US')} events/s (${deliveries} deliveries/s)`,
    question: `Time from an event’s scheduled publish time to the first byte of each delivery at its receiver, at a fixed offered rate ${note}.`,
    scenario: (mode) => ({
      endpoints: Array.from({ length: 10 }, () => ({ group: 'healthy' })),
      events: Math.round((rate * (mode === 'quick' ? 5000 : 35_000)) / 1000),
      publish: { mode: 'open', rate, warmupMs: mode === 'quick' ? 1000 : 5000 },
      publishMaxMs: mode === 'quick' ? 8000 : 40_000,
      drainMaxMs: mode === 'quick' ? 20_000 : 120_000,
    }),
    systems: (mode, { pg }) => [
      'hookpost',
      ...(mode === 'full' && withBaselines ? (['bullmq-tuned', 'bullmq-naive'] as const) : []),
      ...(pg ? (['hookpost-pg-w1'] as const) : []),
    ],
    headline: {
      label: 'delivery p99 (ms)',
      unit: 'ms',
      value: (r) => r.latency?.['all']?.p99,
      higherIsBetter: false,
    },
  }
}

export const latency = latencyAt('latency', 1000, '(target p99 ≤ 25 ms)', true)
export const latencyBelowCapacity = latencyAt(
  'latency-300',
  300,
  'below capacity (no target: shows latency without queueing)',
  false,
)

/** Both latency workloads share the latency report table and are never run by the raw sender. */
export function isLatencyWorkload(id: string): boolean {
  return id === latency.id || id === latencyBelowCapacity.id
}
