// `hookpost listen`: a development tunnel through the user's own Hookpost, no third-party relay.
//
// 1. POST /relay/sessions opens a relay session on the API node: a token and its relay URL
//    (<public URL>/relay/<token>).
// 2. GET /relay/<token>/events holds a server-sent event stream on which that node pushes every
//    request delivered to the relay URL.
// 3. A temporary subscription of the chosen event type is created with the relay URL (the user's
//    own subscriptions are never touched), and deleted on exit.
// 4. Each pushed request is forwarded byte for byte, with its headers (signatures included), to
//    --forward; the local answer (status, headers, body up to 64 KiB) is posted back to
//    /relay/<token>/responses/<id> and becomes the worker's answer, so it shows up in the
//    delivery's attempt log. No answer in time: 504; the local server down: 502.
//
// If the CLI dies without cleaning up, the session expires after 30 s without a stream, the relay
// URL answers 410 Gone, and the temporary subscription is deactivated by the first delivery.
import type { Command } from 'commander'
import { request } from 'undici'
import { ApiClient, ApiError, clientOptionsOf, type Flags, withClientOptions } from '../api-client.ts'
import { exitCode, lineOutput, UsageError } from '../output.ts'

interface RelaySession {
  token: string
  url: string
  deadlineMs: number
}

interface RelayedRequest {
  id: string
  method: string
  headers: Record<string, string>
  body: string
}

export const maxAnswerBytes = 64 * 1024
const dropOnForward = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding'])

export interface ListenOptions {
  api: ApiClient
  forward: string
  event: string
  /** A line for a person, and the same as an object (for --json). */
  out: (line: string, json?: object) => void
  signal: AbortSignal
}

export function register(program: Command): void {
  withClientOptions(program.command('listen'), 'consumer')
    .argument('[subscriptionId]', "listen to this subscription's event type (it is left as it is)")
    .description(
      "forward an event type's deliveries to a local server, through your own Hookpost (development)",
    )
    .requiredOption('--forward <url>', 'where to send each delivery, e.g. http://127.0.0.1:3000/webhooks')
    .option('--event <type>', 'the event type to listen to (instead of a subscription id)')
    .action(async (subscriptionId: string | undefined, flags: Flags) => {
      const api = new ApiClient(clientOptionsOf(flags)).requireCredentials()
      const forward = String(flags['forward'])
      try {
        const u = new URL(forward)
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error()
      } catch {
        throw new UsageError(`--forward: "${forward}" is not an http(s) URL`)
      }
      let event = typeof flags['event'] === 'string' ? flags['event'] : undefined
      if (!event && !subscriptionId) throw new UsageError('give a subscription id or --event <type>')
      if (!event) {
        const r = await api.call<{ subscription: { event: string } }>(
          'GET',
          `/webhooks/subscription/${encodeURIComponent(subscriptionId!)}`,
        )
        event = r.subscription.event
      }
      const stop = new AbortController()
      const onSignal = () => stop.abort()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      const end = await listen({
        api,
        forward,
        event,
        out: lineOutput(flags),
        signal: stop.signal,
      })
      // Undici keeps sockets alive a while; nothing else is left to do.
      process.exit(end === 'closed' ? exitCode.failed : (process.exitCode ?? exitCode.ok))
    })
}

/** Resolves 'stopped' after Ctrl-C (o.signal), 'closed' when the server ended the session. */
export async function listen(o: ListenOptions): Promise<'stopped' | 'closed'> {
  const { api } = o
  const session = (await api.call<{ relay: RelaySession }>('POST', '/relay/sessions')).relay
  const stream = new AbortController()
  const abortStream = () => stream.abort()
  o.signal.addEventListener('abort', abortStream, { once: true })
  let subscriptionId: string | undefined
  const cleanup = async () => {
    stream.abort()
    if (subscriptionId) {
      await api
        .call('DELETE', `/webhooks/subscription/${encodeURIComponent(subscriptionId)}`)
        .then(() => o.out(`deleted the temporary subscription ${subscriptionId}`))
        .catch((e: unknown) =>
          o.out(
            `could not delete the temporary subscription ${subscriptionId} (${(e as Error).message}); it is deactivated at its next delivery, or run: hookpost subscriptions delete ${subscriptionId}`,
          ),
        )
    }
    await api.call('DELETE', `/relay/${session.token}`).catch(() => {})
  }

  try {
    let ready!: () => void
    const isReady = new Promise<void>((r) => {
      ready = r
    })
    const streaming = follow(o, session, stream.signal, ready)
    await Promise.race([isReady, streaming])
    if (stream.signal.aborted) return 'stopped'
    const created = await api.call<{ subscription: { id: string } }>('POST', '/webhooks/subscription', {
      json: { event: o.event, url: session.url, active: true },
    })
    subscriptionId = created.subscription.id
    o.out(`listening: ${o.event} deliveries → ${o.forward}`)
    o.out(`  via ${session.url} (temporary subscription ${subscriptionId}, deleted on exit; Ctrl-C to stop)`)
    return (await streaming) ?? 'stopped'
  } finally {
    o.signal.removeEventListener('abort', abortStream)
    await cleanup()
  }
}

/** Holds the event stream, reconnecting while the session lives; resolves when stopped. */
async function follow(
  o: ListenOptions,
  s: RelaySession,
  signal: AbortSignal,
  ready: () => void,
): Promise<'closed' | undefined> {
  let failures = 0
  while (!signal.aborted) {
    try {
      const res = await request(o.api.url(`/relay/${s.token}/events`), {
        method: 'GET',
        headers: { accept: 'text/event-stream', authorization: o.api.authorization ?? '' },
        signal,
        headersTimeout: 10_000,
        // The server pings every 15 s: a silent stream is a dead one.
        bodyTimeout: 45_000,
      })
      if (res.statusCode !== 200) {
        const text = await res.body.text()
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          parsed = undefined
        }
        const e = new ApiError(res.statusCode, `http_${res.statusCode}`, text.slice(0, 200))
        const code = (parsed as { error?: { code?: string; message?: string } })?.error
        throw code?.code ? new ApiError(res.statusCode, code.code, code.message ?? '') : e
      }
      failures = 0
      let buffer = ''
      for await (const chunk of res.body) {
        buffer += (chunk as Buffer).toString('utf8')
        let i = buffer.indexOf('\n\n')
        while (i >= 0) {
          const block = buffer.slice(0, i)
          buffer = buffer.slice(i + 2)
          const ev = parseEvent(block)
          if (ev?.event === 'ready') ready()
          else if (ev?.event === 'request') void relay(o, s, JSON.parse(ev.data) as RelayedRequest)
          else if (ev?.event === 'closed') {
            o.out('the relay session was closed by the server')
            return 'closed'
          }
          i = buffer.indexOf('\n\n')
        }
      }
    } catch (e) {
      if (signal.aborted) return undefined
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) throw e
      failures++
      if (failures > 5) throw new Error(`lost the relay stream: ${(e as Error).message}`)
      o.out(`relay stream interrupted (${(e as Error).message}); reconnecting…`)
    }
    if (!signal.aborted) await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** failures)))
  }
  return undefined
}

function parseEvent(block: string): { event: string; data: string } | undefined {
  let event = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue
    if (line.startsWith('event:')) event = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
  }
  return data.length === 0 && event === 'message' ? undefined : { event, data: data.join('\n') }
}

/** Forwards one request to the local server and posts its answer back. */
async function relay(o: ListenOptions, s: RelaySession, r: RelayedRequest): Promise<void> {
  const started = Date.now()
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(r.headers)) if (!dropOnForward.has(k)) headers[k] = v
  let answer: { status: number; headers: Record<string, string>; body: Buffer }
  try {
    const res = await request(o.forward, {
      method: r.method as 'POST',
      headers,
      body: Buffer.from(r.body, 'base64'),
      headersTimeout: s.deadlineMs,
      bodyTimeout: s.deadlineMs,
    })
    const chunks: Buffer[] = []
    let size = 0
    for await (const c of res.body) {
      const b = c as Buffer
      chunks.push(b.subarray(0, maxAnswerBytes - size))
      size += Math.min(b.length, maxAnswerBytes - size)
      if (size >= maxAnswerBytes) break
    }
    if (!res.body.destroyed) res.body.destroy()
    const h: Record<string, string> = {}
    for (const [k, v] of Object.entries(res.headers)) {
      if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v
    }
    answer = { status: res.statusCode, headers: h, body: Buffer.concat(chunks) }
  } catch (e) {
    const why = (e as { code?: string }).code ?? (e as Error).message
    answer = {
      status: 502,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from(`hookpost listen: could not reach ${o.forward}: ${why}`),
    }
  }
  const status = answer.status >= 200 && answer.status <= 599 ? answer.status : 502
  const ms = Date.now() - started
  const seen = {
    at: new Date(started).toISOString(),
    method: r.method,
    path: new URL(o.forward).pathname,
    event: r.headers['x-delivery-event'] ?? null,
    deliveryId: r.headers['webhook-id'] ?? null,
    attempt: r.headers['x-delivery-attempt'] === undefined ? null : Number(r.headers['x-delivery-attempt']),
  }
  o.out(
    `${seen.at}  ${seen.method} ${seen.path}  ${seen.event ?? '-'}  ${seen.deliveryId ?? '-'}  attempt ${seen.attempt ?? '-'} → ${status} in ${ms} ms`,
    { ...seen, status, durationMs: ms },
  )
  await o.api
    .call('POST', `/relay/${s.token}/responses/${r.id}`, {
      json: { status, headers: answer.headers, body: answer.body.toString('base64') },
    })
    .catch((e: unknown) => o.out(`  the answer could not be handed back: ${(e as Error).message}`))
}
