// Publisher use case: accept one event (or a batch of them), validate it against the catalogue,
// and commit it with one delivery per active subscription in one transaction. The bytes are
// stored as received.
import type { HandOffTicket } from '../deliveries/hand-off.ts'
import { scheduleAttemptLimit } from '../deliveries/retry-policy.ts'
import { AppError, type ErrorDetail, type ErrorKind } from '../shared/errors.ts'
import { type Failpoints, noFailpoints } from '../shared/failpoints.ts'
import { newId } from '../shared/ids.ts'
import type { PublishInput, PublishResult, Store } from '../store/store.ts'
import { FilterCache } from '../subscriptions/filter.ts'
import { maxJsonDepth, parseJsonBody } from './json-body.ts'
import { elementSpans, memberSpans, rootSpan } from './json-spans.ts'
import type { PayloadValidator } from './payload-validator.ts'
import { maxTraceparentLength, normalTraceparent } from './traceparent.ts'

export const idempotencyWindowMs = 24 * 3_600_000
export const maxIdempotencyKeyLength = 255
export const maxOrderingKeyLength = 255
export const maxBatchEvents = 1000

export interface PublishOptions {
  idempotencyKey?: string | undefined
  /** Overrides the key taken from the event type's JSON pointer. */
  orderingKey?: string | undefined
  /**
   * A W3C traceparent (the request's header), kept with the event and sent on every attempt.
   * An invalid one is ignored, as the W3C asks of a traceparent header.
   */
  traceparent?: string | undefined
}

/** RFC 6901: the value at `pointer` in `doc`, or undefined. */
export function valueAtPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc
  let cur = doc
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (typeof cur !== 'object' || cur === null || !Object.hasOwn(cur, key)) return undefined
    cur = (cur as Record<string, unknown>)[key]
  }
  return cur
}

/** A key that fits: a string of 1 to `max` characters. */
export const keyFits = (k: unknown, max: number): k is string =>
  typeof k === 'string' && k.length > 0 && k.length <= max

/**
 * The payload's event type, once its eventName is in the catalogue and it passes that type's
 * schema; otherwise throws missing_event_name (400) or payload_invalid (422).
 */
export function checkedEventName(validator: PayloadValidator, payload: unknown): string {
  const eventName =
    typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)['eventName']
      : undefined
  if (typeof eventName !== 'string' || !validator.has(eventName)) {
    throw new AppError('missing_event_name', {
      message:
        typeof eventName === 'string'
          ? `"${eventName.slice(0, 100)}" is not in the event catalogue.`
          : 'The payload must be a JSON object with a string eventName from the catalogue.',
      details: [{ path: '/eventName', message: 'missing or unknown' }],
    })
  }
  const problems = validator.check(eventName, payload)
  if (problems.length > 0) {
    throw new AppError('payload_invalid', {
      message: `The payload does not match the ${eventName} schema at ${problems[0]!.path}: ${problems[0]!.message}`,
      details: problems,
    })
  }
  return eventName
}

function orderingKeyOf(payload: unknown, pointer: string | undefined): string | null {
  if (pointer === undefined) return null
  const v = valueAtPointer(payload, pointer)
  return typeof v === 'string' || typeof v === 'number' ? String(v).slice(0, maxOrderingKeyLength) : null
}

export interface BatchOptions {
  maxPayloadBytes?: number
  /**
   * Given the items' traceparents once they are checked, the ones to keep instead (tracing: each
   * traced item's own publish span); an undefined entry keeps the item's.
   */
  traceItems?: (traceparents: readonly (string | undefined)[]) => readonly (string | undefined)[]
}

export interface PublishDeps {
  store: Store
  validator: PayloadValidator
  attemptLimit: number
  now: () => number
  /** Told after each commit that created deliveries (wakes an in-process worker). */
  onPublished?: (r: PublishResult) => void
  /** Told after each commit that added events to an environment (wakes feed readers). */
  onCommitted?: (envId: string) => void
  failpoints?: Failpoints
  /** Event type → JSON pointer to its ordering key (e.g. /accountHolder/ref). */
  orderingPointers?: Readonly<Record<string, string>>
  /**
   * A hand-off to the worker in this process (role all; src/deliveries/hand-off.ts), per publish:
   * the deliveries it takes are committed leased to it and need no claim.
   */
  handOff?: () => HandOffTicket | undefined
}

/** One event to publish: its bytes, parsed payload, checked type and keys. */
export interface CheckedEvent {
  body: Buffer
  payload: unknown
  eventName: string
  idempotencyKey?: string | undefined
  orderingKey?: string | undefined
  /** Valid, version 00. */
  traceparent?: string | undefined
}

const itemFields = new Set(['payload', 'idempotencyKey', 'orderingKey', 'traceparent'])
/** Which error a batch answers with when its items have several kinds of problem. */
const severity: Partial<Record<ErrorKind, number>> = { too_large: 0, invalid: 1, unprocessable: 2 }
/** Details past this many are left out of a batch's error (the message gives the count). */
const maxBatchDetails = 100

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The error `e` of the payload at `/events/<i>/payload`, its details re-rooted there. */
function itemError(i: number, e: AppError): AppError {
  const at = `/events/${i}/payload`
  return new AppError(e.code, {
    message: `${at}: ${e.message}`,
    details: (e.details ?? [{ path: '/', message: e.message }]).map((d) => ({
      path: at + (d.path === '/' ? '' : d.path),
      message: d.message,
    })),
  })
}

/** One problem of a batch item, at `path` (`/events/<i>/…`). */
function problem(
  code: 'invalid_request' | 'idempotency_key_invalid' | 'body_too_large',
  path: string,
  message: string,
): AppError {
  return new AppError(code, { message: `${path}: ${message}`, details: [{ path, message }] })
}

/**
 * The checked events of a batch body `{ "events": [ { "payload", "idempotencyKey"?,
 * "orderingKey"?, "traceparent"? } ] }`, each with its payload's bytes exactly as they appear in
 * the request. Every item is checked; the error names each bad one (`/events/<index>/...`): an
 * invalid traceparent too, since a field of the body, unlike a header, is the caller's own.
 */
function batchItems(body: Buffer, validator: PayloadValidator, maxPayloadBytes: number): CheckedEvent[] {
  // The payloads nest three levels down ({ events: [ { payload ), with the depth /events allows.
  const doc = parseJsonBody(body, maxJsonDepth + 3)
  const events = isObject(doc) ? doc['events'] : undefined
  if (!isObject(doc) || !Array.isArray(events) || events.length === 0) {
    throw problem(
      'invalid_request',
      '/events',
      `the body must be {"events": [...]} with 1 to ${maxBatchEvents} items`,
    )
  }
  for (const k of Object.keys(doc)) {
    if (k !== 'events') throw problem('invalid_request', `/${k}`, 'unknown field')
  }
  if (events.length > maxBatchEvents) {
    throw new AppError('too_many_events', {
      message: `The batch has ${events.length} events; at most ${maxBatchEvents} are accepted.`,
    })
  }
  const root = rootSpan(body)
  const spans = elementSpans(body, memberSpans(body, root).get('events')!)
  const out: CheckedEvent[] = []
  const errors: AppError[] = []
  for (const [i, item] of events.entries()) {
    const at = `/events/${i}`
    if (!isObject(item)) {
      errors.push(problem('invalid_request', at, 'must be an object with a payload'))
      continue
    }
    const before = errors.length
    for (const k of Object.keys(item)) {
      if (!itemFields.has(k)) errors.push(problem('invalid_request', `${at}/${k}`, 'unknown field'))
    }
    const { payload, idempotencyKey, orderingKey, traceparent } = item
    const trace = typeof traceparent === 'string' ? normalTraceparent(traceparent) : undefined
    if (traceparent !== undefined && trace === undefined) {
      errors.push(
        problem(
          'invalid_request',
          `${at}/traceparent`,
          `must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>, at most ${maxTraceparentLength} characters)`,
        ),
      )
    }
    for (const [name, value, max, code] of [
      ['idempotencyKey', idempotencyKey, maxIdempotencyKeyLength, 'idempotency_key_invalid'],
      ['orderingKey', orderingKey, maxOrderingKeyLength, 'invalid_request'],
    ] as const) {
      if (value !== undefined && !keyFits(value, max)) {
        errors.push(problem(code, `${at}/${name}`, `must be a string of 1 to ${max} characters`))
      }
    }
    const span = memberSpans(body, spans[i]!).get('payload')
    if (payload === undefined || span === undefined) {
      errors.push(problem('invalid_request', `${at}/payload`, 'missing required property "payload"'))
      continue
    }
    if (span.end - span.start > maxPayloadBytes) {
      errors.push(problem('body_too_large', `${at}/payload`, `larger than ${maxPayloadBytes} bytes`))
      continue
    }
    let eventName: string
    try {
      eventName = checkedEventName(validator, payload)
    } catch (e) {
      if (!(e instanceof AppError)) throw e
      errors.push(itemError(i, e))
      continue
    }
    if (errors.length > before) continue
    // The payload is an object, so its bytes are {…}: anything else would be a slicing bug.
    if (body[span.start] !== 0x7b || body[span.end - 1] !== 0x7d) throw new Error(`payload ${i} mis-sliced`)
    out.push({
      body: Buffer.from(body.subarray(span.start, span.end)),
      payload,
      eventName,
      idempotencyKey: idempotencyKey as string | undefined,
      orderingKey: orderingKey as string | undefined,
      traceparent: trace,
    })
  }
  if (errors.length > 0) throw batchError(errors, events.length)
  return out
}

/** One error for a batch's problems: the first of the most severe kind, with every detail. */
function batchError(errors: AppError[], items: number): AppError {
  const rank = (e: AppError) => severity[e.kind] ?? 0
  const first = errors.reduce((a, b) => (rank(b) < rank(a) ? b : a))
  const details: ErrorDetail[] = errors.flatMap((e) => e.details ?? [])
  const bad = new Set(details.map((d) => d.path.split('/')[2])).size
  return new AppError(first.code, {
    message: `${bad} of ${items} events are invalid; nothing was published. ${first.message}`,
    details: details.slice(0, maxBatchDetails),
  })
}

export function publisher(deps: PublishDeps) {
  const hit = deps.failpoints ?? noFailpoints
  // Subscriptions' filters, compiled once per subscription version.
  const filters = new FilterCache()
  const inputOf = (envId: string, t: number, e: CheckedEvent): PublishInput => ({
    event: {
      id: newId('evt', t),
      envId,
      eventName: e.eventName,
      body: e.body,
      orderingKey: e.orderingKey ?? orderingKeyOf(e.payload, deps.orderingPointers?.[e.eventName]),
      created: t,
      traceparent: e.traceparent ?? null,
    },
    idempotencyKey: e.idempotencyKey ?? null,
    idempotencySince: t - idempotencyWindowMs,
    attemptLimit: deps.attemptLimit,
    attemptLimitFor: scheduleAttemptLimit,
    newDeliveryId: () => newId('dlv', t),
    accepts: (sub) => filters.get(sub)(e.payload),
  })
  const before = () => hit('publish.before_commit')
  /** Commits the inputs through the store with this publish's hand-off ticket, if any. */
  async function committed<T>(
    inputs: PublishInput[],
    run: (inputs: PublishInput[]) => Promise<T>,
  ): Promise<{ result: T; handed: number }> {
    const ticket = deps.handOff?.()
    if (!ticket) return { result: await run(inputs), handed: 0 }
    // The inputs are this publish's own (inputOf): every one shares the ticket.
    for (const i of inputs) i.handOff = ticket
    try {
      return { result: await run(inputs), handed: ticket.handedCount }
    } finally {
      ticket.close()
    }
  }
  return {
    async publish(envId: string, body: Buffer, opts: PublishOptions = {}): Promise<PublishResult> {
      const { idempotencyKey, orderingKey } = opts
      if (idempotencyKey !== undefined && !keyFits(idempotencyKey, maxIdempotencyKeyLength)) {
        throw new AppError('idempotency_key_invalid', {
          message: `Idempotency-Key must be 1 to ${maxIdempotencyKeyLength} characters.`,
        })
      }
      const payload = parseJsonBody(body)
      const eventName = checkedEventName(deps.validator, payload)
      if (orderingKey !== undefined && !keyFits(orderingKey, maxOrderingKeyLength)) {
        throw new AppError('invalid_request', {
          message: `X-Ordering-Key must be 1 to ${maxOrderingKeyLength} characters.`,
          details: [{ path: '/headers/x-ordering-key', message: 'bad length' }],
        })
      }
      const traceparent = normalTraceparent(opts.traceparent)
      const checked = { body, payload, eventName, idempotencyKey, orderingKey, traceparent }
      const input = inputOf(envId, deps.now(), checked)
      const { result: r, handed } = await committed([{ ...input, beforeCommit: before }], ([i]) =>
        deps.store.events.publish(i!),
      )
      hit('publish.after_commit')
      if (!r.replayed) deps.onCommitted?.(envId)
      // Deliveries handed to the local worker need no claim: wake it only for the others.
      if (!r.replayed && r.deliveries > handed) deps.onPublished?.(r)
      return r
    },

    /**
     * POST /events/batch: every item checked first (any bad one: nothing is created), then all
     * in one commit. Each event's body is its payload's bytes, sliced from the request.
     */
    async publishBatch(envId: string, body: Buffer, opts: BatchOptions = {}): Promise<PublishResult[]> {
      const items = batchItems(body, deps.validator, opts.maxPayloadBytes ?? Number.POSITIVE_INFINITY)
      const traces = opts.traceItems?.(items.map((e) => e.traceparent))
      const t = deps.now()
      const inputs = items.map((e, k) =>
        inputOf(envId, t, traces?.[k] !== undefined ? { ...e, traceparent: traces[k] } : e),
      )
      inputs[inputs.length - 1]!.beforeCommit = before
      const { result: rs, handed } = await committed(inputs, (i) => deps.store.events.publishBatch(i))
      hit('publish.after_commit')
      if (rs.some((r) => !r.replayed)) deps.onCommitted?.(envId)
      const created = rs.reduce((n, r) => (r.replayed ? n : n + r.deliveries), 0)
      const woke = rs.find((r) => !r.replayed && r.deliveries > 0)
      if (woke && created > handed) deps.onPublished?.(woke)
      return rs
    },
  }
}

export type Publisher = ReturnType<typeof publisher>
