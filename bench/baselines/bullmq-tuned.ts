// B2, BullMQ as a competent Node team would tune it: one `addBulk` per event with the body kept
// as the received string, worker concurrency 100, and an undici Pool per origin (keep-alive,
// bounded connections) instead of fetch.
import { Pool } from 'undici'
import { type BullImpl, jobOptions, runBaseline, signedHeaders } from './bullmq-common.ts'

export const tuned: BullImpl = {
  concurrency: 100,
  async enqueue(queue, cfg, raw, eventId) {
    await queue.addBulk(
      cfg.urls.map((url) => ({ name: 'deliver', data: { url, body: raw, eventId }, opts: jobOptions(cfg) })),
    )
    return cfg.urls.length
  },
  makeSender(cfg) {
    const pools = new Map<string, Pool>()
    return async (job, id, body, attempt) => {
      const u = new URL(job.data.url)
      let pool = pools.get(u.origin)
      if (!pool) {
        pool = new Pool(u.origin, { connections: 50, keepAliveTimeout: 30_000 })
        pools.set(u.origin, pool)
      }
      const r = await pool.request({
        path: u.pathname,
        method: 'POST',
        headers: signedHeaders(cfg.secret, id, body, attempt),
        body,
        headersTimeout: cfg.timeoutMs,
        bodyTimeout: cfg.timeoutMs,
      })
      await r.body.dump()
      if (r.statusCode < 200 || r.statusCode >= 300) throw new Error(`status ${r.statusCode}`)
    }
  },
}

if (process.env['BENCH_BULL_CONFIG']) await runBaseline(tuned)
