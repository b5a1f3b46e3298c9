// Sends endpoint verification challenges (a worker's background job, run by Maintenance): a
// signed POST of { type: "webhook.verification", challenge } through the same Sender (sending
// policy, SSRF guard) and signing keys as a delivery. Cluster-safe: the store leases each due
// verification to one node; a node that dies mid-challenge leaves it due again after the lease,
// and an answer recorded twice changes nothing (the first outcome ends the pending state).
import { EndpointSettingsCache, sendToEndpoint } from '../deliveries/endpoint-request.ts'
import { OAuth2Tokens } from '../deliveries/oauth2-tokens.ts'
import type { AttemptOutcome, Sender } from '../deliveries/sender.ts'
import type { SecretBox } from '../secrets/secret-box.ts'
import type { EnvironmentKeys, SigningKeyring } from '../secrets/signing-keyring.ts'
import { newId } from '../shared/ids.ts'
import type { Logger } from '../shared/logger.ts'
import { signDelivery } from '../signing/signature.ts'
import type { Store, SubscriptionRow } from '../store/store.ts'
import {
  challengeBody,
  challengeError,
  defaultVerificationScheduleMs,
  verificationStep,
} from './endpoint-verification.ts'

export interface EndpointVerifierOptions {
  store: Store
  sender: Sender
  keyring: SigningKeyring
  userAgent: string
  timeoutMs: number
  log: Logger
  now?: () => number
  /** Delays between challenges (default defaultVerificationScheduleMs). */
  scheduleMs?: readonly number[]
  /** Opens subscriptions' endpoint secrets: a challenge authenticates like a delivery. */
  box?: SecretBox
}

/** Challenges sent at once per tick. */
const batch = 20

export class EndpointVerifier {
  readonly #o: Required<Omit<EndpointVerifierOptions, 'box'>>
  readonly #endpoints: EndpointSettingsCache
  readonly #tokens: OAuth2Tokens

  constructor(o: EndpointVerifierOptions) {
    this.#o = { now: Date.now, scheduleMs: defaultVerificationScheduleMs, ...o }
    this.#endpoints = new EndpointSettingsCache(o.box)
    this.#tokens = new OAuth2Tokens({ sender: o.sender, userAgent: o.userAgent, now: this.#o.now })
  }

  /** Sends the challenges that are due; returns how many were sent. */
  async tick(): Promise<number> {
    const o = this.#o
    const now = o.now()
    const subs = await o.store.subscriptions.claimVerifications(now, batch, o.timeoutMs * 2 + 10_000)
    if (subs.length === 0) return 0
    const keys = await o.keyring.keysFor([...new Set(subs.map((s) => s.envId))], now)
    await Promise.all(
      subs.map(async (s) => {
        const challenge = s.verification?.challenge
        if (!challenge) return
        const env = keys.get(s.envId)
        let outcome: AttemptOutcome
        if (!env || env.keys.length === 0) {
          outcome = { kind: 'error', code: 'network_error', message: 'no signing secret', durationMs: 0 }
        } else {
          outcome = await this.#send(s, challenge, env).catch((e: unknown): AttemptOutcome => {
            // Our own fault (an endpoint secret that does not open): a failed challenge, logged.
            o.log.error({ err: e, subscriptionId: s.id }, 'verification challenge failed inside hookpost')
            return {
              kind: 'error',
              code: 'network_error',
              message: 'internal error while sending',
              durationMs: 0,
            }
          })
        }
        const error = challengeError(outcome, challenge)
        const step = verificationStep(error, s.verification?.attempts ?? 1, o.now(), o.scheduleMs)
        await o.store.subscriptions.recordVerification(s.id, challenge, step, o.now())
        o.log.info(
          { subscriptionId: s.id, outcome: step.kind, ...(error !== null ? { error } : {}) },
          'endpoint verification challenge',
        )
      }),
    )
    return subs.length
  }

  async #send(s: SubscriptionRow, challenge: string, env: EnvironmentKeys): Promise<AttemptOutcome> {
    const o = this.#o
    const body = challengeBody(challenge)
    const ts = Math.floor(o.now() / 1000)
    const req = {
      url: s.url,
      body,
      timeoutMs: o.timeoutMs,
      headers: {
        'content-type': 'application/json',
        'user-agent': o.userAgent,
        ...signDelivery(env.keys, newId('vrf'), ts, body, env.encoding, env.pairs),
        'x-delivery-event': 'webhook.verification',
        'x-delivery-attempt': String(s.verification?.attempts ?? 1),
      },
    }
    // The endpoint's own authentication and static headers, as on a delivery.
    return sendToEndpoint(o.sender, this.#tokens, req, this.#endpoints.for(s))
  }
}
