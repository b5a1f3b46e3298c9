// OAuth2 client-credentials tokens (RFC 6749 §4.4) for subscriptions whose auth is `oauth2`.
// The token request goes out through the Sender port, so the token URL obeys the same sending
// policy as deliveries (https-only, the SSRF guard at connect time, the egress proxy, the extra
// CAs) and redirects are not followed. The client authenticates with HTTP Basic (§2.3.1: the
// form-encoded id and secret), the one method every server must support; nothing in the body.
// A token is kept until shortly before `expires_in` runs out, and forgotten when an endpoint
// answers 401 to it. Concurrent attempts share one token request per grant.
import { createHash } from 'node:crypto'
import type { AttemptOutcome, Sender } from './sender.ts'

export interface OAuth2Grant {
  tokenUrl: string
  clientId: string
  clientSecret: string
  scope?: string | undefined
}

export type TokenAnswer =
  | { ok: true; token: string /** fetched for this request, not taken from the cache */; fresh: boolean }
  /** oauth2_token_error, or proxy_error when the egress proxy failed on the way. */
  | { ok: false; outcome: AttemptOutcome & { kind: 'error' } }

/** A token without `expires_in` is kept this long (or until an endpoint answers 401 to it). */
export const defaultTokenLifetimeMs = 5 * 60_000
/** Renewed this much before it expires: a tenth of its lifetime, at most a minute. */
const renewBeforeMs = (lifetimeMs: number) => Math.min(60_000, lifetimeMs / 10)
const maxCached = 10_000
const maxTokenLength = 8192
const visibleAscii = /^[\x21-\x7e]+$/

interface Cached {
  token: string
  until: number
}

export class OAuth2Tokens {
  readonly #sender: Sender
  readonly #now: () => number
  readonly #userAgent: string
  readonly #cache = new Map<string, Cached>()
  readonly #inFlight = new Map<string, Promise<TokenAnswer>>()

  constructor(opts: { sender: Sender; userAgent: string; now?: () => number }) {
    this.#sender = opts.sender
    this.#userAgent = opts.userAgent
    this.#now = opts.now ?? Date.now
  }

  /** A token for this grant: the cached one while valid, otherwise one fetched now. */
  get(grant: OAuth2Grant, timeoutMs: number): Promise<TokenAnswer> {
    const key = grantKey(grant)
    const cached = this.#cache.get(key)
    if (cached && this.#now() < cached.until)
      return Promise.resolve({ ok: true, token: cached.token, fresh: false })
    let p = this.#inFlight.get(key)
    if (!p) {
      p = this.#fetch(key, grant, timeoutMs).finally(() => this.#inFlight.delete(key))
      this.#inFlight.set(key, p)
    }
    return p
  }

  /** The endpoint answered 401 to this token: the next request fetches a new one. */
  reject(grant: OAuth2Grant, token: string): void {
    const key = grantKey(grant)
    if (this.#cache.get(key)?.token === token) this.#cache.delete(key)
  }

  async #fetch(key: string, grant: OAuth2Grant, timeoutMs: number): Promise<TokenAnswer> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' })
    if (grant.scope) form.set('scope', grant.scope)
    // §2.3.1: the id and secret are form-encoded, then joined for Basic.
    const basic = Buffer.from(
      `${encodeURIComponent(grant.clientId)}:${encodeURIComponent(grant.clientSecret)}`,
    ).toString('base64')
    const asked = this.#now()
    const outcome = await this.#sender.send({
      url: grant.tokenUrl,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'user-agent': this.#userAgent,
        authorization: `Basic ${basic}`,
      },
      body: Buffer.from(form.toString()),
      timeoutMs,
    })
    const fail = (message: string, detail?: string): TokenAnswer => ({
      ok: false,
      outcome: {
        kind: 'error',
        code: 'oauth2_token_error',
        message,
        durationMs: outcome.durationMs,
        ...(detail !== undefined ? { detail } : {}),
      },
    })
    // Our egress proxy failing is not the endpoint's fault, whatever the request was for.
    if (outcome.kind === 'error' && outcome.code === 'proxy_error')
      return { ok: false, outcome: { ...outcome, message: `fetching the OAuth2 token: ${outcome.message}` } }
    if (outcome.kind === 'error')
      return fail(
        `the token endpoint could not be reached (${outcome.code}: ${outcome.message})`,
        outcome.detail,
      )
    if (outcome.kind === 'acknowledged') return fail('the token endpoint is not an HTTP endpoint')
    let body: Record<string, unknown> | undefined
    try {
      const parsed: unknown = JSON.parse(outcome.body)
      if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>
    } catch {
      body = undefined
    }
    if (outcome.statusCode < 200 || outcome.statusCode >= 300) {
      // The OAuth error code (§5.2) is a short ASCII word: safe to show; the rest of the body is not kept.
      const err = body?.['error']
      const code =
        typeof err === 'string' && /^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(err) ? ` (${err})` : ''
      return fail(`the token endpoint answered ${outcome.statusCode}${code}`)
    }
    const token = body?.['access_token']
    if (
      typeof token !== 'string' ||
      token.length === 0 ||
      token.length > maxTokenLength ||
      !visibleAscii.test(token)
    )
      return fail('the token endpoint answered without a usable access_token')
    const type = body?.['token_type']
    if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer'))
      return fail('the token endpoint answered a token_type other than Bearer')
    const expiresIn = body?.['expires_in']
    const lifetimeMs =
      expiresIn === undefined
        ? defaultTokenLifetimeMs
        : typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
          ? expiresIn * 1000
          : 0
    if (lifetimeMs > 0) {
      if (this.#cache.size >= maxCached) this.#cache.delete(this.#cache.keys().next().value!)
      this.#cache.set(key, { token, until: asked + lifetimeMs - renewBeforeMs(lifetimeMs) })
    }
    return { ok: true, token, fresh: true }
  }
}

/** The cache key: a digest, so that the map holds no client secret in the clear. */
function grantKey(g: OAuth2Grant): string {
  return createHash('sha256')
    .update(JSON.stringify([g.tokenUrl, g.clientId, g.clientSecret, g.scope ?? '']))
    .digest('base64url')
}
