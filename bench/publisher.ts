// The load generator (run as a script): publishes events to a system's ingest API
// (POST /events with HTTP Basic auth) through an undici Pool on keep-alive connections.
//
// closed loop: `events` events with `concurrency` requests in flight, as fast as answered; with
//              `batch`, each request is POST /events/batch carrying up to `batch` events.
// open loop:   events scheduled at a fixed rate; t0 (carried in the body as benchT0) is the
//              *scheduled* time, so a generator that falls behind shows in the latencies rather
//              than hiding them. In-flight requests are capped (maxInFlight); past it, events wait
//              and their lag counts.
// Both are bounded by the number of events and by maxMs.
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { assertLoopback, Rpc, serveRpc, spawnScript, stopChild, waitReady } from './lib/child.ts'
import { makeBody } from './lib/payload.ts'
import { type LatencySummary, Samples, summarize } from './lib/stats.ts'

export interface PublishPlan {
  /** Base URL of the ingest API, e.g. http://127.0.0.1:8080 */
  url: string
  authorization: string
  /** bodyTail() of the example payload. */
  tail: string
  mode: 'closed' | 'open'
  events: number
  /** closed loop: requests in flight. */
  concurrency?: number
  /** closed loop: events per request, through POST /events/batch (contract section 10). */
  batch?: number | undefined
  /** open loop: events per second. */
  rate?: number
  maxInFlight?: number
  /** open loop: events scheduled this long after the start are not in ingest and lag (as for delivery latency). */
  warmupMs?: number | undefined
  maxMs: number
  /** Sequence numbers start here (unique per run). */
  seqBase?: number
}

export interface PublishResult {
  sent: number
  accepted: number
  /** Sum of `deliveries` in the 202 answers. */
  deliveries: number
  /** Non-2xx answers by status; "error" for transport errors (the event may or may not exist). */
  rejected: Record<string, number>
  firstError?: string | undefined
  startedAt: number
  /** When the last answer arrived. */
  endedAt: number
  /** t2 − t0: answer time minus scheduled time. */
  ingest: LatencySummary
  /** t1 − t0: send time minus scheduled time (generator lag; open loop). */
  lag: LatencySummary
  stoppedByTime: boolean
}

function clock(): number {
  return performance.timeOrigin + performance.now()
}

async function publish(plan: PublishPlan, progress: (n: number) => void): Promise<PublishResult> {
  assertLoopback(plan.url)
  const origin = new URL(plan.url).origin
  const maxInFlight = plan.maxInFlight ?? 2048
  const conns = plan.mode === 'closed' ? Math.max(1, plan.concurrency ?? 32) : Math.min(256, maxInFlight)
  const pool = new Pool(origin, {
    connections: conns,
    keepAliveTimeout: 60_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  })
  const ingest = new Samples()
  const lag = new Samples()
  const rejected: Record<string, number> = {}
  let firstError: string | undefined
  let sent = 0
  let accepted = 0
  let deliveries = 0
  let inFlight = 0
  let endedAt = 0
  const seqBase = plan.seqBase ?? 0
  const startedAt = clock()
  const deadline = startedAt + plan.maxMs
  let stoppedByTime = false

  const measureFrom = startedAt + (plan.warmupMs ?? 0)
  /** Publishes events seq … seq + count − 1 in one request (a batch when plan.batch is set). */
  async function one(seq: number, t0: number, count = 1): Promise<void> {
    const t1 = clock()
    const measured = t0 >= measureFrom
    if (measured) for (let k = 0; k < count; k++) lag.push(t1 - t0)
    sent += count
    inFlight++
    try {
      const items = Array.from({ length: count }, (_, k) => makeBody(plan.tail, t0, seqBase + seq + k))
      const r = await pool.request({
        path: plan.batch ? '/events/batch' : '/events',
        method: 'POST',
        headers: { authorization: plan.authorization, 'content-type': 'application/json' },
        body: plan.batch ? `{"events":[${items.map((b) => `{"payload":${b}}`).join(',')}]}` : items[0],
      })
      const text = await r.body.text()
      const t2 = clock()
      endedAt = t2
      if (r.statusCode >= 200 && r.statusCode < 300) {
        accepted += count
        if (measured) for (let k = 0; k < count; k++) ingest.push(t2 - t0)
        for (const m of text.matchAll(/"deliveries":(\d+)/g)) deliveries += Number(m[1])
      } else {
        rejected[String(r.statusCode)] = (rejected[String(r.statusCode)] ?? 0) + count
        firstError ??= `${r.statusCode} ${text.slice(0, 200)}`
      }
    } catch (e) {
      endedAt = clock()
      rejected['error'] = (rejected['error'] ?? 0) + 1
      firstError ??= e instanceof Error ? e.message : String(e)
    } finally {
      inFlight--
    }
  }

  const tick = setInterval(() => progress(sent), 250)
  try {
    if (plan.mode === 'closed') {
      let next = 0
      const lanes = Array.from({ length: Math.max(1, plan.concurrency ?? 32) }, async () => {
        while (next < plan.events) {
          if (clock() > deadline) {
            stoppedByTime = true
            return
          }
          const seq = next
          const count = Math.min(plan.batch ?? 1, plan.events - seq)
          next += count
          await one(seq, clock(), count)
        }
      })
      await Promise.all(lanes)
    } else {
      const rate = plan.rate ?? 1000
      const interval = 1000 / rate
      const running = new Set<Promise<void>>()
      let seq = 0
      while (seq < plan.events) {
        const t = clock()
        if (t > deadline) {
          stoppedByTime = true
          break
        }
        // Send everything whose scheduled time has come (bounded by maxInFlight).
        while (seq < plan.events && startedAt + seq * interval <= t && inFlight < maxInFlight) {
          const t0 = startedAt + seq * interval
          const p = one(seq, t0)
          running.add(p)
          void p.finally(() => running.delete(p))
          seq++
        }
        const nextAt = startedAt + seq * interval
        // Timers have ~1 ms granularity; sleeping (rather than spinning) keeps the generator's
        // CPU low, and whatever lag it adds is measured (t1 − t0) and counts against the system.
        const wait = Math.min(5, nextAt - clock())
        await new Promise((r) => (wait > 0.05 ? setTimeout(r, Math.max(1, wait)) : setImmediate(r)))
      }
      // Answers still outstanding, bounded by the deadline plus a minute.
      await Promise.race([
        Promise.all([...running]),
        new Promise((r) => setTimeout(r, Math.max(0, deadline - clock()) + 60_000)),
      ])
    }
  } finally {
    clearInterval(tick)
    progress(sent)
    await pool.close().catch(() => undefined)
  }
  return {
    sent,
    accepted,
    deliveries,
    rejected,
    firstError,
    startedAt,
    endedAt: endedAt || clock(),
    ingest: summarize(ingest.values()),
    lag: summarize(lag.values()),
    stoppedByTime,
  }
}

// ---------------------------------------------------------------------------------------------

export class Publisher {
  readonly #child: ChildProcess
  readonly #rpc: Rpc
  sent = 0

  private constructor(child: ChildProcess) {
    this.#child = child
    this.#rpc = new Rpc(child)
    this.#rpc.onMessage = (m) => {
      if (m['type'] === 'progress') this.sent = Number(m['sent'])
    }
  }

  static async start(): Promise<Publisher> {
    const child = spawnScript('publisher.ts')
    await waitReady(child)
    return new Publisher(child)
  }

  get pid(): number {
    return this.#child.pid ?? 0
  }

  run(plan: PublishPlan): Promise<PublishResult> {
    this.sent = 0
    return this.#rpc.call<PublishResult>('publish', { plan }, plan.maxMs + 120_000)
  }

  async stop(): Promise<void> {
    await stopChild(this.#child, 'SIGTERM', 5000)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  serveRpc({
    publish: (m) =>
      publish(m['plan'] as PublishPlan, (sent) => {
        process.send?.({ type: 'progress', sent })
      }),
  })
  process.send?.({ type: 'ready' })
}
