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
import { ClientIdentityAgents } from './client-identity-agents.ts'
import { authority, type EgressRoute } from './egress-proxy.ts'
import type { BlockedAddressError } from './guarded-connector.ts'
import { isPlainPort, isTlsFailure } from './tls-failure.ts'

export interface HttpSenderOptions {
  /** The connect function; the SSRF guard plugs in here. */
  connect?: buildConnector.connector
  /** Connections per origin. */
  connectionsPerOrigin?: number
  /** The connect function presenting a client certificate (mTLS): one pool per certificate. */
  connectWith?: (identity: { cert: string; key: string }) => buildConnector.connector
  /** HOOKPOST_EGRESS_PROXY: plain-http targets go to the proxy in absolute-form (src/outbound/egress-proxy.ts). */
  egressRoute?: EgressRoute | undefined
}

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
  if (code === 'proxy_error') return 'proxy_error'
  if (
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  )
    return 'timeout'
  if (code === 'ECONNREFUSED') return 'connection_refused'
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return 'dns_failure'
  if (isTlsFailure(code)) return 'tls_failure'
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return 'connection_reset'
  if (code === 'ERR_INVALID_URL' || code === 'UND_ERR_INVALID_ARG') return 'invalid_url'
  return 'network_error'
}

const ipv4Literal = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g
const ipv6Literal = /\[?(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:%[\w.]+)?\]?/gi

/** The addresses a connection error names (Node's `address`, also inside an AggregateError). */
function addressesOf(e: unknown, out: Set<string> = new Set(), depth = 0): Set<string> {
  if (typeof e !== 'object' || e === null || depth > 4) return out
  const o = e as { address?: unknown; errors?: unknown; cause?: unknown }
  if (typeof o.address === 'string' && o.address !== '') out.add(o.address)
  if (Array.isArray(o.errors)) for (const x of o.errors) addressesOf(x, out, depth + 1)
  addressesOf(o.cause, out, depth + 1)
  return out
}

/**
 * What a failed connection tells the tenant, and what only the server log gets: the addresses
 * a name resolved to are taken out of the tenant's message (a DNS oracle into the operator's
 * network otherwise), and kept in `detail`.
 */
export function describeSendError(e: unknown): { message: string; detail?: string } {
  const raw = ((e as Error)?.message ?? String(e)).slice(0, 500)
  if (e instanceof Error && (e as { code?: unknown }).code === 'proxy_error') return { message: raw }
  if (e instanceof Error && (e as Partial<BlockedAddressError>).code === 'blocked_address') {
    const b = e as BlockedAddressError
    return b.detail === b.message ? { message: b.message } : { message: b.message, detail: b.detail }
  }
  const code = errorCode(e)
  // The same words as a broker's (broker-address.ts): OpenSSL's own ("wrong version number")
  // does not say what to change.
  if (isPlainPort(code))
    return {
      message: `the endpoint does not speak TLS on this port (${code}): is it a plain http port? An https:// URL needs the port where the server serves TLS`,
      detail: raw,
    }
  let message = raw
  for (const a of addressesOf(e)) message = message.split(a).join('(address withheld)')
  // Messages that name addresses without an `address` field (undici's "attempted addresses").
  message = message.replace(ipv4Literal, '(address withheld)').replace(ipv6Literal, '(address withheld)')
  return message === raw ? { message } : { message, detail: raw }
}

function flatHeaders(h: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
  }
  return out
}

/** Parsed subscription URLs kept; past this the cache starts over. */
const maxCachedTargets = 10_000

export class HttpSender implements Sender {
  readonly #agent: Agent
  readonly #targets = new Map<
    string,
    { origin: string; path: string; host: string; hostname: string; port: number }
  >()
  readonly #identities: ClientIdentityAgents | undefined
  readonly #egress: EgressRoute | undefined

  constructor(opts: HttpSenderOptions = {}) {
    const agentWith = (connect: buildConnector.connector | undefined) =>
      new Agent({
        connections: opts.connectionsPerOrigin ?? 64,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 120_000,
        // The total deadline below governs; these only stop undici's own shorter defaults.
        headersTimeout: 0,
        bodyTimeout: 0,
        maxRedirections: 0,
        ...(connect ? { connect } : {}),
      } as Agent.Options)
    this.#agent = agentWith(opts.connect)
    const connectWith = opts.connectWith
    this.#identities = connectWith
      ? new ClientIdentityAgents((id) => agentWith(connectWith({ cert: id.certificate, key: id.privateKey })))
      : undefined
    this.#egress = opts.egressRoute
  }

  /**
   * One attempt through undici's dispatch API: no AbortController, no body stream, no async
   * iterator per request (together a tenth of the worker's CPU through `request()`).
   */
  send(req: OutboundRequest): Promise<AttemptOutcome> {
    const target = this.#target(req.url)
    if (!target) {
      return Promise.resolve({
        kind: 'error',
        code: 'invalid_url',
        message: 'the subscription URL does not parse',
        durationMs: 0,
      })
    }
    const agent =
      req.clientIdentity && this.#identities ? this.#identities.get(req.clientIdentity) : this.#agent
    if (this.#egress && target.origin.startsWith('http:'))
      return this.#viaProxy(req, target, agent, this.#egress)
    return this.#dispatch(req, target.origin, target.path, req.headers, agent)
  }

  /**
   * A plain-http target through the egress proxy: its address checked here, then the request in
   * absolute-form to that address, `Host:` still the URL's host.
   */
  async #viaProxy(
    req: OutboundRequest,
    target: { path: string; host: string; hostname: string; port: number },
    agent: Agent,
    egress: EgressRoute,
  ): Promise<AttemptOutcome> {
    const started = performance.now()
    let address: string
    try {
      address = await egress.resolve(target.hostname, target.port)
    } catch (e) {
      return {
        kind: 'error',
        code: classifySendError(e, false),
        ...describeSendError(e),
        durationMs: Math.round(performance.now() - started),
      }
    }
    const path = `http://${authority(address, target.port)}${target.path}`
    const outcome = await this.#dispatch(
      { ...req, timeoutMs: Math.max(1, req.timeoutMs - Math.round(performance.now() - started)) },
      egress.origin,
      path,
      { ...req.headers, host: target.host },
      agent,
    )
    return { ...outcome, durationMs: Math.round(performance.now() - started) }
  }

  #dispatch(
    req: OutboundRequest,
    origin: string,
    path: string,
    requestHeaders: Record<string, string>,
    agent: Agent,
  ): Promise<AttemptOutcome> {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    return new Promise<AttemptOutcome>((resolve) => {
      let controller: Dispatcher.DispatchController | undefined
      let settled = false
      let timedOut = false
      let statusCode = 0
      let headers: Record<string, string> = {}
      const chunks: Buffer[] = []
      let size = 0
      const finish = (outcome: AttemptOutcome) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(outcome)
      }
      const fail = (e: unknown) => {
        const code = classifySendError(e, timedOut)
        if (code === 'timeout') {
          finish({
            kind: 'error',
            code,
            message: `no complete response within ${req.timeoutMs} ms`,
            durationMs: elapsed(),
          })
        } else finish({ kind: 'error', code, ...describeSendError(e), durationMs: elapsed() })
      }
      const response = (): AttemptOutcome => ({
        kind: 'response',
        statusCode,
        headers,
        body: Buffer.concat(chunks, size).toString('utf8'),
        durationMs: elapsed(),
      })
      // One total deadline (connect + headers + body). Before the request reaches a socket there
      // is nothing to abort yet: the attempt ends now and the request is aborted when it starts.
      const timer = setTimeout(() => {
        timedOut = true
        if (controller) controller.abort(new Error('deadline'))
        else fail(new Error('deadline'))
      }, req.timeoutMs)
      try {
        agent.dispatch(
          {
            origin,
            path,
            method: 'POST',
            headers: requestHeaders,
            body: req.body,
          },
          {
            onRequestStart: (c) => {
              controller = c
              if (settled) c.abort(new Error('deadline'))
            },
            onResponseStart: (_c, code, h) => {
              // 1xx answers come first and are replaced by the final one.
              statusCode = code
              headers = flatHeaders(h)
            },
            onResponseData: (c, chunk) => {
              if (settled) return
              const room = maxResponseBodyBytes - size
              if (chunk.length < room) {
                chunks.push(chunk)
                size += chunk.length
                return
              }
              // The cap: keep what fits, answer, and close the connection rather than drain it.
              chunks.push(chunk.subarray(0, room))
              size += room
              finish(response())
              c.abort(new Error('response body over the cap'))
            },
            onResponseEnd: () => finish(response()),
            onResponseError: (_c, e) => fail(e),
          },
        )
      } catch (e) {
        fail(e)
      }
    })
  }

  /** origin and path of a subscription URL, parsed once per URL. */
  #target(
    url: string,
  ): { origin: string; path: string; host: string; hostname: string; port: number } | undefined {
    let t = this.#targets.get(url)
    if (t === undefined) {
      try {
        const u = new URL(url)
        t = {
          origin: u.origin,
          path: u.pathname + u.search,
          host: u.host,
          hostname: u.hostname,
          port: u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80,
        }
      } catch {
        return undefined
      }
      if (this.#targets.size >= maxCachedTargets) this.#targets.clear()
      this.#targets.set(url, t)
    }
    return t
  }

  /** Called after the worker's grace period: whatever is still in flight is abandoned (its lease will expire). */
  async close(): Promise<void> {
    await Promise.all([this.#agent.destroy(), this.#identities?.close()])
  }
}
