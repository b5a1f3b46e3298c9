// Rows as the API shows them: ISO-8601 UTC times, contract field names, nothing internal.

import type { SigningKeyView } from '../secrets/signing-key-pairs.ts'
import type {
  AttemptRow,
  DeliveryRow,
  EnvironmentRow,
  OperationalEventRow,
  ReplayJobRow,
  SubscriptionRow,
} from '../store/store.ts'
import { presentSettings } from '../subscriptions/delivery-settings.ts'
import { presentDestination } from '../subscriptions/destination.ts'
import { presentEndpoint } from '../subscriptions/endpoint-auth.ts'

export const iso = (ms: number): string => new Date(ms).toISOString()
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))

export function presentEnvironment(e: EnvironmentRow) {
  return { id: e.id, name: e.name, signatureEncoding: e.signatureEncoding, created: iso(e.created) }
}

/** A signing key: its public key only (the private one never leaves the store sealed). */
export function presentSigningKey(k: SigningKeyView) {
  return { id: k.id, type: k.type, publicKey: k.publicKey, created: iso(k.created) }
}

export function presentSubscription(s: SubscriptionRow) {
  const h = s.health
  const total = h.successCount + h.failureCount
  return {
    id: s.id,
    event: s.event,
    // BaseKit's field for http; a broker's URL is in destination (its password masked).
    ...(s.destination ? {} : { url: s.url }),
    destination: presentDestination(s),
    active: s.active,
    created: iso(s.created),
    updated: iso(s.updated),
    ordered: s.ordered,
    transformation: s.transformation ? { code: s.transformation } : null,
    filter: s.filter ? (JSON.parse(s.filter) as Record<string, unknown>) : null,
    paused: s.paused ?? false,
    ...(s.verification
      ? {
          verification: s.verification.state,
          verificationDetail: {
            attempts: s.verification.attempts,
            nextAttemptAt: isoOrNull(s.verification.nextAt),
            lastError: s.verification.lastError,
          },
        }
      : {}),
    ...presentEndpoint(s.endpoint),
    ...presentSettings(s.settings),
    deactivatedReason: s.deactivatedReason,
    health: {
      consecutiveFailures: h.consecutiveFailures,
      failingSince: isoOrNull(h.failingSince),
      lastSuccessAt: isoOrNull(h.lastSuccessAt),
      lastFailureAt: isoOrNull(h.lastFailureAt),
      successCount: h.successCount,
      failureCount: h.failureCount,
      successRate: total === 0 ? null : Math.round((h.successCount / total) * 10_000) / 10_000,
    },
  }
}

export function presentDelivery(d: DeliveryRow) {
  return {
    id: d.id,
    eventId: d.eventId,
    subscriptionId: d.subscriptionId,
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? isoOrNull(d.nextAttemptAt) : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    created: iso(d.created),
    updated: iso(d.updated),
  }
}

export function presentAttempt(a: AttemptRow) {
  return {
    number: a.number,
    started: iso(a.started),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    error: a.error,
    responseBody: a.responseBody,
    requestHeaders: a.requestHeaders,
    responseHeaders: a.responseHeaders,
  }
}

export function presentReplay(r: ReplayJobRow) {
  return {
    id: r.id,
    subscriptionId: r.subscriptionId,
    since: iso(r.since),
    until: iso(r.until),
    status: r.statusFilter,
    state: r.state,
    total: r.total,
    done: r.done,
    created: iso(r.created),
    updated: iso(r.updated),
  }
}

export function presentOperationalEvent(e: OperationalEventRow) {
  return {
    id: e.id,
    type: e.type,
    environmentId: e.envId,
    created: iso(e.created),
    data: e.data,
    sent: e.sentAt !== null,
  }
}
