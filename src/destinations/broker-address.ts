// The sending policy for broker connections (the SSRF guard, as for HTTP): an address is checked
// directly; a name is resolved once, every answer must be allowed, and the client connects to
// the checked address, never to the name again (no DNS rebinding between check and connect).
import { isIP } from 'node:net'
import type { AttemptOutcome } from '../deliveries/sender.ts'
import { BlockedAddressError, createGuardedLookup } from '../outbound/guarded-connector.ts'
import { isPlainPort, isTlsFailure } from '../outbound/tls-failure.ts'
import type { ConnectContext } from './destination-type.ts'

export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '')
}

/** The checked address to connect to for `url`'s host; rejects with BlockedAddressError or a DNS error. */
export function brokerAddress(url: URL, ctx: ConnectContext): Promise<string> {
  const host = hostOf(url)
  if (isIP(host) !== 0) {
    const v = ctx.policy.check(host)
    return v.allowed
      ? Promise.resolve(host)
      : Promise.reject(new BlockedAddressError(host, host, v.range, v.reason))
  }
  const lookup = createGuardedLookup(ctx.policy, ctx.lookup)
  return new Promise((resolve, reject) => {
    lookup(host, { all: true }, (err, address) => {
      if (err) return reject(err)
      const first = Array.isArray(address) ? address[0]?.address : address
      if (first) resolve(first)
      else reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }))
    })
  })
}

/** An error on the way to the broker, as an attempt outcome (never an address a name resolved to). */
export function unreachable(e: unknown, url: URL, durationMs: number): AttemptOutcome {
  const err = e as { code?: string; message?: string; detail?: string }
  if (e instanceof BlockedAddressError)
    return { kind: 'error', code: 'blocked_address', message: e.message, detail: e.detail, durationMs }
  if (err?.code === 'ENOTFOUND' || err?.code === 'EAI_AGAIN')
    return { kind: 'error', code: 'dns_failure', message: `could not resolve ${hostOf(url)}`, durationMs }
  const where = `${hostOf(url)}:${url.port || 'default port'}`
  const tls = tlsFailureOf(e)
  if (tls && isPlainPort(tls.code))
    // Said the same for every type, whichever way its client found out.
    return {
      kind: 'error',
      code: 'tls_failure',
      message: `the broker at ${where} does not speak TLS (${tls.reason}): is it the broker's plain port? A TLS URL needs the port where the broker serves TLS`,
      durationMs,
    }
  if (tls)
    return {
      kind: 'error',
      code: 'tls_failure',
      message: `TLS to the broker at ${hostOf(url)} failed (${tls.code}): ${tls.message}`,
      durationMs,
    }
  const text = err?.message ?? ''
  if (
    /ACCESS.REFUSED|NOT_ALLOWED|NOAUTH|WRONGPASS|invalid password|Authorization Violation|AUTHENTICATION/i.test(
      text,
    )
  )
    return {
      kind: 'error',
      code: 'broker_auth_failed',
      message: `the broker refused the credentials or the vhost: ${text}`,
      durationMs,
    }
  const what = err?.code ?? err?.message ?? String(e)
  return {
    kind: 'error',
    code: 'broker_unreachable',
    message: `could not reach the broker at ${where} (${what})`,
    ...(err?.message ? { detail: err.message } : {}),
    durationMs,
  }
}

/**
 * The TLS error in `e` or its causes (the clients wrap it differently), if it is one; `reason`
 * is OpenSSL's words for it (`wrong version number`) where it gave them.
 */
function tlsFailureOf(e: unknown): { code: string; message: string; reason: string } | undefined {
  let cur: unknown = e
  for (let i = 0; i < 4 && typeof cur === 'object' && cur !== null; i++) {
    const c = cur as { code?: unknown; message?: unknown; reason?: unknown; cause?: unknown }
    if (typeof c.code === 'string' && isTlsFailure(c.code)) {
      const message = typeof c.message === 'string' ? c.message : c.code
      const openssl = typeof c.reason === 'string' ? c.reason : undefined
      return {
        code: c.code,
        message,
        reason: openssl ? `it answered the TLS handshake with something else: ${openssl}` : message,
      }
    }
    cur = c.cause
  }
  return undefined
}

export function timedOut(timeoutMs: number, durationMs: number): AttemptOutcome {
  return {
    kind: 'error',
    code: 'timeout',
    message: `no answer from the broker within ${timeoutMs} ms`,
    durationMs,
  }
}

/** Resolves with the promise's value, or with `onTimeout()` once the deadline passes. */
export function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  // One promise and one timer per call (not a race of three): every delivery passes here.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(onTimeout()), ms)
    p.then(
      (v) => {
        clearTimeout(timer)
        resolve(v)
      },
      (e: unknown) => {
        clearTimeout(timer)
        reject(e)
      },
    )
  })
}
