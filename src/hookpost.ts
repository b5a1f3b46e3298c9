// The core's use cases assembled over their ports. Transports (HTTP, CLI, dashboard, relay)
// receive this object and call nothing else: it holds no store, so a transport cannot reach
// around the use cases. main.ts builds it from the adapters it picks.
import { auditLog } from './audit/audit-log.ts'
import { deliveries } from './deliveries/deliveries.ts'
import type { HandOffTicket } from './deliveries/hand-off.ts'
import { replays } from './deliveries/replays.ts'
import { attemptLimit, type RetryPolicy } from './deliveries/retry-policy.ts'
import { testDeliveries } from './deliveries/test-delivery.ts'
import { environments } from './environments/environments.ts'
import { eventTypes } from './events/event-types.ts'
import { eventFeed } from './events/feed.ts'
import { PayloadValidator } from './events/payload-validator.ts'
import { publisher } from './events/publish.ts'
import type { UrlExplanation } from './network/address-policy.ts'
import { operationalEvents } from './operations/operational-events.ts'
import type { SecretBox } from './secrets/secret-box.ts'
import { signingKeyPairs } from './secrets/signing-key-pairs.ts'
import { signingSecrets } from './secrets/signing-secrets.ts'
import { dashboardSessions } from './sessions/dashboard-sessions.ts'
import { portalLinks } from './sessions/portal-links.ts'
import type { Failpoints } from './shared/failpoints.ts'
import type { Store } from './store/store.ts'
import {
  type DestinationCheck,
  type DestinationTypeInfo,
  httpDestinationInfo,
} from './subscriptions/destination.ts'
import { subscriptions, type UrlCheck } from './subscriptions/subscriptions.ts'
import type { Transformer } from './subscriptions/transformation.ts'
import { transformationTests } from './subscriptions/transformation-test.ts'

export interface HookpostDeps {
  store: Store
  box: SecretBox
  checkUrl: UrlCheck
  /** The registered broker destination types (src/destinations/); absent: http only. */
  destinations?: { check: DestinationCheck; types: readonly DestinationTypeInfo[] }
  /** The sending policy's verdict on a URL, explained (POST /webhooks/url-check). */
  explainUrl?: (url: string) => UrlExplanation
  /** Event type → JSON pointer of the ordering key. */
  orderingPointers?: Readonly<Record<string, string>>
  retryPolicy: RetryPolicy
  /** The longest timeout a subscription may set (default 5 m, the service's bound). */
  maxSubscriptionTimeoutMs?: number
  secretGraceMs: number
  now?: () => number
  /** Called when deliveries became due (publish, retry): wakes an in-process worker. */
  onWork?: () => void
  /** Role all: a publish's hand-off to the worker in this process (src/deliveries/hand-off.ts). */
  handOff?: () => HandOffTicket | undefined
  /** Role all: a subscription was changed or deleted; the worker gives back the hand-offs it holds of it. */
  onSubscriptionChanged?: (subscriptionId: string) => void
  failpoints?: Failpoints
  /** The sandbox that runs subscriptions' transformations (src/transformations/). */
  transformer?: Transformer
  /** The largest body a transformation may produce (default 1 MiB). */
  maxTransformedBytes?: number
  /** HOOKPOST_VERIFY_ENDPOINTS: new subscriptions' URLs must echo a challenge first. */
  verifyEndpoints?: boolean
  /** Called when an endpoint verification was started: wakes an in-process verifier. */
  onVerify?: () => void
}

export function createHookpost(deps: HookpostDeps) {
  const now = deps.now ?? Date.now
  const { store, box } = deps
  const onWork = () => deps.onWork?.()
  const validator = new PayloadValidator(eventTypes)
  const feed = eventFeed({ store, isEventType: (name) => validator.has(name) })
  return {
    eventTypes,
    environments: environments({ store, box, now }),
    subscriptions: subscriptions({
      store,
      checkUrl: deps.checkUrl,
      now,
      transformer: deps.transformer,
      verifyEndpoints: deps.verifyEndpoints ?? false,
      onVerify: () => deps.onVerify?.(),
      onChanged: (id) => deps.onSubscriptionChanged?.(id),
      box,
      ...(deps.maxSubscriptionTimeoutMs !== undefined ? { maxTimeoutMs: deps.maxSubscriptionTimeoutMs } : {}),
      checkDestination: deps.destinations?.check,
    }),
    /** The destination types a subscription may name, http first. */
    destinationTypes: [httpDestinationInfo, ...(deps.destinations?.types ?? [])],
    transformations: transformationTests({
      store,
      transformer: deps.transformer,
      checkUrl: deps.checkUrl,
      maxBodyBytes: deps.maxTransformedBytes ?? 1024 * 1024,
    }),
    secrets: signingSecrets({ store, box, now, graceMs: deps.secretGraceMs }),
    signingKeys: signingKeyPairs({ store, box, now }),
    publisher: publisher({
      store,
      validator,
      attemptLimit: attemptLimit(deps.retryPolicy),
      now,
      onPublished: onWork,
      ...(deps.handOff ? { handOff: deps.handOff } : {}),
      onCommitted: feed.published,
      ...(deps.orderingPointers ? { orderingPointers: deps.orderingPointers } : {}),
      ...(deps.failpoints ? { failpoints: deps.failpoints } : {}),
    }),
    feed,
    deliveries: deliveries({ store, now, onRetry: onWork }),
    replays: replays({ store, now, onWork }),
    testDeliveries: testDeliveries({ store, attemptLimit: attemptLimit(deps.retryPolicy), now, onWork }),
    operationalEvents: operationalEvents({ store }),
    sessions: dashboardSessions({ store, now }),
    portalLinks: portalLinks({ store, now }),
    audit: auditLog({ store, now }),
    /** Whether the store takes writes (GET /health/ready). */
    readiness: () => store.readiness(),
    explainUrl:
      deps.explainUrl ??
      ((url: string): UrlExplanation => {
        const v = deps.checkUrl(url)
        return v.ok
          ? { allowed: true, reason: 'accepted', scheme: null, host: null }
          : { allowed: false, reason: v.reason, code: v.code, scheme: null, host: null }
      }),
  }
}

export type Hookpost = ReturnType<typeof createHookpost>
