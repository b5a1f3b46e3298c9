// Idempotency keys at publish time: the earlier event a key names, and whether the new bytes are
// that event's. The event's stored body is the comparison (the bytes are kept for as long as the
// key is), so events published before this check existed are compared like any other.
import type { Kysely, Transaction } from 'kysely'
import { AppError } from '../../shared/errors.ts'
import type { PublishInput, PublishResult } from '../store.ts'
import type { Database } from './database.ts'

/**
 * The event that `input`'s key named within the window, answered again; undefined when the key
 * is free. Other bytes under the same key throw idempotency_key_reused; `index` is the item's
 * place in a batch (its detail names it), null for a single publish.
 */
export async function priorEvent(
  db: Kysely<Database> | Transaction<Database>,
  input: PublishInput,
  index: number | null,
): Promise<PublishResult | undefined> {
  const key = input.idempotencyKey
  if (key === null) return undefined
  const prior = await db
    .selectFrom('events')
    .select(['id', 'event_name', 'created', 'body'])
    .where('env_id', '=', input.event.envId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst()
  if (!prior || Number(prior.created) <= input.idempotencySince) return undefined
  if (!Buffer.from(prior.body).equals(input.event.body)) {
    throw new AppError('idempotency_key_reused', {
      message: `The idempotency key was already used for ${prior.id}, with a different body.`,
      ...(index === null
        ? {}
        : {
            details: [
              {
                path: `/events/${index}/idempotencyKey`,
                message: `used for ${prior.id} with another payload`,
              },
            ],
          }),
    })
  }
  const n = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('event_id', '=', prior.id)
    .executeTakeFirstOrThrow()
  return { eventId: prior.id, eventName: prior.event_name, deliveries: Number(n.n), replayed: true }
}
