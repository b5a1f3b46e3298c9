// Publisher use case: accept one event, validate it against the catalogue, and commit it with
// one delivery per active subscription in one transaction. The bytes are stored as received.
import { AppError } from '../shared/errors.ts'
import { type Failpoints, noFailpoints } from '../shared/failpoints.ts'
import { newId } from '../shared/ids.ts'
import type { PublishResult, Store } from '../store/store.ts'
import { parseJsonBody } from './json-body.ts'
import type { PayloadValidator } from './payload-validator.ts'

export const idempotencyWindowMs = 24 * 3_600_000
export const maxIdempotencyKeyLength = 255
export const maxOrderingKeyLength = 255

export interface PublishOptions {
  idempotencyKey?: string | undefined
  /** Overrides the key taken from the event type's JSON pointer. */
  orderingKey?: string | undefined
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

function orderingKeyOf(payload: unknown, pointer: string | undefined): string | null {
  if (pointer === undefined) return null
  const v = valueAtPointer(payload, pointer)
  return typeof v === 'string' || typeof v === 'number' ? String(v).slice(0, maxOrderingKeyLength) : null
}

export interface PublishDeps {
  store: Store
  validator: PayloadValidator
  attemptLimit: number
  now: () => number
  /** Told after each commit that created deliveries (wakes an in-process worker). */
  onPublished?: (r: PublishResult) => void
  failpoints?: Failpoints
  /** Event type → JSON pointer to its ordering key (e.g. /accountHolder/ref). */
  orderingPointers?: Readonly<Record<string, string>>
}

export function publisher(deps: PublishDeps) {
  const hit = deps.failpoints ?? noFailpoints
  return {
    async publish(envId: string, body: Buffer, opts: PublishOptions = {}): Promise<PublishResult> {
      const { idempotencyKey, orderingKey } = opts
      if (
        idempotencyKey !== undefined &&
        (idempotencyKey.length === 0 || idempotencyKey.length > maxIdempotencyKeyLength)
      ) {
        throw new AppError('idempotency_key_invalid', {
          message: `Idempotency-Key must be 1 to ${maxIdempotencyKeyLength} characters.`,
        })
      }
      const payload = parseJsonBody(body)
      const eventName =
        typeof payload === 'object' && payload !== null && !Array.isArray(payload)
          ? (payload as Record<string, unknown>)['eventName']
          : undefined
      if (typeof eventName !== 'string' || !deps.validator.has(eventName)) {
        throw new AppError('missing_event_name', {
          message:
            typeof eventName === 'string'
              ? `"${eventName.slice(0, 100)}" is not in the event catalogue.`
              : 'The payload must be a JSON object with a string eventName from the catalogue.',
          details: [{ path: '/eventName', message: 'missing or unknown' }],
        })
      }
      const problems = deps.validator.check(eventName, payload)
      if (problems.length > 0) {
        throw new AppError('payload_invalid', {
          message: `The payload does not match the ${eventName} schema at ${problems[0]!.path}: ${problems[0]!.message}`,
          details: problems,
        })
      }
      if (
        orderingKey !== undefined &&
        (orderingKey.length === 0 || orderingKey.length > maxOrderingKeyLength)
      ) {
        throw new AppError('invalid_request', {
          message: `X-Ordering-Key must be 1 to ${maxOrderingKeyLength} characters.`,
          details: [{ path: '/headers/x-ordering-key', message: 'bad length' }],
        })
      }
      const t = deps.now()
      const r = await deps.store.events.publish({
        event: {
          id: newId('evt', t),
          envId,
          eventName,
          body,
          orderingKey: orderingKey ?? orderingKeyOf(payload, deps.orderingPointers?.[eventName]),
          created: t,
        },
        idempotencyKey: idempotencyKey ?? null,
        idempotencySince: t - idempotencyWindowMs,
        attemptLimit: deps.attemptLimit,
        newDeliveryId: () => newId('dlv', t),
        beforeCommit: () => hit('publish.before_commit'),
      })
      hit('publish.after_commit')
      if (!r.replayed && r.deliveries > 0) deps.onPublished?.(r)
      return r
    },
  }
}

export type Publisher = ReturnType<typeof publisher>
