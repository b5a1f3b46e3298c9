// Rate limits for the authenticated API: a token bucket per credential and one per environment
// (all its credentials together). Buckets live in this process's memory, so the limits are per
// node: N API nodes behind a balancer let through up to N times the configured rate.
import type { FastifyRequest } from 'fastify'
import { AppError } from '../shared/errors.ts'

/** Refills at perSecond tokens a second, up to burst; one request takes one token. */
export interface BucketLimit {
  perSecond: number
  burst: number
}

export interface RateLimitOptions {
  perCredential: BucketLimit | null
  perEnvironment: BucketLimit | null
  /** Milliseconds; tests pass a fake clock. */
  now?: () => number
}

interface Bucket {
  tokens: number
  at: number
}

/** Idle buckets are full again; past this many, full ones are dropped (memory stays bounded). */
const pruneAbove = 10_000

export class TokenBuckets {
  readonly #limit: BucketLimit
  readonly #buckets = new Map<string, Bucket>()

  constructor(limit: BucketLimit) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1))
      throw new Error('a rate limit needs perSecond > 0, burst >= 1')
    this.#limit = limit
  }

  get size(): number {
    return this.#buckets.size
  }

  #refilled(key: string, now: number): Bucket {
    const b = this.#buckets.get(key)
    if (!b) return { tokens: this.#limit.burst, at: now }
    const elapsed = Math.max(0, now - b.at) / 1000
    return { tokens: Math.min(this.#limit.burst, b.tokens + elapsed * this.#limit.perSecond), at: now }
  }

  /** Seconds until one token is available: 0 when one is there now. Takes nothing. */
  wait(key: string, now: number): number {
    const b = this.#refilled(key, now)
    return b.tokens >= 1 ? 0 : (1 - b.tokens) / this.#limit.perSecond
  }

  /** Takes one token (call after wait() said 0). */
  take(key: string, now: number): void {
    const b = this.#refilled(key, now)
    b.tokens = Math.max(0, b.tokens - 1)
    this.#buckets.set(key, b)
    if (this.#buckets.size > pruneAbove) this.#prune(now)
  }

  #prune(now: number): void {
    for (const [key] of this.#buckets) {
      if (this.#refilled(key, now).tokens >= this.#limit.burst) this.#buckets.delete(key)
    }
  }
}

/**
 * A preParsing hook: it runs after the onRequest hooks (so after authentication has set
 * request.credential) and before the body is read, so a client over its limit costs no parsing.
 * Requests without a credential (the operator's, /health, unauthenticated ones) pass.
 */
export function rateLimitHook(opts: RateLimitOptions) {
  const now = opts.now ?? Date.now
  const perCredential = opts.perCredential ? new TokenBuckets(opts.perCredential) : undefined
  const perEnvironment = opts.perEnvironment ? new TokenBuckets(opts.perEnvironment) : undefined
  return async (request: FastifyRequest): Promise<void> => {
    const c = request.credential
    if (!c) return
    const t = now()
    // Both buckets must have a token; neither is charged when either refuses.
    const wait = Math.max(perCredential?.wait(c.id, t) ?? 0, perEnvironment?.wait(c.envId, t) ?? 0)
    if (wait > 0) {
      throw new AppError('rate_limited', {
        retryAfter: wait,
        message: `Too many requests for this ${
          (perCredential?.wait(c.id, t) ?? 0) > 0 ? 'credential' : 'environment'
        }; retry after the delay given.`,
      })
    }
    perCredential?.take(c.id, t)
    perEnvironment?.take(c.envId, t)
  }
}
