// One POST /events/batch (contract section 10) and what its answer means for the rows in it.
// The body is assembled from the rows' JSON text, so each payload goes out as the bytes the
// application wrote.
import type { PendingRow } from './relay-database.js'

export interface HookpostTarget {
  /** The Hookpost API, e.g. `https://hooks.example.com`. */
  url: string
  /** A publisher credential's key and secret. */
  key: string
  secret: string
}

/** What the relay does with one answer. */
export type BatchAnswer =
  /** 202: every row became (or already was) the event with this id, in order. */
  | { kind: 'accepted'; eventIds: string[] }
  /** 400/409/422 naming items: those rows are refused; nothing was created, the others go again. */
  | { kind: 'refused-items'; errors: Map<number, string> }
  /** 400/409/413/422 naming no item: the batch as a whole was refused; send smaller batches. */
  | { kind: 'refused-batch'; error: string }
  /** 429/503 (with the server's delay), 5xx, a network error or a timeout: try again later. */
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  /** 401, 403, 404 and other answers that no row can fix (credential, URL): try again later. */
  | { kind: 'misconfigured'; error: string }

/** The body of one batch, `{"events":[{"payload":<row text>,"idempotencyKey":…},…]}`. */
export function batchBody(rows: readonly PendingRow[]): string {
  const items = rows.map(
    (r) =>
      `{"payload":${r.payload},"idempotencyKey":${JSON.stringify(r.idempotencyKey)}${
        r.orderingKey === null ? '' : `,"orderingKey":${JSON.stringify(r.orderingKey)}`
      }}`,
  )
  return `{"events":[${items.join(',')}]}`
}

/** Retry-After as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined
  const trimmed = header.trim()
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000
  const at = Date.parse(trimmed)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown }
}

function describe(status: number, body: ErrorBody | undefined, text: string): string {
  const code = typeof body?.error?.code === 'string' ? body.error.code : `http_${status}`
  const message = typeof body?.error?.message === 'string' ? body.error.message : text.slice(0, 200)
  return `${status} ${code}: ${message}`
}

/** The items an error answer names (`/events/<i>/…`), each with its messages. */
export function itemErrors(body: ErrorBody | undefined, count: number): Map<number, string> {
  const errors = new Map<number, string>()
  const details = body?.error?.details
  if (!Array.isArray(details)) return errors
  const code = typeof body?.error?.code === 'string' ? body.error.code : 'refused'
  for (const d of details as { path?: unknown; message?: unknown }[]) {
    const m = typeof d?.path === 'string' ? /^\/events\/(\d+)(\/.*)?$/.exec(d.path) : null
    if (!m) continue
    const i = Number(m[1])
    if (i >= count) continue
    const line = `${m[2] || '/'}: ${typeof d.message === 'string' ? d.message : 'is invalid'}`
    const previous = errors.get(i)
    errors.set(i, previous ? `${previous}; ${line}` : `${code} ${line}`)
  }
  return errors
}

export async function postBatch(
  target: HookpostTarget,
  rows: readonly PendingRow[],
  timeoutMs: number,
): Promise<BatchAnswer> {
  const url = `${target.url.replace(/\/+$/, '')}/events/batch`
  const authorization = `Basic ${Buffer.from(`${target.key}:${target.secret}`).toString('base64')}`
  let res: Response
  let text: string
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
      body: batchBody(rows),
      signal: AbortSignal.timeout(timeoutMs),
    })
    text = await res.text()
  } catch (e) {
    const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause
    const why =
      typeof cause?.code === 'string'
        ? cause.code
        : typeof cause?.message === 'string'
          ? cause.message
          : (e as Error).message
    return { kind: 'retry', error: `POST ${url} failed: ${why}` }
  }
  let body: (ErrorBody & { events?: unknown }) | undefined
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  const status = res.status
  if (status >= 200 && status < 300) {
    const events = body?.events
    if (
      Array.isArray(events) &&
      events.length === rows.length &&
      events.every((e) => typeof (e as { id?: unknown })?.id === 'string')
    ) {
      return { kind: 'accepted', eventIds: events.map((e) => (e as { id: string }).id) }
    }
    return { kind: 'retry', error: `${status} from ${url} without one event per item` }
  }
  const error = describe(status, body, text)
  if (status === 400 || status === 409 || status === 413 || status === 422) {
    const errors = itemErrors(body, rows.length)
    if (errors.size > 0) return { kind: 'refused-items', errors }
    return { kind: 'refused-batch', error }
  }
  if (status === 429 || status === 503) {
    const after = retryAfterMs(res.headers.get('retry-after'))
    return after === undefined ? { kind: 'retry', error } : { kind: 'retry', error, retryAfterMs: after }
  }
  if (status >= 500 || status === 408) return { kind: 'retry', error }
  return { kind: 'misconfigured', error }
}
