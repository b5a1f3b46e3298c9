// What the two BullMQ baselines share: the process around them. An ingest API on node:http
// (POST /events, the same body and the same 202 answer as Hookpost's), a BullMQ Queue that the
// API enqueues to, a BullMQ Worker that delivers, in one process (role all, like `hookpost serve`)
// or split (role api, then role worker, for the backlog drain). Redis is the bench's private
// redis-server. The two files beside this one differ only in how they enqueue and send.
//
// BullMQ 6 needs a Redis client library: ioredis is an optional peer dependency of bullmq and
// is loaded here at run time. Without it the baselines are reported as not run.

import type { ChildProcess } from 'node:child_process'
import { createHmac, randomUUID } from 'node:crypto'
import http from 'node:http'
import { createRequire } from 'node:module'
import { type Job, Queue, Worker } from 'bullmq'
import { Rpc, serveRpc, spawnScript, stopChild, waitReady } from '../lib/child.ts'

export type BullKind = 'naive' | 'tuned'

export interface BullConfig {
  kind: BullKind
  role: 'all' | 'api' | 'worker'
  port: number
  redisPort: number
  queue: string
  urls: string[]
  secret: string
  scheduleMs: number[]
  timeoutMs: number
}

export interface DeliveryJob {
  url: string
  /** tuned: the body as received; naive: the parsed event (BullMQ serialises it again). */
  body?: string
  event?: unknown
  eventId: string
}

export interface BullStats {
  enqueued: number
  events: number
  ok: number
  failedAttempts: number
  finalFailed: number
  counts?: Record<string, number>
}

export interface BullImpl {
  concurrency: number
  /** Enqueues one delivery per URL for an event. */
  enqueue(queue: Queue<DeliveryJob>, cfg: BullConfig, raw: string, eventId: string): Promise<number>
  /** Sends one attempt; throws on a non-2xx answer or a transport error. */
  makeSender(
    cfg: BullConfig,
  ): (job: Job<DeliveryJob>, id: string, body: string, attempt: number) => Promise<void>
}

export function ioredisAvailable(): boolean {
  try {
    createRequire(import.meta.url).resolve('ioredis')
    return true
  } catch {
    return false
  }
}

type RedisCtor = new (opts: Record<string, unknown>) => { quit(): Promise<unknown>; disconnect(): void }

async function loadIORedis(): Promise<RedisCtor> {
  const name = 'ioredis'
  try {
    const mod = (await import(name)) as { default?: RedisCtor; Redis?: RedisCtor }
    const ctor = mod.Redis ?? mod.default
    if (!ctor) throw new Error('ioredis exports no Redis class')
    return ctor
  } catch (e) {
    throw new Error(
      `the BullMQ baselines need the ioredis package (npm i -D ioredis): ${(e as Error).message}`,
    )
  }
}

/** Contract section 6 headers, the same scheme Hookpost signs with. */
export function signedHeaders(
  secret: string,
  id: string,
  body: string,
  attempt: number,
): Record<string, string> {
  const ts = String(Math.floor(Date.now() / 1000))
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  return {
    'content-type': 'application/json',
    'user-agent': 'bench-bullmq',
    'x-delivery-hmac-sha256': createHmac('sha256', secret).update(body).digest('hex'),
    'webhook-id': id,
    'webhook-timestamp': ts,
    'webhook-signature': `v1,${createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')}`,
    'x-delivery-event': 'account_holder.created',
    'x-delivery-attempt': String(attempt),
  }
}

export function jobOptions(cfg: BullConfig) {
  return {
    attempts: cfg.scheduleMs.length + 1,
    backoff: { type: 'custom' },
    removeOnComplete: true,
    removeOnFail: 1000,
  }
}

/** The process body of a baseline (called by bullmq-naive.ts / bullmq-tuned.ts as scripts). */
export async function runBaseline(impl: BullImpl): Promise<void> {
  const cfg = JSON.parse(process.env['BENCH_BULL_CONFIG'] ?? '{}') as BullConfig
  const Redis = await loadIORedis()
  const connection = () => new Redis({ host: '127.0.0.1', port: cfg.redisPort, maxRetriesPerRequest: null })
  const stats: BullStats = { enqueued: 0, events: 0, ok: 0, failedAttempts: 0, finalFailed: 0 }
  const queueConn = connection()
  const queue = new Queue<DeliveryJob>(cfg.queue, { connection: queueConn as never })
  let server: http.Server | undefined
  let worker: Worker<DeliveryJob> | undefined

  if (cfg.role !== 'worker') {
    server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/health') {
        res.end('{"status":"ok"}')
        return
      }
      if (req.method !== 'POST' || req.url !== '/events') {
        res.statusCode = 404
        res.end()
        return
      }
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8')
        const eventId = `evt_${randomUUID()}`
        let eventName = ''
        try {
          eventName = String((JSON.parse(raw) as { eventName?: unknown }).eventName ?? '')
        } catch {
          res.statusCode = 400
          res.end('{"error":"invalid_json"}')
          return
        }
        impl.enqueue(queue, cfg, raw, eventId).then(
          (n) => {
            stats.events++
            stats.enqueued += n
            res.statusCode = 202
            res.setHeader('content-type', 'application/json')
            res.end(JSON.stringify({ event: { id: eventId, eventName, deliveries: n } }))
          },
          (e: unknown) => {
            res.statusCode = 500
            res.end(JSON.stringify({ error: (e as Error).message }))
          },
        )
      })
    })
    server.keepAliveTimeout = 60_000
    await new Promise<void>((r) => server!.listen(cfg.port, '127.0.0.1', () => r()))
  }

  if (cfg.role !== 'api') {
    const send = impl.makeSender(cfg)
    const schedule = cfg.scheduleMs
    worker = new Worker<DeliveryJob>(
      cfg.queue,
      async (job) => {
        const id = `dlv_${job.id}`
        const body = job.data.body ?? JSON.stringify(job.data.event)
        await send(job, id, body, job.attemptsMade + 1)
      },
      {
        connection: connection() as never,
        concurrency: impl.concurrency,
        settings: {
          backoffStrategy: (attemptsMade: number) => {
            const base = schedule[Math.min(schedule.length - 1, Math.max(0, attemptsMade - 1))] ?? 1000
            return Math.round(base * (0.8 + Math.random() * 0.4))
          },
        },
      },
    )
    worker.on('completed', () => {
      stats.ok++
    })
    worker.on('failed', (job) => {
      stats.failedAttempts++
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) stats.finalFailed++
    })
    worker.on('error', (e) => {
      process.stderr.write(`bullmq worker error: ${e.message}\n`)
    })
    await worker.waitUntilReady()
  }

  const counts = async () =>
    (await queue.getJobCounts(
      'waiting',
      'delayed',
      'active',
      'prioritized',
      'waiting-children',
      'failed',
      'completed',
    )) as Record<string, number>

  serveRpc({
    stats: () => stats,
    counts: async () => ({ ...stats, counts: await counts() }),
    /** Stops taking work (active jobs finish), then answers the final stats and the job counts. */
    shutdown: async () => {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
      server?.closeAllConnections()
      await worker?.close()
      const c = await counts()
      await queue.close()
      return { ...stats, counts: c }
    },
  })
  process.send?.({ type: 'ready' })
}

// ---------------------------------------------------------------------------------------------
// The harness side.

export class BullBaseline {
  readonly kind: BullKind
  readonly child: ChildProcess
  readonly rpc: Rpc
  readonly url: string

  private constructor(kind: BullKind, child: ChildProcess, port: number) {
    this.kind = kind
    this.child = child
    this.rpc = new Rpc(child)
    this.url = `http://127.0.0.1:${port}`
  }

  static async start(cfg: BullConfig): Promise<BullBaseline> {
    const child = spawnScript(`baselines/bullmq-${cfg.kind}.ts`, {
      env: { BENCH_BULL_CONFIG: JSON.stringify(cfg) },
    })
    await waitReady(child, 30_000)
    return new BullBaseline(cfg.kind, child, cfg.port)
  }

  get pid(): number {
    return this.child.pid ?? 0
  }

  stats(): Promise<BullStats> {
    return this.rpc.call<BullStats>('stats')
  }

  counts(): Promise<BullStats> {
    return this.rpc.call<BullStats>('counts')
  }

  /** Graceful stop; returns the final stats with the job counts left in Redis. */
  async shutdown(): Promise<BullStats> {
    const s = await this.rpc.call<BullStats>('shutdown', {}, 60_000)
    await stopChild(this.child, 'SIGTERM', 5000)
    return s
  }

  async kill(): Promise<void> {
    await stopChild(this.child, 'SIGKILL', 1000)
  }
}
