// The sending policy as the service applies it: the operator's policy everywhere, plus "never
// our own API" (no loops) on the port the API listens on. Other ports of the same host stay
// reachable, so a developer's receiver on 127.0.0.1:9000 works beside Hookpost on :8080.
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
import { createGuardedConnector, type GuardedConnectorOptions } from './guarded-connector.ts'

/** The addresses a listener on `host` answers on. */
export function ownAddresses(host: string): string[] {
  if (host === '0.0.0.0' || host === '::' || host === '') {
    const all = Object.values(networkInterfaces())
      .flat()
      .map((i) => i?.address)
      .filter((a): a is string => typeof a === 'string')
      .map((a) => a.replace(/%.*$/, ''))
    return [...new Set(['127.0.0.1', '::1', ...all])]
  }
  if (host === 'localhost') return ['127.0.0.1', '::1']
  return [host]
}

export interface SendingPolicy {
  connect: buildConnector.connector
  checkUrl(raw: string): UrlCheck
  explainUrl(raw: string): UrlExplanation
  /** Tell the policy the API's real port (when it listened on port 0). */
  setOwnPort(port: number): void
}

const defaultPort = (u: URL) => (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80)

export function createSendingPolicy(
  base: Omit<AddressPolicy, 'deniedAddresses'>,
  own: { host: string; port: number } | undefined,
  connectorOptions: GuardedConnectorOptions = {},
): SendingPolicy {
  const open: CompiledAddressPolicy = compileAddressPolicy(base)
  const self: CompiledAddressPolicy = compileAddressPolicy({
    ...base,
    deniedAddresses: own ? ownAddresses(own.host) : [],
  })
  let ownPort = own?.port
  const openConnect = createGuardedConnector(open, connectorOptions)
  const selfConnect = createGuardedConnector(self, connectorOptions)
  const policyFor = (raw: string) => {
    try {
      return ownPort !== undefined && defaultPort(new URL(raw)) === ownPort ? self : open
    } catch {
      return open
    }
  }
  return {
    connect: (opts, cb) =>
      (ownPort !== undefined && Number(opts.port) === ownPort ? selfConnect : openConnect)(opts, cb),
    checkUrl: (raw) => checkUrl(raw, policyFor(raw)),
    explainUrl: (raw) => explainUrl(raw, policyFor(raw)),
    setOwnPort(port) {
      ownPort = port
    },
  }
}
