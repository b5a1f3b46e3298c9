// The receivers: a node:http process (run as a script) that serves any number of endpoints, each
// on its own 127.0.0.1 port (so each endpoint is a separate origin, with its own connection pool
// in the sender, as distinct customers would be). Per endpoint it counts requests, 2xx answers,
// unique deliveries (by webhook-id) and duplicates; it timestamps the first byte of each
// request (t3) and records t3 − t0 for the first successful arrival of every delivery, where t0
// is the scheduled time carried in the body; it can delay answers (slow endpoints) or fail them
// (a status, always or for the first N ms). It checks both signatures on a sample of requests.
//
// The harness drives it over IPC with the Receivers class below.
import type { ChildProcess } from 'node:child_process'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Rpc, serveRpc, spawnScript, stopChild, waitReady } from './lib/child.ts'
import { readT0, verifySignatures } from './lib/payload.ts'
import { type LatencySummary, mergeHistograms, Samples, seeded, summarize } from './lib/stats.ts'

export interface EndpointSpec {
  /** healthy, slow, failing, flaky, …: latency and counts are also reported per group. */
  group: string
  /** Answer after this many ms (± jitterMs). */
  delayMs?: number
  jitterMs?: number
  /** Answer with this status instead of 200 ... */
  failStatus?: number
  /** ... only during the first failForMs after the endpoint's first request (unset: always). */
  failForMs?: number
}

export interface EndpointStats {
  index: number
  group: string
  url: string
  requests: number
  ok: number
  failedAnswers: number
  unique: number
  duplicates: number
  firstOkAt: number
  lastOkAt: number
  lastRequestAt: number
}

export interface ReceiverStats {
  endpoints: EndpointStats[]
  requests: number
  unique: number
  duplicates: number
  lastRequestAt: number
  signaturesChecked: number
  signaturesBad: number
  latency?: Record<string, LatencySummary>
  samplesDropped: number
}

const verifyEvery = 64

// ---------------------------------------------------------------------------------------------
// The process.

interface Endpoint {
  spec: EndpointSpec
  server: http.Server
  url: string
  requests: number
  ok: number
  failedAnswers: number
  seen: Set<string>
  duplicates: number
  firstOkAt: number
  lastOkAt: number
  lastRequestAt: number
  firstRequestAt: number
  samples: Samples
}

function runReceiver(): void {
  let endpoints: Endpoint[] = []
  let secret: string | undefined
  let checked = 0
  let bad = 0
  /** Latency samples are kept only for deliveries scheduled (t0) at or after this time (warm-up). */
  let latencyFrom = 0
  const rand = seeded(7)

  function clock(): number {
    return performance.timeOrigin + performance.now()
  }

  function handler(ep: Endpoint): http.RequestListener {
    return (req, res) => {
      const t3 = clock()
      ep.requests++
      ep.lastRequestAt = t3
      if (ep.firstRequestAt === 0) ep.firstRequestAt = t3
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const s = ep.spec
        const failing =
          s.failStatus !== undefined && (s.failForMs === undefined || t3 - ep.firstRequestAt < s.failForMs)
        const finish = () => {
          const id = String(req.headers['webhook-id'] ?? '')
          if (failing) {
            ep.failedAnswers++
            res.statusCode = s.failStatus ?? 500
            res.end('fail')
            return
          }
          res.statusCode = 200
          res.end('ok')
          const done = clock()
          if (ep.seen.has(id)) {
            ep.duplicates++
            return
          }
          ep.seen.add(id)
          ep.ok++
          if (ep.firstOkAt === 0) ep.firstOkAt = done
          ep.lastOkAt = done
          const first = chunks[0]
          const t0 = first ? readT0(first.subarray(0, 48).toString('latin1')) : Number.NaN
          if (Number.isFinite(t0) && t0 >= latencyFrom) ep.samples.push(t3 - t0)
        }
        if (secret && ep.requests % verifyEvery === 1) {
          checked++
          if (!verifySignatures(secret, req.headers, Buffer.concat(chunks))) bad++
        }
        if (s.delayMs) {
          const d = Math.max(0, s.delayMs + (s.jitterMs ? (rand() * 2 - 1) * s.jitterMs : 0))
          setTimeout(finish, d)
        } else finish()
      })
    }
  }

  async function closeAll(): Promise<void> {
    await Promise.all(
      endpoints.map(
        (ep) =>
          new Promise<void>((r) => {
            ep.server.close(() => r())
            ep.server.closeAllConnections()
          }),
      ),
    )
    endpoints = []
  }

  function stats(groups: boolean): ReceiverStats {
    const eps: EndpointStats[] = endpoints.map((ep, index) => ({
      index,
      group: ep.spec.group,
      url: ep.url,
      requests: ep.requests,
      ok: ep.ok,
      failedAnswers: ep.failedAnswers,
      unique: ep.seen.size,
      duplicates: ep.duplicates,
      firstOkAt: ep.firstOkAt,
      lastOkAt: ep.lastOkAt,
      lastRequestAt: ep.lastRequestAt,
    }))
    const out: ReceiverStats = {
      endpoints: eps,
      requests: eps.reduce((a, e) => a + e.requests, 0),
      unique: eps.reduce((a, e) => a + e.unique, 0),
      duplicates: eps.reduce((a, e) => a + e.duplicates, 0),
      lastRequestAt: Math.max(0, ...eps.map((e) => e.lastRequestAt)),
      signaturesChecked: checked,
      signaturesBad: bad,
      samplesDropped: endpoints.reduce((a, e) => a + e.samples.dropped, 0),
    }
    if (groups) {
      const byGroup = new Map<string, Float64Array[]>()
      for (const ep of endpoints) {
        const list = byGroup.get(ep.spec.group) ?? []
        list.push(ep.samples.values())
        byGroup.set(ep.spec.group, list)
      }
      const latency: Record<string, LatencySummary> = {}
      const all: Float64Array[] = []
      for (const [g, arrs] of byGroup) {
        const n = arrs.reduce((a, x) => a + x.length, 0)
        const merged = new Float64Array(n)
        let o = 0
        for (const a of arrs) {
          merged.set(a, o)
          o += a.length
        }
        latency[g] = summarize(merged)
        all.push(merged)
      }
      if (byGroup.size > 1) {
        const n = all.reduce((a, x) => a + x.length, 0)
        const merged = new Float64Array(n)
        let o = 0
        for (const a of all) {
          merged.set(a, o)
          o += a.length
        }
        latency['all'] = summarize(merged)
      } else {
        const only = [...Object.values(latency)][0]
        if (only) latency['all'] = only
      }
      out.latency = latency
    }
    return out
  }

  serveRpc({
    async configure(m) {
      await closeAll()
      secret = typeof m['secret'] === 'string' ? m['secret'] : undefined
      checked = 0
      bad = 0
      latencyFrom = 0
      const specs = m['endpoints'] as EndpointSpec[]
      for (const [i, spec] of specs.entries()) {
        const ep: Endpoint = {
          spec,
          server: http.createServer(),
          url: '',
          requests: 0,
          ok: 0,
          failedAnswers: 0,
          seen: new Set(),
          duplicates: 0,
          firstOkAt: 0,
          lastOkAt: 0,
          lastRequestAt: 0,
          firstRequestAt: 0,
          samples: new Samples(),
        }
        ep.server.on('request', handler(ep))
        ep.server.keepAliveTimeout = 60_000
        ep.server.headersTimeout = 65_000
        ep.server.maxRequestsPerSocket = 0
        await new Promise<void>((r) => ep.server.listen(0, '127.0.0.1', 1024, () => r()))
        ep.url = `http://127.0.0.1:${(ep.server.address() as AddressInfo).port}/hook/${i}`
        endpoints.push(ep)
      }
      return endpoints.map((e) => e.url)
    },
    secret(m) {
      secret = String(m['secret'])
      return true
    },
    latencyFrom(m) {
      latencyFrom = Number(m['at'] ?? 0)
      return true
    },
    stats(m) {
      return stats(m['latency'] === true)
    },
    async close() {
      await closeAll()
      return true
    },
  })
  process.send?.({ type: 'ready' })
}

// ---------------------------------------------------------------------------------------------
// The harness side: spreads endpoints over one or more receiver processes.

export class Receivers {
  readonly #procs: { child: ChildProcess; rpc: Rpc }[] = []
  #layout: { proc: number; count: number }[] = []

  static async start(processes = 1): Promise<Receivers> {
    const r = new Receivers()
    for (let i = 0; i < processes; i++) {
      const child = spawnScript('receiver.ts')
      await waitReady(child)
      r.#procs.push({ child, rpc: new Rpc(child) })
    }
    return r
  }

  pids(): number[] {
    return this.#procs.map((p) => p.child.pid ?? 0).filter((p) => p > 0)
  }

  /** Opens the endpoints (round-robin over the processes); returns their URLs in order. */
  async configure(specs: EndpointSpec[], secret?: string): Promise<string[]> {
    const per: EndpointSpec[][] = this.#procs.map(() => [])
    const where: { proc: number; idx: number }[] = []
    specs.forEach((s, i) => {
      const p = i % this.#procs.length
      where.push({ proc: p, idx: per[p]!.length })
      per[p]!.push(s)
    })
    const urls = await Promise.all(
      this.#procs.map((p, i) => p.rpc.call<string[]>('configure', { endpoints: per[i], secret })),
    )
    this.#layout = per.map((list, proc) => ({ proc, count: list.length }))
    return where.map((w) => urls[w.proc]![w.idx]!)
  }

  async setSecret(secret: string): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.rpc.call('secret', { secret })))
  }

  /** Keep latency samples only of deliveries scheduled at or after `at` (skips a warm-up). */
  async latencyFrom(at: number): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.rpc.call('latencyFrom', { at })))
  }

  /** Merged stats of all processes; with latency: summaries per group. */
  async stats(latency = false): Promise<ReceiverStats> {
    const all = await Promise.all(
      this.#procs.map((p) => p.rpc.call<ReceiverStats>('stats', { latency }, 120_000)),
    )
    if (all.length === 1) return all[0]!
    const endpoints = all.flatMap((s) => s.endpoints)
    const out: ReceiverStats = {
      endpoints,
      requests: all.reduce((a, s) => a + s.requests, 0),
      unique: all.reduce((a, s) => a + s.unique, 0),
      duplicates: all.reduce((a, s) => a + s.duplicates, 0),
      lastRequestAt: Math.max(...all.map((s) => s.lastRequestAt)),
      signaturesChecked: all.reduce((a, s) => a + s.signaturesChecked, 0),
      signaturesBad: all.reduce((a, s) => a + s.signaturesBad, 0),
      samplesDropped: all.reduce((a, s) => a + s.samplesDropped, 0),
    }
    if (latency) {
      // Percentiles cannot be merged exactly; merge histograms and keep the worst per-process tail.
      const groups = new Set(all.flatMap((s) => Object.keys(s.latency ?? {})))
      out.latency = {}
      for (const g of groups) {
        const parts = all.map((s) => s.latency?.[g]).filter((x): x is LatencySummary => x !== undefined)
        out.latency[g] = {
          count: parts.reduce((a, p) => a + p.count, 0),
          p50: Math.max(...parts.map((p) => p.p50 ?? 0)),
          p90: Math.max(...parts.map((p) => p.p90 ?? 0)),
          p99: Math.max(...parts.map((p) => p.p99 ?? 0)),
          p999: Math.max(...parts.map((p) => p.p999 ?? 0)),
          max: Math.max(...parts.map((p) => p.max ?? 0)),
          histogram: mergeHistograms(parts.map((p) => p.histogram)),
        }
      }
    }
    return out
  }

  async close(): Promise<void> {
    for (const p of this.#procs) await p.rpc.call('close').catch(() => undefined)
  }

  async stop(): Promise<void> {
    await Promise.all(this.#procs.map((p) => stopChild(p.child, 'SIGTERM', 5000)))
  }

  get layout(): { proc: number; count: number }[] {
    return this.#layout
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) runReceiver()
