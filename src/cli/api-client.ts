// The CLI's client of a running Hookpost: a few lines over undici's `request`, HTTP Basic
// credentials, JSON in and out. An error answer becomes an ApiError whose message is the API's
// `code: message`; the command exits 1 on it.
import { type Command, Option } from 'commander'
import { request } from 'undici'

export const defaultUrl = 'http://127.0.0.1:8080'

export interface ClientOptions {
  url: string
  key?: string | undefined
  secret?: string | undefined
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  constructor(status: number, code: string, message: string) {
    super(`${code}: ${message}`)
    this.name = 'ApiError'
    this.status = status
    this.code = code
  }
}

export interface CallOptions {
  /** A JSON body. */
  json?: unknown
  /** Raw bytes, sent as they are (with content-type application/json unless headers say else). */
  body?: Buffer
  headers?: Record<string, string>
  query?: Record<string, string | number | undefined>
  signal?: AbortSignal
}

export type Flags = Record<string, string | boolean | undefined>

/** Adds --url, --key and --secret (HOOKPOST_URL, HOOKPOST_KEY, HOOKPOST_SECRET). */
export function withClientOptions(cmd: Command, role: 'consumer' | 'publisher'): Command {
  return cmd
    .addOption(
      new Option('--url <url>', 'the Hookpost API to talk to').env('HOOKPOST_URL').default(defaultUrl),
    )
    .addOption(new Option('--key <key>', `the ${role} credential's key`).env('HOOKPOST_KEY'))
    .addOption(new Option('--secret <secret>', `the ${role} credential's secret`).env('HOOKPOST_SECRET'))
}

export function clientOptionsOf(flags: Flags): ClientOptions {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  return { url: str(flags['url']) ?? defaultUrl, key: str(flags['key']), secret: str(flags['secret']) }
}

export class ApiClient {
  readonly base: string
  readonly #authorization: string | undefined

  constructor(o: ClientOptions) {
    let u: URL
    try {
      u = new URL(o.url)
    } catch {
      throw new Error(`--url: "${o.url}" is not a URL`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--url: "${o.url}" is not http(s)`)
    this.base = o.url.replace(/\/+$/, '')
    this.#authorization =
      o.key && o.secret ? `Basic ${Buffer.from(`${o.key}:${o.secret}`).toString('base64')}` : undefined
  }

  /** Throws when no credential was given (commands call it first for a clear message). */
  requireCredentials(): this {
    if (!this.#authorization) {
      throw new Error('a credential is needed: --key and --secret (or HOOKPOST_KEY and HOOKPOST_SECRET)')
    }
    return this
  }

  get authorization(): string | undefined {
    return this.#authorization
  }

  url(path: string, query?: CallOptions['query']): string {
    const qs = new URLSearchParams()
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) qs.set(k, String(v))
    const s = qs.toString()
    return `${this.base}${path}${s ? `?${s}` : ''}`
  }

  /** One call; the parsed JSON answer (undefined for an empty one). Throws ApiError on 4xx/5xx. */
  async call<T = Record<string, unknown>>(method: string, path: string, o: CallOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...o.headers }
    if (this.#authorization) headers['authorization'] = this.#authorization
    let body: Buffer | string | undefined
    if (o.json !== undefined) {
      body = JSON.stringify(o.json)
      headers['content-type'] = 'application/json'
    } else if (o.body !== undefined) {
      body = o.body
      headers['content-type'] ??= 'application/json'
    }
    let res: Awaited<ReturnType<typeof request>>
    try {
      res = await request(this.url(path, o.query), {
        method: method as 'GET',
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      })
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e
      throw new Error(`could not reach ${this.base}: ${describe(e)}`)
    }
    const text = await res.body.text()
    let parsed: unknown
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      parsed = undefined
    }
    if (res.statusCode >= 400) throw errorOf(res.statusCode, parsed, text)
    return parsed as T
  }
}

function describe(e: unknown): string {
  let cur = e as { code?: unknown; message?: unknown; cause?: unknown } | undefined
  for (let i = 0; i < 4 && cur; i++) {
    if (typeof cur.code === 'string') return cur.code
    cur = cur.cause as typeof cur
  }
  return (e as Error).message ?? String(e)
}

export function errorOf(status: number, parsed: unknown, text: string): ApiError {
  const err = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined)
    ?.error
  if (err && typeof err.code === 'string') {
    let message = typeof err.message === 'string' ? err.message : ''
    if (Array.isArray(err.details)) {
      for (const d of err.details.slice(0, 10) as { path?: string; message?: string }[]) {
        message += `\n  ${d.path ?? ''}: ${d.message ?? ''}`
      }
    }
    return new ApiError(status, err.code, message)
  }
  return new ApiError(status, `http_${status}`, text.slice(0, 200) || 'no body')
}
