// B0, the raw ceiling (calibration, not durable): one Node process sends the same signed
// requests straight to the receivers with an undici Pool per origin, no storage, no queue. It is
// the upper bound that a delivery service on this machine could reach, measured in the same run.
//
// Requests go out "event by event": request i·E+k is event i for endpoint k (fan-out order), and
// the same body (with benchT0 = the time it was sent) and both signatures as Hookpost sends.
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'
import { assertLoopback, Rpc, serveRpc, spawnScript, stopChild, waitReady } from '../lib/child.ts'
import { makeBody, signHeaders } from '../lib/payload.ts'

export interface RawPlan {
  urls: string[]
  /** Events; each is sent once to every URL. */
  events: number
  secret: string
  tail: string
  /** Connections per origin (Hookpost's default per subscription is 32). */
  connectionsPerOrigin: number
  /** Requests in flight overall. */
  inFlight: number
  maxMs: number
}

export interface RawResult {
  sent: number
  ok: number
  failed: number
  startedAt: number
  endedAt: number
  stoppedByTime: boolean
}

function clock(): number {
  return performance.timeOrigin + performance.now()
}

async function run(plan: RawPlan, progress: (n: number) => void): Promise<RawResult> {
  const pools = plan.urls.map((u) => {
    assertLoopback(u)
    const url = new URL(u)
    return {
      path: url.pathname,
      pool: new Pool(url.origin, { connections: plan.connectionsPerOrigin, keepAliveTimeout: 60_000 }),
    }
  })
  const total = plan.events * pools.length
  let next = 0
  let ok = 0
  let failed = 0
  let stoppedByTime = false
  const startedAt = clock()
  const deadline = startedAt + plan.maxMs
  // webhook-id must be unique across runs of this process (warm-up, then the measured run).
  const runId = Math.random().toString(36).slice(2, 10)
  const tick = setInterval(() => progress(ok + failed), 250)
  const lanes = Array.from({ length: plan.inFlight }, async () => {
    while (next < total) {
      if (clock() > deadline) {
        stoppedByTime = true
        return
      }
      const i = next++
      const ev = Math.floor(i / pools.length)
      const target = pools[i % pools.length]!
      const body = makeBody(plan.tail, clock(), ev)
      const id = `raw_${runId}_${i}`
      try {
        const r = await target.pool.request({
          path: target.path,
          method: 'POST',
          headers: signHeaders(plan.secret, id, body, 1, 'bench-raw'),
          body,
        })
        await r.body.dump()
        if (r.statusCode >= 200 && r.statusCode < 300) ok++
        else failed++
      } catch {
        failed++
      }
    }
  })
  await Promise.all(lanes)
  const endedAt = clock()
  clearInterval(tick)
  progress(ok + failed)
  await Promise.all(pools.map((p) => p.pool.close()))
  return { sent: ok + failed, ok, failed, startedAt, endedAt, stoppedByTime }
}

/** Starts the raw sender in its own process; run() measures one batch. */
export class RawCeiling {
  readonly #child: ChildProcess
  readonly #rpc: Rpc
  done = 0

  private constructor(child: ChildProcess) {
    this.#child = child
    this.#rpc = new Rpc(child)
    this.#rpc.onMessage = (m) => {
      if (m['type'] === 'progress') this.done = Number(m['done'])
    }
  }

  static async start(): Promise<RawCeiling> {
    const child = spawnScript('baselines/raw-ceiling.ts')
    await waitReady(child)
    return new RawCeiling(child)
  }

  get pid(): number {
    return this.#child.pid ?? 0
  }

  run(plan: RawPlan): Promise<RawResult> {
    return this.#rpc.call<RawResult>('run', { plan }, plan.maxMs + 60_000)
  }

  async stop(): Promise<void> {
    await stopChild(this.#child, 'SIGTERM', 5000)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  serveRpc({
    run: (m) =>
      run(m['plan'] as RawPlan, (done) => {
        process.send?.({ type: 'progress', done })
      }),
  })
  process.send?.({ type: 'ready' })
}
