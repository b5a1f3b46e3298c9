// The request headers of an attempt as the log keeps them: only what varies (signatures, the
// user agent, a traceparent, a transformation's or the endpoint's own headers). The others follow
// from the delivery and the attempt and are put back when the log is read, in the order sent.
import type { AttemptRow, DeliveryRow, StoredAttempt } from '../store/store.ts'

/** What the derived headers follow from. */
export interface AttemptIdentity {
  deliveryId: string
  event: string
  number: number
  started: number
}

// The worker's own headers in the order it sends them (attempt-maker.ts #send); the ones a lean log
// leaves out are put back at their place among those kept.
const sentOrder = [
  'content-type',
  'user-agent',
  'x-delivery-hmac-sha256',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-delivery-event',
  'x-delivery-attempt',
  'traceparent',
] as const
const placeOf = new Map<string, number>(sentOrder.map((name, i) => [name, i]))

function derivedValue(name: string, a: AttemptIdentity): string | undefined {
  switch (name) {
    case 'content-type':
      return 'application/json'
    case 'webhook-id':
      return a.deliveryId
    case 'webhook-timestamp':
      return String(Math.floor(a.started / 1000))
    case 'x-delivery-event':
      return a.event
    case 'x-delivery-attempt':
      return String(a.number)
    default:
      return undefined
  }
}

/** The headers a lean log keeps, with the others put back at their place. */
export function fullRequestHeaders(kept: Record<string, string>, a: AttemptIdentity): Record<string, string> {
  const out: Record<string, string> = {}
  let next = 0
  const putBack = (upTo: number) => {
    for (; next < upTo; next++) {
      const name = sentOrder[next]!
      if (name in kept) continue
      const v = derivedValue(name, a)
      if (v !== undefined) out[name] = v
    }
  }
  for (const name in kept) {
    const at = placeOf.get(name) ?? -1
    if (at >= next) {
      putBack(at)
      next = at + 1
    } else if (at < 0 && next > 0) putBack(sentOrder.length) // after the worker's own (an OAuth2 token)
    out[name] = kept[name]!
  }
  putBack(sentOrder.length)
  return out
}

/**
 * What the log keeps of the headers sent: those not derived. undefined when the derived ones
 * would not come back exactly as sent (in value and order) or none is left out: the log then
 * keeps them all. One pass over the headers (this runs once per attempt, on the hot path): the
 * worker's own headers must come in their order with no derived one missing, others only before
 * them or, once one of them is kept to mark the place, after them.
 */
export function leanRequestHeaders(
  sent: Record<string, string>,
  a: AttemptIdentity,
): Record<string, string> | undefined {
  const kept: Record<string, string> = {}
  let next = 0 // the place in sentOrder after the last own header seen
  let own = false // an own header was seen
  let anchored = false // an own header was kept
  let after = false // another header came after own ones
  let left = 0
  const missing = (upTo: number) => {
    for (let i = next; i < upTo; i++) if (derivedValue(sentOrder[i]!, a) !== undefined) return true
    return false
  }
  for (const name in sent) {
    const v = sent[name]!
    const at = placeOf.get(name)
    if (at === undefined) {
      if (own) {
        if (!anchored) return undefined
        after = true
      }
      kept[name] = v
      continue
    }
    if (after || at < next || missing(at)) return undefined
    next = at + 1
    own = true
    if (derivedValue(name, a) === v) left++
    else {
      kept[name] = v
      anchored = true
    }
  }
  if (left === 0 || missing(sentOrder.length)) return undefined
  return kept
}

/** An attempt as the log shows it: a lean one with its derived headers put back. */
export function attemptAsSent(a: StoredAttempt, d: Pick<DeliveryRow, 'event'>): AttemptRow {
  const { leanHeaders, ...row } = a
  if (!leanHeaders) return row
  return { ...row, requestHeaders: fullRequestHeaders(a.requestHeaders, { ...a, event: d.event }) }
}
