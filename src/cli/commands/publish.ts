// `hookpost publish [file]`: POST /events with a file's bytes, or stdin's, sent unchanged.
// `--file <events>`: many events (NDJSON or a JSON array) through POST /events/batch, each
// payload's bytes spliced into the request unchanged.
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { elementSpans, rootSpan, type Span } from '../../events/json-spans.ts'
import { ApiClient, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { fields, output, rowsOf } from '../output.ts'

/** Events per POST /events/batch (the API's maximum). */
const batchMax = 1000
/** Bytes per request, under the API's default HOOKPOST_BATCH_BODY_LIMIT (10 MiB). */
const batchBytesMax = 8 * 1024 * 1024

async function readStdin(): Promise<Buffer> {
  if (process.stdin.isTTY) {
    throw new Error('no file given and stdin is a terminal: pass a file, or pipe the payload in')
  }
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** The payloads of an events file: a JSON array's elements, or else one JSON value per non-blank line. */
export function payloadsOf(file: Buffer): Buffer[] {
  const root = rootSpan(file)
  if (file[root.start] === 0x5b) {
    try {
      JSON.parse(file.toString('utf8').replace(/^\uFEFF/, ''))
    } catch (e) {
      throw new Error(`the events file is not a JSON array: ${(e as Error).message}`)
    }
    return elementSpans(file, root).map((s: Span) => file.subarray(s.start, s.end))
  }
  const out: Buffer[] = []
  let start = 0
  for (let line = 1; start < file.length; line++) {
    let end = file.indexOf(0x0a, start)
    if (end < 0) end = file.length
    const text = file.subarray(start, end)
    start = end + 1
    const s = rootSpan(text)
    if (s.start === text.length) continue
    try {
      JSON.parse(text.toString('utf8').replace(/^\uFEFF/, ''))
    } catch (e) {
      throw new Error(`line ${line} of the events file is not one JSON value: ${(e as Error).message}`)
    }
    out.push(text.subarray(s.start, s.end))
  }
  return out
}

/** Batch bodies of at most batchMax events and (but for a single huge event) batchBytesMax bytes. */
export function batchBodies(payloads: Buffer[], flags: Flags): { first: number; body: Buffer }[] {
  const key = typeof flags['idempotencyKey'] === 'string' ? flags['idempotencyKey'] : undefined
  const ordering = typeof flags['orderingKey'] === 'string' ? flags['orderingKey'] : undefined
  const items = payloads.map((p, i) => {
    const extra = [
      key === undefined ? '' : `,"idempotencyKey":${JSON.stringify(`${key}:${i + 1}`)}`,
      ordering === undefined ? '' : `,"orderingKey":${JSON.stringify(ordering)}`,
    ].join('')
    return Buffer.concat([Buffer.from('{"payload":'), p, Buffer.from(`${extra}}`)])
  })
  const out: { first: number; body: Buffer }[] = []
  let first = 0
  let size = 0
  for (let i = 0; i <= items.length; i++) {
    const full = i - first >= batchMax || size + (items[i]?.length ?? 0) > batchBytesMax
    if (i === items.length || (i > first && full)) {
      const parts = items.slice(first, i).flatMap((b, k) => (k === 0 ? [b] : [Buffer.from(','), b]))
      out.push({ first, body: Buffer.concat([Buffer.from('{"events":['), ...parts, Buffer.from(']}')]) })
      first = i
      size = 0
    }
    size += (items[i]?.length ?? 0) + 1
  }
  return out
}

export function register(program: Command): void {
  withClientOptions(program.command('publish'), 'publisher')
    .argument('[file]', 'the event payload (JSON with its eventName); stdin when absent or -')
    .description('publish an event (publisher credential); the bytes are sent unchanged')
    .option(
      '--file <events>',
      'many events at once through POST /events/batch: NDJSON (one payload per line) or a JSON array of payloads; - for stdin',
    )
    .option(
      '--idempotency-key <key>',
      'the same key within 24 h returns the first event and creates nothing (with --file: <key>:<n> for the nth event)',
    )
    .option('--ordering-key <key>', 'events sharing a key reach ordered subscriptions in order')
    .action(async (file: string | undefined, flags: Flags) => {
      const api = new ApiClient(clientOptionsOf(flags)).requireCredentials()
      const events = flags['file']
      if (typeof events === 'string') {
        if (file !== undefined) throw new Error('give either a payload file or --file, not both')
        const payloads = payloadsOf(events === '-' ? await readStdin() : await readFile(events))
        if (payloads.length === 0) throw new Error('the events file holds no event')
        const published: unknown[] = []
        for (const b of batchBodies(payloads, flags)) {
          try {
            const r = await api.call<{ events: unknown[] }>('POST', '/events/batch', { body: b.body })
            published.push(...r.events)
          } catch (e) {
            // Earlier batches are committed; say so, and where the indexes in the error start.
            if (b.first > 0 && e instanceof Error) {
              e.message += ` (in the batch from event ${b.first + 1}, whose /events/0 it is; the ${b.first} events before were published)`
            }
            throw e
          }
        }
        output(flags, { events: published }, () => rowsOf(published as object[]))
        return
      }
      const body = file === undefined || file === '-' ? await readStdin() : await readFile(file)
      if (body.length === 0) throw new Error('the payload is empty')
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (typeof flags['idempotencyKey'] === 'string') headers['idempotency-key'] = flags['idempotencyKey']
      if (typeof flags['orderingKey'] === 'string') headers['x-ordering-key'] = flags['orderingKey']
      const r = await api.call<{ event: object }>('POST', '/events', { body, headers })
      output(flags, r, () => fields(r.event))
    })
}
