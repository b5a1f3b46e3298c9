// Rows as the API shows them: ISO-8601 UTC times, contract field names, nothing internal.
import type { AttemptRow, DeliveryRow, EnvironmentRow, SubscriptionRow } from '../store/store.ts'

export const iso = (ms: number): string => new Date(ms).toISOString()
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms))

export function presentEnvironment(e: EnvironmentRow) {
  return { id: e.id, name: e.name, signatureEncoding: e.signatureEncoding, created: iso(e.created) }
}

export function presentSubscription(s: SubscriptionRow) {
  return {
    id: s.id,
    event: s.event,
    url: s.url,
    active: s.active,
    created: iso(s.created),
    updated: iso(s.updated),
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
