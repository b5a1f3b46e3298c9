// Deliveries through HOOKPOST_EGRESS_PROXY (an HTTP proxy: the static egress address of
// docs/security.md). The sending policy still decides: the target's name is resolved here and
// every address checked (the SSRF guard's lookup) BEFORE the proxy is asked, and the proxy is
// given that address, never the name, so it cannot resolve the name to somewhere else.
//
// - https: `CONNECT 203.0.113.7:443`, then TLS through the tunnel with SNI and certificate
//   verification for the hostname (undici's own connector over the tunnel socket);
// - http: the request goes to the proxy in absolute-form, `POST http://203.0.113.7:80/path`,
//   with `Host:` the URL's host (HttpSender does this: see `EgressRoute`).
//
// A failure of the proxy itself (refused, a CONNECT answered non-2xx, no answer in time) is a
// ProxyError, code `proxy_error`: not a failure of the endpoint.
import type dns from 'node:dns'
import { isIP, type LookupFunction, type Socket, connect as tcpConnect } from 'node:net'
import { buildConnector } from 'undici'
import type { CompiledAddressPolicy } from '../network/address-policy.ts'
import {
  BlockedAddressError,
  createGuardedLookup,
  type GuardedConnectorOptions,
} from './guarded-connector.ts'

export class ProxyError extends Error {
  readonly code = 'proxy_error'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProxyError'
  }
}

/** For plain-http targets: where the request goes and what it is given (HttpSender). */
export interface EgressRoute {
  /** The proxy's origin, http://host:port. */
  origin: string
  /** The checked address of a target host (an IP literal is checked as it is). */
  resolve(hostname: string, port: number): Promise<string>
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** host:port as a request target: IPv6 in brackets. */
export function authority(address: string, port: number): string {
  return `${isIP(address) === 6 ? `[${address}]` : address}:${port}`
}

/** The one address a connection will go to: checked by the policy, like the direct connector. */
export function resolveChecked(
  policy: CompiledAddressPolicy,
  lookup: LookupFunction | undefined,
  hostname: string,
): Promise<string> {
  const host = stripBrackets(hostname)
  if (isIP(host) !== 0) {
    const v = policy.check(host)
    return v.allowed
      ? Promise.resolve(host)
      : Promise.reject(new BlockedAddressError(host, host, v.range, v.reason))
  }
  const guarded = createGuardedLookup(policy, lookup)
  return new Promise((resolve, reject) => {
    guarded(host, { all: true }, (err, addresses) => {
      if (err) return reject(err)
      const first = (addresses as unknown as dns.LookupAddress[])[0]
      if (!first) return reject(new Error(`getaddrinfo ENOTFOUND ${host}`))
      resolve(first.address)
    })
  })
}

/** A TCP connection to the proxy; its failures are ProxyErrors. */
function connectToProxy(
  proxy: URL,
  timeoutMs: number,
  cb: (err: Error | null, socket?: Socket) => void,
): Socket {
  let done = false
  const finish = (err: Error | null, socket?: Socket) => {
    if (done) return
    done = true
    clearTimeout(timer)
    cb(err, socket)
  }
  const socket = tcpConnect({ host: stripBrackets(proxy.hostname), port: Number(proxy.port || 80) })
  const timer = setTimeout(() => {
    socket.destroy()
    finish(new ProxyError(`the egress proxy did not answer within ${timeoutMs} ms`))
  }, timeoutMs)
  socket.once('connect', () => finish(null, socket))
  socket.once('error', (e) =>
    finish(new ProxyError(`the egress proxy could not be reached (${errCode(e)})`, { cause: e })),
  )
  return socket
}

function errCode(e: unknown): string {
  const c = (e as { code?: unknown })?.code
  return typeof c === 'string' ? c : 'connection failed'
}

/** Asks the proxy for a tunnel to address:port; calls back with the tunnel's socket. */
function tunnel(
  proxy: URL,
  target: string,
  timeoutMs: number,
  cb: (err: Error | null, socket?: Socket) => void,
): void {
  let done = false
  let timer: NodeJS.Timeout | undefined
  const finish = (err: Error | null, socket?: Socket) => {
    if (done) return
    done = true
    clearTimeout(timer)
    cb(err, socket)
  }
  connectToProxy(proxy, timeoutMs, (err, socket) => {
    if (err || !socket) return finish(err)
    timer = setTimeout(() => {
      socket.destroy()
      finish(new ProxyError(`the egress proxy did not answer CONNECT within ${timeoutMs} ms`))
    }, timeoutMs)
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) {
        if (head.length > 16_384)
          fail(new ProxyError('the egress proxy answered CONNECT with oversized headers'))
        return
      }
      socket.off('data', onData)
      socket.off('error', onError)
      socket.off('end', onEnd)
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1]
      if (status?.[0] !== '2') {
        socket.destroy()
        return finish(
          new ProxyError(`the egress proxy answered CONNECT with ${status ?? 'something other than HTTP'}`),
        )
      }
      const rest = head.subarray(end + 4)
      if (rest.length > 0) socket.unshift(rest)
      finish(null, socket)
    }
    const fail = (e: Error) => {
      socket.destroy()
      finish(e)
    }
    const onError = (e: Error) =>
      fail(new ProxyError(`the egress proxy connection failed (${errCode(e)})`, { cause: e }))
    const onEnd = () =>
      fail(new ProxyError('the egress proxy closed the connection before answering CONNECT'))
    socket.on('data', onData)
    socket.once('error', onError)
    socket.once('end', onEnd)
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`)
  })
}

/**
 * An undici connector that leaves through the proxy. https targets: policy-checked address,
 * CONNECT, TLS for the hostname over the tunnel. http: only the proxy itself is ever connected
 * to (HttpSender sends plain-http targets to the proxy's origin in absolute-form).
 */
export function createProxyConnector(
  policy: CompiledAddressPolicy,
  proxyUrl: string,
  opts: GuardedConnectorOptions = {},
): buildConnector.connector {
  const proxy = new URL(proxyUrl)
  const timeoutMs = opts.connectTimeoutMs ?? 10_000
  const tlsOver = buildConnector({ ...opts.tls, timeout: timeoutMs })
  return (options, callback) => {
    let done = false
    const cb = (err: Error | null, socket: Socket | null) => {
      if (done) return
      done = true
      if (err || !socket) callback(err ?? new Error('connect failed'), null)
      else callback(null, socket)
    }
    if (options.protocol !== 'https:') {
      connectToProxy(proxy, timeoutMs, (err, socket) => cb(err, socket ?? null))
      return
    }
    const port = Number(options.port) || 443
    resolveChecked(policy, opts.lookup, options.hostname).then(
      (address) =>
        tunnel(proxy, authority(address, port), timeoutMs, (err, socket) => {
          if (err || !socket) return cb(err, null)
          // TLS for the name in the URL (SNI and certificate check), through the tunnel.
          tlsOver(
            { ...options, port: String(port), httpSocket: socket } as Parameters<typeof tlsOver>[0],
            (e, s) => {
              if (e || !s) socket.destroy()
              cb(e, s as Socket | null)
            },
          )
        }),
      (e: unknown) => cb(e instanceof Error ? e : new Error(String(e)), null),
    )
  }
}
