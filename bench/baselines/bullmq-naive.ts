// B1, BullMQ as a Node team would first write it: the ingest handler does one `queue.add` per
// subscription (awaited one after the other) with the parsed event as job data, and the worker
// (concurrency 50) POSTs with the global `fetch` and an AbortSignal timeout.
import { type BullImpl, jobOptions, runBaseline, signedHeaders } from './bullmq-common.ts'

export const naive: BullImpl = {
  concurrency: 50,
  async enqueue(queue, cfg, raw, eventId) {
    const event = JSON.parse(raw) as unknown
    for (const url of cfg.urls) await queue.add('deliver', { url, event, eventId }, jobOptions(cfg))
    return cfg.urls.length
  },
  makeSender(cfg) {
    return async (job, id, body, attempt) => {
      const r = await fetch(job.data.url, {
        method: 'POST',
        headers: signedHeaders(cfg.secret, id, body, attempt),
        body,
        signal: AbortSignal.timeout(cfg.timeoutMs),
      })
      await r.arrayBuffer()
      if (!r.ok) throw new Error(`status ${r.status}`)
    }
  },
}

if (process.env['BENCH_BULL_CONFIG']) await runBaseline(naive)
