// The SSRF guard at connect time (the real control; registration-time checks are only early
// feedback). An undici `connect` function for `new Agent({ connect })`:
//
// - an IP-literal host is checked directly (literals never reach `lookup`, so a lookup-only
//   guard would let `http://127.0.0.1/`, `http://[::ffff:127.0.0.1]/` or `http://2130706433/`
//   through);
// - a name is resolved once per connection, asking for every address; the connection is refused
//   if any answer is outside the policy (a name answering a public and a private address is a
//   rebinding attempt), and the socket connects only to the addresses that were checked;
// - once connected, `socket.remoteAddress` is checked again (belt and braces).
//
// Redirects: undici's `request` never follows them, and nothing here does. Callers must not add
// a redirect interceptor (`interceptors.redirect`) or use `fetch` with `redirect: 'follow'` on
// this agent: a redirect is an attempt outcome, recorded and not followed. Do not put a proxy
// in front of this connector: the check would then apply to the proxy's address. The egress
// proxy (src/outbound/egress-proxy.ts) instead checks the target's address itself and hands the
// proxy that address.
import dns from 'node:dns'
import { isIP, type LookupFunction, type Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import { buildConnector } from 'undici'
import type { CompiledAddressPolicy } from '../network/address-policy.ts'

/**
 * A connection refused by the sending policy. Its message is shown to the tenant (the attempt
 * log): for a name it says only that the name resolves to an address that is not allowed, never
 * which one (that would answer DNS questions about the operator's network). `detail`, with the
 * address and its range, is for the server log only.
 */
export class BlockedAddressError extends Error {
  readonly code = 'blocked_address'
  /** The host as given in the URL (a name or an address). */
  readonly host: string
  /** The address that was refused. Server log only. */
  readonly address: string
  /** What the address is, e.g. `loopback`, `private`, `denied`. Server log only for a name. */
  readonly range: string
  /** The whole story, address included: server log only. */
  readonly detail: string

  constructor(host: string, address: string, range: string, reason?: string) {
    const why = reason ?? `address ${address} is ${range}`
    super(
      host === address
        ? `refused to connect to ${host}: ${why}`
        : `refused to connect to ${host}: it resolves to an address that is not public`,
    )
    this.name = 'BlockedAddressError'
    this.host = host
    this.address = address
    this.range = range
    this.detail =
      host === address ? this.message : `refused to connect to ${host}: it resolves to ${address}; ${why}`
  }
}

export interface GuardedConnectorOptions {
  /** The resolver (default `dns.lookup`); tests pass a stub. It is always asked for all addresses. */
  lookup?: LookupFunction
  /** TCP + TLS connect deadline (default 10 s). */
  connectTimeoutMs?: number
  /** Extra TLS settings: trusted CAs (system + HOOKPOST_EXTRA_CA_CERTS), a client certificate (mTLS). */
  tls?: Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized' | 'minVersion' | 'cert' | 'key'>
}

const systemLookup: LookupFunction = (hostname, options, callback) => dns.lookup(hostname, options, callback)

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

function toList(address: string | dns.LookupAddress[], family: number | undefined): dns.LookupAddress[] {
  if (Array.isArray(address)) return address
  if (typeof address === 'string' && address !== '')
    return [{ address, family: family === 6 || isIP(address) === 6 ? 6 : 4 }]
  return []
}

function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
    code: 'ENOTFOUND',
    syscall: 'getaddrinfo',
    hostname,
  })
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}

/**
 * A lookup that resolves once, asking for every address, and refuses (BlockedAddressError) when
 * any answer is outside the policy. Calls back with an array when `options.all` (Node 20's net
 * asks for all because of autoSelectFamily), otherwise with the first address.
 */
export function createGuardedLookup(
  policy: CompiledAddressPolicy,
  base: LookupFunction = systemLookup,
): LookupFunction {
  return (hostname, options, callback) => {
    let done = false
    const finish = (err: NodeJS.ErrnoException | null, list: dns.LookupAddress[] = []) => {
      if (done) return
      done = true
      if (err) return callback(err, '', 0)
      const first = list[0]
      if (options.all) callback(null, list)
      else if (first) callback(null, first.address, first.family)
    }
    try {
      base(hostname, { ...options, all: true }, (err, address, family) => {
        try {
          if (err) return finish(err)
          const list = toList(address, family)
          if (list.length === 0) return finish(notFound(hostname))
          for (const a of list) {
            const v = policy.check(a.address)
            if (!v.allowed) return finish(new BlockedAddressError(hostname, a.address, v.range, v.reason))
          }
          finish(
            null,
            list.map((a) => ({ address: a.address, family: a.family })),
          )
        } catch (e) {
          finish(asError(e))
        }
      })
    } catch (e) {
      finish(asError(e))
    }
  }
}

/**
 * An undici connector enforcing the sending policy on every new connection:
 * `new Agent({ connect: createGuardedConnector(policy) })`. Refusals reach undici's callback
 * as BlockedAddressError (code `blocked_address`), so the request rejects with it.
 */
export function createGuardedConnector(
  policy: CompiledAddressPolicy,
  opts: GuardedConnectorOptions = {},
): buildConnector.connector {
  const base = buildConnector({
    ...opts.tls,
    lookup: createGuardedLookup(policy, opts.lookup),
    timeout: opts.connectTimeoutMs ?? 10_000,
  })
  return (options, callback) => {
    let done = false
    const cb = (err: Error | null, socket: Socket | null) => {
      if (done) return
      done = true
      if (err || !socket) callback(err ?? new Error('connect failed'), null)
      else callback(null, socket)
    }
    const host = stripBrackets(options.hostname)
    try {
      if (isIP(host) !== 0) {
        const v = policy.check(host)
        if (!v.allowed) return cb(new BlockedAddressError(host, host, v.range, v.reason), null)
      }
      base(options, (err: Error | null, socket: Socket | null) => {
        if (err || !socket) return cb(err, null)
        const remote = socket.remoteAddress
        const v = remote ? policy.check(remote) : null
        if (!v?.allowed) {
          socket.destroy()
          const reason = v ? v.reason : 'the connected address is unknown'
          return cb(
            new BlockedAddressError(host, remote ?? 'an unknown address', v?.range ?? 'unknown', reason),
            null,
          )
        }
        cb(null, socket)
      })
    } catch (e) {
      cb(asError(e), null)
    }
  }
}
