// Attempts recorded the way the worker records them, in either shape the attempt log may hold:
// lean (only the headers that vary; what the worker writes since migration 15) or full (before).
import { leanRequestHeaders } from '../../src/deliveries/attempt-headers.ts'
import { completionRules } from '../../src/deliveries/completion-rules.ts'
import type { ClaimedDelivery, CompleteInput, Store } from '../../src/store/store.ts'

/** The request headers the worker sends for this attempt (with a transformation's header first). */
export function sentHeaders(d: ClaimedDelivery, started: number): Record<string, string> {
  return {
    'x-tenant': 'acme',
    'content-type': 'application/json',
    'user-agent': 'Hookpost/test',
    'x-delivery-hmac-sha256': 'ab'.repeat(32),
    'webhook-id': d.id,
    'webhook-timestamp': String(Math.floor(started / 1000)),
    'webhook-signature': 'v1,c2lnbmF0dXJl',
    'x-delivery-event': d.event,
    'x-delivery-attempt': String(d.attempts),
  }
}

/** Records one failed attempt (500, retried later) on each claimed delivery, in the shape asked. */
export async function recordFailedAttempts(
  store: Store,
  claimed: readonly { d: ClaimedDelivery; lean: boolean }[],
  started: number,
): Promise<void> {
  const inputs = claimed.map(({ d, lean }): CompleteInput => {
    const sent = sentHeaders(d, started)
    const kept = lean
      ? leanRequestHeaders(sent, { deliveryId: d.id, event: d.event, number: d.attempts, started })
      : undefined
    if (lean && !kept) throw new Error('these headers should have a lean form')
    return {
      id: d.id,
      leaseToken: d.leaseToken,
      statusCode: 500,
      error: 'http_500',
      outcome: { kind: 'retry', at: started + 60_000 },
      attempt: {
        deliveryId: d.id,
        number: d.attempts,
        started,
        durationMs: 12,
        statusCode: 500,
        error: 'http_500',
        responseBody: 'nope',
        ...(kept ? { requestHeaders: kept, leanHeaders: true as const } : { requestHeaders: sent }),
        responseHeaders: { 'content-type': 'text/plain' },
      },
    }
  })
  await store.deliveries.complete(inputs, started, completionRules({ disableAfterMs: 86_400_000 }))
}
