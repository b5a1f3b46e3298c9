// Metrics from a real worker's attempts, the store's backlog on scrape, GET /metrics (with and
// without its token), request ids in answers and logs, attempt log lines, and the optional
// tracing (off by default; the package-absent path).
import { Writable } from 'node:stream'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { AttemptReport } from '../../src/deliveries/worker.ts'
import { eventTypes } from '../../src/events/event-types.ts'
import { createHookpost, type Hookpost } from '../../src/hookpost.ts'
import { buildApp } from '../../src/http/build-app.ts'
import { attemptLogger } from '../../src/observability/attempt-log.ts'
import { Metrics, serveMetrics } from '../../src/observability/metrics.ts'
import { instrumentPublisher, loadTracing, noTracing, tracedSender } from '../../src/observability/tracing.ts'
import { generateMasterKey, parseMasterKey, SecretBox } from '../../src/secrets/secret-box.ts'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.ts'
import { basic } from '../support/basic-auth.ts'
import { eventually } from '../support/eventually.ts'
import { TestReceiver } from '../support/receiver.ts'
import { freePort } from '../support/service-process.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const body = (name: string) => Buffer.from(JSON.stringify(eventTypes.find((t) => t.name === name)!.example))

/** The value of one sample line, e.g. `hookpost_deliveries_total{outcome="delivered"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

const report = (over: Partial<AttemptReport>): AttemptReport => ({
  deliveryId: 'dlv_1',
  subscriptionId: 'sub_1',
  envId: 'env_1',
  event: 'site.publish',
  outcome: 'delivered',
  statusCode: 200,
  error: null,
  durationMs: 12,
  lagMs: 0,
  ...over,
})

describe('metrics from a real worker', () => {
  let h: WorkerHarness | undefined
  let rx: TestReceiver | undefined
  afterEach(async () => {
    await h?.close()
    await rx?.stop()
  })

  it('counts deliveries by outcome, times attempts, counts failures per subscription and reads the backlog', async () => {
    rx = await new TestReceiver().start()
    rx.respond = (r) => (r.path === '/bad' ? { status: 500 } : { status: 200 })
    const metrics = new Metrics({ defaultMetrics: false })
    h = await workerHarness({ scheduleMs: [20], worker: { onAttempt: metrics.onAttempt } })
    const withBacklog = new Metrics({
      defaultMetrics: false,
      backlog: (now) => h!.store.deliveries.backlog(now),
    })
    const good = await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${rx.url}/good`,
      active: true,
    })
    const bad = await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: `${rx.url}/bad`,
      active: true,
    })
    await h.hookpost.publisher.publish(h.envId, body('site.publish'))
    // One success; the bad endpoint fails twice: a retry, then failed (a two-attempt schedule).
    await eventually(async () => {
      const text = await metrics.render()
      expect(sample(text, 'hookpost_deliveries_total{outcome="delivered"}')).toBe(1)
      expect(sample(text, 'hookpost_deliveries_total{outcome="retry"}')).toBe(1)
      expect(sample(text, 'hookpost_deliveries_total{outcome="failed"}')).toBe(1)
    })
    const text = await metrics.render()
    expect(sample(text, 'hookpost_deliveries_total{outcome="gone"}')).toBe(0)
    expect(sample(text, 'hookpost_attempt_duration_seconds_count{outcome="delivered"}')).toBe(1)
    expect(sample(text, 'hookpost_attempt_duration_seconds_bucket{le="30",outcome="retry"}')).toBe(1)
    expect(sample(text, `hookpost_subscription_failures_total{subscription_id="${bad.id}"}`)).toBe(2)
    expect(sample(text, `hookpost_subscription_failures_total{subscription_id="${good.id}"}`)).toBeUndefined()

    // Outcomes are written in batches just after they are reported.
    await eventually(async () => {
      const idle = await withBacklog.render()
      expect(sample(idle, 'hookpost_queue_depth')).toBe(0)
      expect(sample(idle, 'hookpost_deliveries_held')).toBe(0)
      expect(sample(idle, 'hookpost_oldest_pending_age_seconds')).toBe(0)
    })

    // A paused subscription keeps its deliveries: pending, held, not due.
    await h.hookpost.subscriptions.create(h.envId, {
      event: 'site.first_publish',
      url: `${rx.url}/paused`,
      active: true,
      paused: true,
    })
    await h.hookpost.publisher.publish(h.envId, body('site.first_publish'))
    await eventually(async () => {
      const kept = await withBacklog.render()
      expect(sample(kept, 'hookpost_queue_depth')).toBe(1)
      expect(sample(kept, 'hookpost_deliveries_held')).toBe(1)
      expect(sample(kept, 'hookpost_oldest_pending_age_seconds')).toBe(0)
    })
  })
})

describe('Metrics', () => {
  it('caps subscription_id labels and counts the rest as other', async () => {
    const m = new Metrics({ defaultMetrics: false, maxSubscriptionLabels: 2 })
    for (const s of ['sub_a', 'sub_b', 'sub_c', 'sub_d', 'sub_a'])
      m.onAttempt(report({ subscriptionId: s, outcome: 'retry' }))
    const text = await m.render()
    expect(sample(text, 'hookpost_subscription_failures_total{subscription_id="sub_a"}')).toBe(2)
    expect(sample(text, 'hookpost_subscription_failures_total{subscription_id="sub_b"}')).toBe(1)
    expect(sample(text, 'hookpost_subscription_failures_total{subscription_id="other"}')).toBe(2)
    expect(text).not.toContain('sub_c')
  })

  it('reads the backlog on scrape, at most once a second, and reports the held part and the oldest age', async () => {
    let now = 1_000_000
    let reads = 0
    const m = new Metrics({
      defaultMetrics: false,
      now: () => now,
      backlog: async () => {
        reads++
        return { pending: 7, held: 2, oldestDueAt: 1_000_000 - 90_000 }
      },
    })
    const first = await m.render()
    expect(sample(first, 'hookpost_queue_depth')).toBe(7)
    expect(sample(first, 'hookpost_deliveries_held')).toBe(2)
    expect(sample(first, 'hookpost_oldest_pending_age_seconds')).toBe(90)
    now += 500
    await m.render()
    expect(reads).toBe(1)
    now += 600
    expect(sample(await m.render(), 'hookpost_oldest_pending_age_seconds')).toBe(91.1)
    expect(reads).toBe(2)
  })

  it('includes the process metrics by default, in a registry of its own', async () => {
    const text = await new Metrics().render()
    expect(text).toContain('process_cpu_user_seconds_total')
    expect(text).toContain('nodejs_eventloop_lag_seconds')
  })

  it('serves /metrics alone on its own port (worker processes), behind the token when set', async () => {
    const port = await freePort()
    const server = await serveMetrics(new Metrics({ defaultMetrics: false }), {
      host: '127.0.0.1',
      port,
      token: 'metrics-token-0123456789',
    })
    try {
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401)
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: 'Bearer metrics-token-0123456789' },
      })
      expect(ok.status).toBe(200)
      expect(await ok.text()).toContain('hookpost_deliveries_total')
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404)
    } finally {
      await new Promise((r) => server.close(r))
    }
  })
})

describe('the HTTP app: /metrics, request ids, logs', () => {
  async function app(opts: { token?: string; logs?: string[] } = {}) {
    const store = openSqliteStore(':memory:')
    await store.migrate()
    const metrics = new Metrics({ defaultMetrics: false, backlog: (now) => store.deliveries.backlog(now) })
    const core = createHookpost({
      store,
      box: new SecretBox(parseMasterKey(generateMasterKey())),
      checkUrl: (url) => ({ ok: true, url: new URL(url) }),
      retryPolicy: { scheduleMs: [1000], jitter: 0.2, maxRetryAfterMs: 60_000 },
      secretGraceMs: 0,
    })
    const hookpost: Hookpost = {
      ...core,
      publisher: instrumentPublisher(core.publisher, {
        tracing: noTracing,
        onPublished: metrics.onPublished,
      }),
    }
    const logs = opts.logs
    const a = await buildApp({
      hookpost,
      adminToken: 'test-admin-token-0123456789',
      version: '0.0.0-test',
      eventBodyLimit: 1024 * 1024,
      metrics: { contentType: metrics.contentType, render: () => metrics.render(), token: opts.token },
      ...(logs
        ? {
            logger: pino(
              { level: 'info' },
              new Writable({
                write(chunk, _enc, cb) {
                  logs.push(...chunk.toString().trim().split('\n'))
                  cb()
                },
              }),
            ),
          }
        : {}),
    })
    const env = await hookpost.environments.create({ name: 'm' })
    const p = await hookpost.environments.createCredential(env.id, { role: 'publisher' })
    await hookpost.subscriptions.create(env.id, {
      event: 'site.publish',
      url: 'https://example.com/h',
      active: true,
    })
    return {
      app: a,
      envId: env.id,
      publisher: basic(p.row.key, p.secret),
      async close() {
        await a.close()
        await store.close()
      },
    }
  }

  it('serves Prometheus text: events published and the queue depth', async () => {
    const h = await app()
    try {
      for (const key of ['k1', 'k2', 'k1']) {
        const r = await h.app.inject({
          method: 'POST',
          url: '/events',
          headers: { authorization: h.publisher, 'content-type': 'application/json', 'idempotency-key': key },
          payload: body('site.publish'),
        })
        expect(r.statusCode).toBe(202)
      }
      const r = await h.app.inject({ method: 'GET', url: '/metrics' })
      expect(r.statusCode).toBe(200)
      expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
      // The repeated idempotency key created nothing and is not counted.
      expect(sample(r.body, 'hookpost_events_published_total{event="site.publish"}')).toBe(2)
      expect(sample(r.body, 'hookpost_queue_depth')).toBe(2)
      // A batch counts each event it created, not the items whose key was seen.
      const items = ['k2', 'k3', undefined].map((idempotencyKey) => ({
        payload: JSON.parse(body('site.publish').toString('utf8')),
        ...(idempotencyKey ? { idempotencyKey } : {}),
      }))
      const b = await h.app.inject({
        method: 'POST',
        url: '/events/batch',
        headers: { authorization: h.publisher, 'content-type': 'application/json' },
        payload: JSON.stringify({ events: items }),
      })
      expect(b.statusCode).toBe(202)
      const after = (await h.app.inject({ method: 'GET', url: '/metrics' })).body
      expect(sample(after, 'hookpost_events_published_total{event="site.publish"}')).toBe(4)
      expect(sample(r.body, 'hookpost_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(0)
    } finally {
      await h.close()
    }
  })

  it('asks for the bearer token when HOOKPOST_METRICS_TOKEN is set', async () => {
    const h = await app({ token: 'metrics-token-0123456789' })
    try {
      expect((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401)
      const wrong = await h.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer nope' },
      })
      expect(wrong.statusCode).toBe(401)
      const ok = await h.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: 'Bearer metrics-token-0123456789' },
      })
      expect(ok.statusCode).toBe(200)
    } finally {
      await h.close()
    }
  })

  it('answers with x-request-id (a valid incoming one echoed) and logs every line of a request with it', async () => {
    const logs: string[] = []
    const h = await app({ logs })
    try {
      const generated = await h.app.inject({ method: 'GET', url: '/health' })
      expect(generated.headers['x-request-id']).toMatch(/^req_[0-9a-z]+$/)
      const echoed = await h.app.inject({
        method: 'GET',
        url: '/nope',
        headers: { 'x-request-id': 'trace-42.abc' },
      })
      expect(echoed.statusCode).toBe(404)
      expect(echoed.headers['x-request-id']).toBe('trace-42.abc')
      const unsafe = await h.app.inject({
        method: 'GET',
        url: '/health',
        headers: { 'x-request-id': 'a b\u0007' },
      })
      expect(unsafe.headers['x-request-id']).toMatch(/^req_/)
      const lines = logs.map((l) => JSON.parse(l) as { reqId?: string; msg: string })
      const mine = lines.filter((l) => l.reqId === 'trace-42.abc')
      expect(mine.map((l) => l.msg)).toEqual(['incoming request', 'request completed'])
    } finally {
      await h.close()
    }
  })
})

describe('attempt log lines', () => {
  it('carry the delivery and subscription ids; failures are warnings', () => {
    const seen: { level: string; obj: Record<string, unknown>; msg: string | undefined }[] = []
    const log = {
      error: (obj: object, msg?: string) => seen.push({ level: 'error', obj: obj as never, msg }),
      warn: (obj: object, msg?: string) => seen.push({ level: 'warn', obj: obj as never, msg }),
      info: (obj: object, msg?: string) => seen.push({ level: 'info', obj: obj as never, msg }),
      debug: (obj: object, msg?: string) => seen.push({ level: 'debug', obj: obj as never, msg }),
      child: () => log,
    }
    const logAttempt = attemptLogger(log)
    logAttempt(report({ outcome: 'delivered' }))
    logAttempt(report({ outcome: 'retry', statusCode: 500, error: 'http_500' }))
    logAttempt(report({ outcome: 'failed', statusCode: null, error: 'timeout' }))
    logAttempt(report({ outcome: 'gone', statusCode: 410, error: 'http_410' }))
    expect(seen.map((s) => s.level)).toEqual(['debug', 'info', 'warn', 'warn'])
    for (const s of seen)
      expect(s.obj).toMatchObject({ deliveryId: 'dlv_1', subscriptionId: 'sub_1', envId: 'env_1' })
  })
})

describe('tracing', () => {
  const quiet = { error() {}, warn() {}, info() {}, debug() {}, child: () => quiet }

  it('is off by default: no import is attempted and senders and publishers are left as they are', async () => {
    let imported = false
    const t = await loadTracing({
      enabled: false,
      log: quiet,
      version: 't',
      importModule: async () => {
        imported = true
        return {}
      },
    })
    expect(t).toBe(noTracing)
    expect(imported).toBe(false)
    const sender = {
      send: async () => ({ kind: 'error' as const, code: 'timeout' as const, message: 'x', durationMs: 1 }),
      close: async () => {},
    }
    expect(tracedSender(sender, t)).toBe(sender)
    expect(await t.span('x', 'internal', {}, async () => 42)).toBe(42)
  })

  it('warns once and continues untraced when @opentelemetry/api is not installed', async () => {
    const warnings: string[] = []
    const log = { ...quiet, warn: (_o: object, msg?: string) => warnings.push(msg ?? '') }
    const t = await loadTracing({
      enabled: true,
      log,
      version: 't',
      importModule: async (s) => {
        throw Object.assign(new Error(`Cannot find package '${s}'`), { code: 'ERR_MODULE_NOT_FOUND' })
      },
    })
    expect(t.enabled).toBe(false)
    expect(warnings).toEqual([
      'HOOKPOST_OTEL is true but @opentelemetry/api could not be loaded; continuing without tracing (docs/observability.md)',
    ])
    const published: string[] = []
    const publisher = instrumentPublisher(
      {
        publish: async () => ({
          eventId: 'evt_1',
          eventName: 'site.publish',
          deliveries: 1,
          replayed: false,
        }),
      } as never,
      { tracing: t, onPublished: (r) => published.push(r.eventId) },
    )
    await publisher.publish('env_1', Buffer.from('{}'))
    expect(published).toEqual(['evt_1'])
  })
})
