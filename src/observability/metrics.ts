// Prometheus metrics (prom-client) in a Registry of our own, never the global one: deliveries by
// outcome, attempt latency, events published, queue depth and oldest pending age (read from the
// store on scrape, cached ~1 s), failures per subscription (bounded labels), process metrics.
import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { AttemptReport } from '../deliveries/worker.ts'
import type { PublishResult } from '../store/store.ts'

export type Backlog = (now: number) => Promise<{ pending: number; held: number; oldestDueAt: number | null }>

export interface MetricsOptions {
  /** The store's backlog (store.deliveries.backlog); no queue gauges without it. */
  backlog?: Backlog
  now?: () => number
  /** How long one backlog reading serves scrapes. */
  backlogCacheMs?: number
  /** Distinct subscription_id label values before the rest is counted as `other`. */
  maxSubscriptionLabels?: number
  /** process_* and nodejs_* metrics (default true). */
  defaultMetrics?: boolean
}

/** Attempt latency buckets, in seconds, up to the longest allowed request timeout's half. */
export const attemptBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30]
export const defaultMaxSubscriptionLabels = 1000
export const otherSubscriptions = 'other'
/** prom-client's default gauges whose names end in _total (left out, see the constructor). */
export const nonCounterTotals = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

export class Metrics {
  readonly registry = new Registry()
  readonly #deliveries: Counter<'outcome'>
  readonly #duration: Histogram<'outcome'>
  readonly #published: Counter<'event'>
  readonly #subscriptionFailures: Counter<'subscription_id'>
  readonly #labelled = new Set<string>()
  readonly #maxLabels: number
  readonly #now: () => number
  #backlogAt = Number.NEGATIVE_INFINITY
  #backlog: ReturnType<Backlog> | undefined

  constructor(o: MetricsOptions = {}) {
    const registers = [this.registry]
    this.#now = o.now ?? Date.now
    this.#maxLabels = o.maxSubscriptionLabels ?? defaultMaxSubscriptionLabels
    this.#deliveries = new Counter({
      name: 'hookpost_deliveries_total',
      help: 'Delivery attempts by what they led to: delivered, retry, failed (attempts exhausted), gone (410) or cancelled (by a transformation)',
      labelNames: ['outcome'],
      registers,
    })
    for (const outcome of ['delivered', 'retry', 'failed', 'gone', 'cancelled'])
      this.#deliveries.inc({ outcome }, 0)
    this.#duration = new Histogram({
      name: 'hookpost_attempt_duration_seconds',
      help: 'Duration of one delivery attempt (connect, send, answer), by outcome',
      labelNames: ['outcome'],
      buckets: attemptBuckets,
      registers,
    })
    this.#published = new Counter({
      name: 'hookpost_events_published_total',
      help: 'Events accepted by POST /events or /events/batch that created them (idempotent repeats not counted), by event type',
      labelNames: ['event'],
      registers,
    })
    this.#subscriptionFailures = new Counter({
      name: 'hookpost_subscription_failures_total',
      help: `Failed delivery attempts per subscription; past ${this.#maxLabels} distinct subscriptions in this process, the rest count as subscription_id="${otherSubscriptions}"`,
      labelNames: ['subscription_id'],
      registers,
    })
    const backlog = o.backlog
    if (backlog) {
      const cacheMs = o.backlogCacheMs ?? 1000
      const read = () => {
        const now = this.#now()
        if (!this.#backlog || now - this.#backlogAt >= cacheMs) {
          this.#backlogAt = now
          this.#backlog = backlog(now).catch(() => ({
            pending: Number.NaN,
            held: Number.NaN,
            oldestDueAt: null,
          }))
        }
        return this.#backlog
      }
      new Gauge({
        name: 'hookpost_queue_depth',
        help: 'Pending deliveries in the store (cluster-wide: every process reports the same value)',
        registers,
        async collect() {
          this.set((await read()).pending)
        },
      })
      new Gauge({
        name: 'hookpost_deliveries_held',
        help: 'Pending deliveries a paused or unverified subscription keeps (part of hookpost_queue_depth; cluster-wide)',
        registers,
        async collect() {
          this.set((await read()).held)
        },
      })
      const now = this.#now
      new Gauge({
        name: 'hookpost_oldest_pending_age_seconds',
        help: 'Seconds since the oldest due pending delivery became due (0 when none is due; cluster-wide)',
        registers,
        async collect() {
          const b = await read()
          this.set(
            Number.isNaN(b.pending)
              ? Number.NaN
              : b.oldestDueAt === null
                ? 0
                : Math.max(0, (now() - b.oldestDueAt) / 1000),
          )
        },
      })
    }
    if (o.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry })
      // Gauges named like counters (promtool check metrics refuses them); the same numbers are
      // the sums of nodejs_active_handles, _requests and _resources, by type.
      for (const name of nonCounterTotals) this.registry.removeSingleMetric(name)
    }
  }

  get contentType(): string {
    return this.registry.contentType
  }

  /** The worker's onAttempt port. Never throws. */
  readonly onAttempt = (a: AttemptReport): void => {
    this.#deliveries.inc({ outcome: a.outcome })
    this.#duration.observe({ outcome: a.outcome }, a.durationMs / 1000)
    if (a.outcome !== 'delivered' && a.outcome !== 'cancelled')
      this.#subscriptionFailures.inc({ subscription_id: this.#label(a.subscriptionId) })
  }

  readonly onPublished = (r: Pick<PublishResult, 'eventName' | 'replayed'>): void => {
    if (!r.replayed) this.#published.inc({ event: r.eventName })
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }

  #label(subscriptionId: string): string {
    if (this.#labelled.has(subscriptionId)) return subscriptionId
    if (this.#labelled.size >= this.#maxLabels) return otherSubscriptions
    this.#labelled.add(subscriptionId)
    return subscriptionId
  }
}

/** A listener that serves GET /metrics only (HOOKPOST_METRICS_PORT, e.g. for worker processes). */
export async function serveMetrics(
  metrics: Metrics,
  opts: { host: string; port: number; token?: string | undefined },
): Promise<Server> {
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics' || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n')
      return
    }
    if (opts.token && !bearerMatches(req.headers.authorization, opts.token)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized\n')
      return
    }
    metrics.render().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => resolve())
  })
  return server
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

/** Constant-time check of `Authorization: Bearer <token>`. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '')
  if (!m) return false
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  return timingSafeEqual(digest(m[1]!.trim()), digest(token))
}
