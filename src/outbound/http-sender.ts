// The Sender adapter over undici: one Agent of our own (never the global dispatcher), keep-alive
// pools per origin, one total deadline per attempt, redirects never followed, the response body
// read up to a cap and then dropped.
import { Agent, type buildConnector, type Dispatcher } from 'undici'
import {
  type AttemptOutcome,
  maxResponseBodyBytes,
  type OutboundRequest,
  type SendErrorCode,
  type Sender,
} from '../deliveries/sender.ts'

export interface HttpSenderOptions {
  /** The connect function; the SSRF guard plugs in here. */
  connect?: buildConnector.connector
  /** Connections per origin. */
  connectionsPerOrigin?: number
}

const tlsCodes = new Set([
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
])

function errorCode(e: unknown): string {
  let cur: unknown = e
  for (let i = 0; i < 4 && cur; i++) {
    if (typeof cur === 'object' && cur !== null && 'code' in cur && typeof cur.code === 'string')
      return cur.code
    cur = (cur as { cause?: unknown }).cause
  }
  return ''
}

export function classifySendError(e: unknown, timedOut: boolean): SendErrorCode {
  if (timedOut) return 'timeout'
  const code = errorCode(e)
  if (code === 'blocked_address') return 'blocked_address'
  if (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  )
    return 'timeout'
  if (code === 'ECONNREFUSED') return 'connection_refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return 'dns_failure'
  if (tlsCodes.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL')) return 'tls_failure'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'connection_reset'
  if (code === 'ERR_INVALID_URL' || code === 'UND_ERR_INVALID_ARG') return 'invalid_url'
  return 'network_error'
}

function flatHeaders(h: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
  }
  return out
}

export class HttpSender implements Sender {
  readonly #agent: Agent

  constructor(opts: HttpSenderOptions = {}) {
    this.#agent = new Agent({
      connections: opts.connectionsPerOrigin ?? 64,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      // The total deadline below governs; these only stop undici's own shorter defaults.
      headersTimeout: 0,
      bodyTimeout: 0,
      maxRedirections: 0,
      ...(opts.connect ? { connect: opts.connect } : {}),
    } as Agent.Options)
  }

  async send(req: OutboundRequest): Promise<AttemptOutcome> {
    const started = performance.now()
    const ac = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      ac.abort()
    }, req.timeoutMs)
    const elapsed = () => Math.round(performance.now() - started)
    try {
      let url: URL
      try {
        url = new URL(req.url)
      } catch {
        return {
          kind: 'error',
          code: 'invalid_url',
          message: 'the subscription URL does not parse',
          durationMs: 0,
        }
      }
      const res = await this.#agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: req.headers,
        body: req.body,
        signal: ac.signal,
      })
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        const b = chunk as Buffer
        const room = maxResponseBodyBytes - size
        if (b.length >= room) {
          chunks.push(b.subarray(0, room))
          size += room
          break
        }
        chunks.push(b)
        size += b.length
      }
      // Stop reading whatever is left; the connection is closed rather than drained.
      if (!res.body.destroyed) res.body.destroy()
      return {
        kind: 'response',
        statusCode: res.statusCode,
        headers: flatHeaders(res.headers),
        body: Buffer.concat(chunks, size).toString('utf8'),
        durationMs: elapsed(),
      }
    } catch (e) {
      const code = classifySendError(e, timedOut)
      const message =
        code === 'timeout'
          ? `no complete response within ${req.timeoutMs} ms`
          : ((e as Error).message ?? String(e)).slice(0, 500)
      return { kind: 'error', code, message, durationMs: elapsed() }
    } finally {
      clearTimeout(timer)
    }
  }

  /** Called after the worker's grace period: whatever is still in flight is abandoned (its lease will expire). */
  async close(): Promise<void> {
    await this.#agent.destroy()
  }
}
