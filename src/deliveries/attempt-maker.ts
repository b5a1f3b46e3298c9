// One attempt at one claimed delivery: its subscription's transformation, the signatures, the
// endpoint request (headers, credentials) and the outcome as the store records it, with the
// retry schedule's next step. Never throws: a failure of our own becomes a retried outcome.
import type { SecretBox } from '../secrets/secret-box.ts'
import type { SigningKeyring } from '../secrets/signing-keyring.ts'
import type { Failpoints } from '../shared/failpoints.ts'
import type { Logger } from '../shared/logger.ts'
import { signDelivery } from '../signing/signature.ts'
import type { ClaimedDelivery, CompleteInput, Store } from '../store/store.ts'
import type { UrlCheck } from '../subscriptions/subscriptions.ts'
import { type Transformed, type Transformer, transform } from '../subscriptions/transformation.ts'
import { leanRequestHeaders } from './attempt-headers.ts'
import { countsForHealth } from './completion-rules.ts'
import { EndpointSettingsCache, recordedHeaders, sendToEndpoint } from './endpoint-request.ts'
import { OAuth2Tokens } from './oauth2-tokens.ts'
import { nextStep, policyFor, type RetryPolicy } from './retry-policy.ts'
import type { AttemptOutcome, Sender } from './sender.ts'
import type { SubscriptionCache } from './subscription-cache.ts'

/** The signing keys of the environments of one claim (read once for all its deliveries). */
export type ClaimKeys = Awaited<ReturnType<SigningKeyring['keysFor']>>

export interface AttemptMakerOptions {
  store: Store
  sender: Sender
  policy: RetryPolicy
  requestTimeoutMs: number
  maxTimeoutMs: number
  userAgent: string
  log: Logger
  now: () => number
  random: () => number
  failpoints: Failpoints
  checkUrl: UrlCheck
  maxTransformedBytes: number
  transformer: Transformer | undefined
  box: SecretBox | undefined
  /** The claimed deliveries' subscriptions (settings an attempt reads). */
  subscriptions: SubscriptionCache
}

export class AttemptMaker {
  readonly #o: AttemptMakerOptions
  readonly #transformer: Transformer | undefined
  readonly #subscriptions: SubscriptionCache
  readonly #endpoints: EndpointSettingsCache
  readonly #tokens: OAuth2Tokens

  constructor(options: AttemptMakerOptions) {
    this.#o = options
    this.#transformer = options.transformer
    this.#subscriptions = options.subscriptions
    this.#endpoints = new EndpointSettingsCache(options.box)
    this.#tokens = new OAuth2Tokens({
      sender: options.sender,
      userAgent: options.userAgent,
      now: options.now,
    })
  }

  /** Makes the attempt; `keys` are its claim's signing keys. */
  async make(
    d: ClaimedDelivery,
    started: number,
    keys: ClaimKeys | undefined,
  ): Promise<{ result: CompleteInput; detail?: string }> {
    const o = this.#o
    try {
      return await this.#send(d, started, keys)
    } catch (e) {
      // Our own fault (a bug, a bad secret): give the lease back to the schedule, never crash.
      o.log.error(
        { err: e, deliveryId: d.id, subscriptionId: d.subscriptionId },
        'delivery attempt failed inside hookpost',
      )
      const result = this.#result(
        d,
        started,
        {
          kind: 'error',
          code: 'network_error',
          message: 'internal error while sending',
          durationMs: o.now() - started,
        },
        {},
      )
      return { result }
    }
  }

  async #send(
    d: ClaimedDelivery,
    started: number,
    keys: ClaimKeys | undefined,
  ): Promise<{ result: CompleteInput; detail?: string }> {
    const o = this.#o
    if (d.attempts > d.attemptLimit) {
      // Claimed again after crashes used up its attempts: stop here instead of looping forever.
      const result = this.#result(
        d,
        started,
        { kind: 'error', code: 'network_error', message: 'attempt limit reached', durationMs: 0 },
        {},
        'attempts_exhausted',
      )
      return { result }
    }
    const envKeys = keys?.get(d.envId)
    if (!envKeys || envKeys.keys.length === 0) throw new Error(`no valid signing secret for ${d.envId}`)
    let url = d.url
    let body = d.body
    let extra: Record<string, string> | undefined
    // Never the untransformed bytes because the row is not at hand (evicted from the cache):
    // read it again; a subscription gone since the claim had its deliveries cancelled.
    const row =
      this.#subscriptions.get(d.subscriptionId) ??
      (await o.store.subscriptions.getMany([d.subscriptionId]))[0]
    if (!row) {
      return {
        result: this.#ended(
          d,
          started,
          { kind: 'cancelled' },
          'subscription_deleted',
          'the subscription was deleted',
        ),
      }
    }
    const code = row.transformation
    if (code) {
      // Before signing: the signatures cover the bytes the transformation made, and those are sent.
      const t = await this.#transform(d, code)
      if (t.kind === 'cancel') {
        return {
          result: this.#ended(
            d,
            started,
            { kind: 'cancelled' },
            'transformation_cancelled',
            'the transformation returned { cancel: true }',
          ),
        }
      }
      // The same code gives the same answer on every attempt: fail now, no retries.
      if (t.kind === 'error')
        return { result: this.#ended(d, started, { kind: 'failed' }, 'transformation_error', t.message) }
      url = t.url
      body = t.body
      extra = t.headers
    }
    const timestamp = Math.floor(started / 1000)
    const headers: Record<string, string> = {
      ...extra,
      'content-type': 'application/json',
      'user-agent': o.userAgent,
      ...signDelivery(envKeys.keys, d.id, timestamp, body, envKeys.encoding, envKeys.pairs),
      'x-delivery-event': d.event,
      'x-delivery-attempt': String(d.attempts),
      // The publisher's trace goes on (tracing replaces the parent id with the attempt's span).
      ...(d.traceparent !== null ? { traceparent: d.traceparent } : {}),
    }
    const endpoint = this.#endpoints.for(row)
    // A broker destination travels with the request; which type it is, the Sender knows.
    const destination = row.destination
    const req = {
      url,
      headers,
      body,
      timeoutMs: this.#timeoutOf(d),
      ...(destination ? { destination: { envId: d.envId, ...destination } } : {}),
    }
    const outcome = await sendToEndpoint(o.sender, this.#tokens, req, endpoint)
    o.failpoints('worker.after_send')
    const result = this.#result(d, started, outcome, recordedHeaders(headers, endpoint))
    if (!countsForHealth(outcome)) result.countsForHealth = false
    return outcome.kind === 'error' && outcome.detail !== undefined
      ? { result, detail: outcome.detail }
      : { result }
  }

  #transform(d: ClaimedDelivery, code: string): Promise<Transformed> {
    if (!this.#transformer)
      return Promise.resolve({ kind: 'error', message: 'this worker has no transformation sandbox' })
    return transform(
      {
        transformer: this.#transformer,
        checkUrl: this.#o.checkUrl,
        maxBodyBytes: this.#o.maxTransformedBytes,
      },
      code,
      { eventName: d.event, payloadJson: d.body.toString('utf8'), url: d.url, headers: {} },
      d.subscriptionId,
    )
  }

  /** An attempt that ended before sending (its transformation cancelled or failed it). */
  #ended(
    d: ClaimedDelivery,
    started: number,
    outcome: { kind: 'cancelled' } | { kind: 'failed' },
    error: string,
    message: string,
  ): CompleteInput {
    const durationMs = this.#o.now() - started
    return {
      id: d.id,
      leaseToken: d.leaseToken,
      statusCode: null,
      error,
      outcome,
      // A cancel says nothing about the endpoint; a transformation's error counts like a failure.
      ...(outcome.kind === 'cancelled' ? { countsForHealth: false } : {}),
      attempt: {
        deliveryId: d.id,
        number: d.attempts,
        started,
        durationMs,
        statusCode: null,
        error: `${error}: ${message}`,
        responseBody: null,
        requestHeaders: {},
        responseHeaders: null,
      },
    }
  }

  /** The subscription's own timeout, never past what the lease was sized for. */
  #timeoutOf(d: ClaimedDelivery): number {
    const own = this.#subscriptions.get(d.subscriptionId)?.settings?.timeoutMs
    return own != null
      ? Math.min(own, Math.max(this.#o.requestTimeoutMs, this.#o.maxTimeoutMs))
      : this.#o.requestTimeoutMs
  }

  #result(
    d: ClaimedDelivery,
    started: number,
    outcome: AttemptOutcome,
    requestHeaders: Record<string, string>,
    errorOverride?: string,
  ): CompleteInput {
    const o = this.#o
    const now = o.now()
    const completion = errorOverride
      ? ({ kind: 'failed' } as const)
      : nextStep(
          outcome,
          d.attempts,
          d.attemptLimit,
          policyFor(o.policy, this.#subscriptions.get(d.subscriptionId)?.settings?.retryScheduleMs),
          now,
          o.random(),
        )
    const statusCode = outcome.kind === 'response' ? outcome.statusCode : null
    let error: string | null = null
    if (errorOverride) error = errorOverride
    else if (outcome.kind === 'error') error = outcome.code
    else if (outcome.kind === 'acknowledged') error = null
    else if (outcome.statusCode >= 300 && outcome.statusCode < 400) {
      error = `redirect_not_followed${outcome.headers['location'] ? `: ${outcome.headers['location']}` : ''}`
    } else if (outcome.statusCode < 200 || outcome.statusCode >= 300) error = `http_${outcome.statusCode}`
    const kept = leanRequestHeaders(requestHeaders, {
      deliveryId: d.id,
      event: d.event,
      number: d.attempts,
      started,
    })
    return {
      id: d.id,
      leaseToken: d.leaseToken,
      statusCode,
      error,
      outcome: completion,
      attempt: {
        deliveryId: d.id,
        number: d.attempts,
        started,
        durationMs: outcome.durationMs,
        statusCode,
        error: outcome.kind === 'error' ? `${outcome.code}: ${outcome.message}` : error,
        responseBody:
          outcome.kind === 'response'
            ? outcome.body
            : outcome.kind === 'acknowledged'
              ? outcome.answer
              : null,
        // The log keeps only the headers that vary; reading it puts the others back.
        ...(kept ? { requestHeaders: kept, leanHeaders: true as const } : { requestHeaders }),
        responseHeaders: outcome.kind === 'response' ? outcome.headers : null,
      },
    }
  }
}
