// Publisher use case: accept one event, validate it against the catalogue, and commit it with
// one delivery per active subscription in one transaction. The bytes are stored as received.
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import type { PublishResult, Store } from '../store/store.ts'
import { parseJsonBody } from './json-body.ts'
import type { PayloadValidator } from './payload-validator.ts'

export const idempotencyWindowMs = 24 * 3_600_000
export const maxIdempotencyKeyLength = 255

export interface PublishDeps {
  store: Store
  validator: PayloadValidator
  attemptLimit: number
  now: () => number
  /** Told after each commit that created deliveries (wakes an in-process worker). */
  onPublished?: (r: PublishResult) => void
}

export function publisher(deps: PublishDeps) {
  return {
    async publish(envId: string, body: Buffer, idempotencyKey: string | undefined): Promise<PublishResult> {
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
      const t = deps.now()
      const r = await deps.store.events.publish({
        event: { id: newId('evt', t), envId, eventName, body, created: t },
        idempotencyKey: idempotencyKey ?? null,
        idempotencySince: t - idempotencyWindowMs,
        attemptLimit: deps.attemptLimit,
        newDeliveryId: () => newId('dlv', t),
      })
      if (!r.replayed && r.deliveries > 0) deps.onPublished?.(r)
      return r
    },
  }
}

export type Publisher = ReturnType<typeof publisher>
