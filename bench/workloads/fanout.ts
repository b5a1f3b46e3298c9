// W1, fan-out: every event goes to 10 subscriptions, each a distinct endpoint (its own origin);
// events published closed-loop as fast as the system acknowledges them.
import type { Workload } from './types.ts'

export const fanout: Workload = {
  id: 'fanout',
  title: 'Fan-out: 1 event → 10 subscriptions',
  question:
    'Deliveries per second when every event fans out to 10 fast endpoints, next to the raw HTTP ceiling and the two BullMQ senders.',
  scenario: (mode) => ({
    endpoints: Array.from({ length: 10 }, () => ({ group: 'healthy' })),
    events: mode === 'quick' ? 1500 : 10_000,
    publish: { mode: 'closed', concurrency: 32 },
    warmupEvents: mode === 'quick' ? 200 : 1000,
    publishMaxMs: mode === 'quick' ? 10_000 : 120_000,
    drainMaxMs: mode === 'quick' ? 20_000 : 180_000,
  }),
  systems: (_mode, { pg }) => [
    'hookpost',
    'raw',
    'bullmq-naive',
    'bullmq-tuned',
    'hookpost-split',
    ...(pg ? (['hookpost-pg-w1', 'hookpost-pg-w2', 'hookpost-pg-w4'] as const) : []),
  ],
  headline: { label: 'deliveries/s', unit: '/s', value: (r) => r.throughput, higherIsBetter: true },
}

/**
 * A small transformation, as a consumer would write one: a field added to the payload (which
 * keeps benchT0 for the latency), a header added. The body is re-serialised and signed again.
 */
export const smallTransformation = `function handler(webhook) {
  webhook.payload.deliveredBy = 'hookpost'
  webhook.headers['x-tenant'] = String(webhook.payload.accountHolder.ref)
  return webhook
}`

// The fan-out with that transformation on every subscription: beside \`fanout\` in the same run
// (\`--only fanout,fanout-transform\`), the CPU per delivery it adds.
export const fanoutTransform: Workload = {
  id: 'fanout-transform',
  title: 'Fan-out: 1 event → 10 subscriptions, each with a small transformation',
  question:
    "What a small transformation (QuickJS sandbox) adds per delivery: compare the SUT CPU µs/delivery with the plain fan-out's.",
  scenario: (mode) => ({ ...fanout.scenario(mode), transformation: smallTransformation }),
  systems: () => ['hookpost'],
  headline: fanout.headline,
}

/** Events per batch request in fanout-batch: a small platform flushing what it has. */
export const fanoutBatchSize = 50

// A small platform: 4 publishers, each sending what it has in one POST /events/batch (contract
// section 10), so that ingest is one commit per batch rather than per event.
export const fanoutBatch: Workload = {
  id: 'fanout-batch',
  title: `Fan-out: 1 event → 10 subscriptions, 4 publishers, batches of ${fanoutBatchSize}`,
  question:
    'Deliveries per second when 4 publishers send their events through POST /events/batch, next to the raw HTTP ceiling.',
  scenario: (mode) => ({
    ...fanout.scenario(mode),
    publish: { mode: 'closed', concurrency: 4, batch: fanoutBatchSize },
  }),
  systems: (_mode, { pg }) => ['hookpost', 'raw', ...(pg ? (['hookpost-pg-w1'] as const) : [])],
  headline: fanout.headline,
}

/**
 * A filter every event passes, with the conditions a subscriber writes (equality on a nested
 * field, a set, a prefix): it costs its full evaluation, and the fan-out stays the same.
 */
export const benchFilter = {
  'accountHolder.brand.ref': 1,
  'accountHolder.packages.0.productType': { $in: ['subscription', 'add-on'] },
  'accountHolder.email': { $prefix: 'webhooks@' },
}

// The fan-out with a filter on every subscription (contract section 12): what a filter adds per
// delivery is this workload's CPU per delivery minus the plain fan-out's, same repetition.
export const fanoutFiltered: Workload = {
  id: 'fanout-filtered',
  title: 'Fan-out: 1 event → 10 subscriptions, each with a filter',
  question:
    'CPU per delivery when every one of the 10 subscriptions has a payload filter (3 conditions, all matching), beside the plain fan-out.',
  scenario: (mode) => ({ ...fanout.scenario(mode), filter: benchFilter }),
  systems: (_mode, { pg }) => ['hookpost', ...(pg ? (['hookpost-pg-w1'] as const) : [])],
  headline: fanout.headline,
}
