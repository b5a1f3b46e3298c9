// The sending policy as the service applies it: the operator's policy everywhere, plus "never
// our own API" (no loops) on the port the API listens on. Other ports of the same host stay
// reachable, so a developer's receiver on 127.0.0.1:9000 works beside Hookpost on :8080.
//
// One exemption, for `hookpost listen`: a URL that is exactly `<public URL>/relay/<token>` (the
// origin the operator configured, one path segment after /relay/, nothing else) is accepted
// and sent through its own connector, which also reaches this node's own addresses. Nothing
// else of our own API is reachable, and the exemption cannot name another host or port.
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'
import type { buildConnector } from 'undici'
import {
  type AddressPolicy,
  type CompiledAddressPolicy,
  checkUrl,
  compileAddressPolicy,
  explainUrl,
  type UrlCheck,
  type UrlExplanation,
} from '../network/address-policy.ts'
import { createProxyConnector, type EgressRoute, resolveChecked } from './egress-proxy.ts'
import { createGuardedConnector, type GuardedConnectorOptions } from './guarded-connector.ts'

/**
 * The addresses (and ranges) a listener on `host` answers on. A wildcard listener answers on
 * every interface address and on all of 127.0.0.0/8 (Linux routes the whole block to the
 * loopback interface), and `::` on IPv4 too (dual stack). A name other than `localhost` is
 * treated as a wildcard: whatever it resolves to, we can only listen on our own addresses.
 * `0.0.0.0` and `::` as destinations reach this machine itself, so they are ours whatever the host.
 */
export function ownAddresses(host: string): string[] {
  const unspecified = ['0.0.0.0', '::']
  const bare = host.replace(/^\[|\]$/g, '')
  const wildcard = bare === '0.0.0.0' || /^[0:]*$/.test(bare)
  if (bare === 'localhost') return ['127.0.0.1', '::1', ...unspecified]
  if (isIP(bare) !== 0 && !wildcard) return [bare, ...unspecified]
  const all = Object.values(networkInterfaces())
    .flat()
    .map((i) => i?.address)
    .filter((a): a is string => typeof a === 'string')
    .map((a) => a.replace(/%.*$/, ''))
  return [...new Set(['127.0.0.0/8', '::1', ...unspecified, ...all])]
}

export interface SendingPolicy {
  connect: buildConnector.connector
  checkUrl(raw: string): UrlCheck
  explainUrl(raw: string): UrlExplanation
  /** Tell the policy the API's real port (when it listened on port 0). */
  setOwnPort(port: number): void
  /** True for `<public origin>/relay/<token>` and nothing else (the `hookpost listen` relay). */
  isRelayUrl(raw: string): boolean
  /** The connector for relay URLs only: the operator's policy plus this node's own addresses. */
  relayConnect: buildConnector.connector
  /** HOOKPOST_PUBLIC_URL, or http://<host>:<port> of the API: the origin relay URLs are built on. */
  publicOrigin(): string
  /** `connect` presenting a client certificate (a subscription's mTLS), same policy, same CAs. */
  connectWith(identity: { cert: string; key: string }): buildConnector.connector
  /** With HOOKPOST_EGRESS_PROXY: how plain-http targets go through it (HttpSender). */
  egressRoute: EgressRoute | undefined
}

export interface SendingConnectorOptions extends GuardedConnectorOptions {
  /** HOOKPOST_EGRESS_PROXY (http://host:port): deliveries leave through it. Relay URLs do not. */
  egressProxy?: string | undefined
}

export interface OwnApi {
  host: string
  port: number
  /** HOOKPOST_PUBLIC_URL (an origin); default http://<host>:<port>. */
  publicUrl?: string | undefined
}

const relayPath = /^\/relay\/[0-9A-Za-z_-]{1,100}$/

function originOf(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}`
}

const defaultPort = (u: URL) => (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80)

export function createSendingPolicy(
  base: Omit<AddressPolicy, 'deniedAddresses'>,
  own: OwnApi | undefined,
  connectorOptions: SendingConnectorOptions = {},
): SendingPolicy {
  const open: CompiledAddressPolicy = compileAddressPolicy(base)
  const self: CompiledAddressPolicy = compileAddressPolicy({
    ...base,
    deniedAddresses: own ? ownAddresses(own.host) : [],
  })
  let ownPort = own?.port
  const { egressProxy, ...guardOptions } = connectorOptions
  const make = (p: CompiledAddressPolicy, tls?: { cert: string; key: string }) => {
    const o = tls ? { ...guardOptions, tls: { ...guardOptions.tls, ...tls } } : guardOptions
    return egressProxy ? createProxyConnector(p, egressProxy, o) : createGuardedConnector(p, o)
  }
  const openConnect = make(open)
  const selfConnect = make(self)
  const isOwnPort = (port: number) => ownPort !== undefined && port === ownPort
  const configuredOrigin = own?.publicUrl ? new URL(own.publicUrl).origin : undefined
  const publicOrigin = () =>
    configuredOrigin ?? (own && ownPort !== undefined ? originOf(own.host, ownPort) : '')
  const publicHost = configuredOrigin ? new URL(configuredOrigin).hostname.replace(/^\[|\]$/g, '') : ''
  const relayConnect = createGuardedConnector(
    compileAddressPolicy({
      ...base,
      allowedCidrs: [
        ...base.allowedCidrs,
        ...(own ? ownAddresses(own.host) : []),
        ...(isIP(publicHost) !== 0 ? [publicHost] : publicHost === 'localhost' ? ['127.0.0.1', '::1'] : []),
      ],
    }),
    guardOptions,
  )
  const isRelayUrl = (raw: string) => {
    if (!own) return false
    try {
      const u = new URL(raw)
      return (
        u.origin === publicOrigin() &&
        relayPath.test(u.pathname) &&
        u.search === '' &&
        u.hash === '' &&
        u.username === '' &&
        u.password === ''
      )
    } catch {
      return false
    }
  }
  const relayExplanation = (raw: string): UrlExplanation => {
    const u = new URL(raw)
    return {
      allowed: true,
      reason: 'accepted: a relay URL of this Hookpost (hookpost listen)',
      url: u.href,
      scheme: u.protocol.replace(/:$/, ''),
      host: u.hostname,
    }
  }
  const policyFor = (raw: string) => {
    try {
      return ownPort !== undefined && defaultPort(new URL(raw)) === ownPort ? self : open
    } catch {
      return open
    }
  }
  return {
    connect: (opts, cb) => (isOwnPort(Number(opts.port)) ? selfConnect : openConnect)(opts, cb),
    connectWith(identity) {
      const o = make(open, identity)
      const s = make(self, identity)
      return (opts, cb) => (isOwnPort(Number(opts.port)) ? s : o)(opts, cb)
    },
    egressRoute: egressProxy
      ? {
          origin: new URL(egressProxy).origin,
          resolve: (hostname, port) =>
            resolveChecked(isOwnPort(port) ? self : open, guardOptions.lookup, hostname),
        }
      : undefined,
    checkUrl: (raw) => (isRelayUrl(raw) ? { ok: true, url: new URL(raw) } : checkUrl(raw, policyFor(raw))),
    explainUrl: (raw) => (isRelayUrl(raw) ? relayExplanation(raw) : explainUrl(raw, policyFor(raw))),
    setOwnPort(port) {
      ownPort = port
    },
    isRelayUrl,
    relayConnect,
    publicOrigin,
  }
}
