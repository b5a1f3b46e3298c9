// The event catalogue: BaseKit's six event types, each with its JSON Schema (draft 2020-12) and an
// example payload that passes it. Pure core: imports only files of src/events/.
// docs/events.md describes every type for receivers and lists what is confirmed and what is inferred.
import {
  accountHolderCreatedExample,
  accountHolderCreatedSchema,
  accountHolderPackageChangeExample,
  accountHolderPackageChangeSchema,
} from './schemas/account-holder.ts'
import { bookingUpdatedExample, bookingUpdatedSchema } from './schemas/booking.ts'
import { deepFreeze, type JsonSchema } from './schemas/common.ts'
import {
  siteFirstPublishExample,
  siteFirstPublishSchema,
  sitePublishExample,
  sitePublishSchema,
} from './schemas/site.ts'
import { storeOrderUpdatedExample, storeOrderUpdatedSchema } from './schemas/store-order.ts'

export type { JsonSchema } from './schemas/common.ts'

export interface EventType {
  name: string
  description: string
  schema: JsonSchema
  example: Record<string, unknown>
}

function eventType(schema: JsonSchema, example: Record<string, unknown>): EventType {
  const name = example['eventName']
  const description = schema['description']
  if (typeof name !== 'string' || typeof description !== 'string') {
    throw new Error('event type definition lacks eventName or description')
  }
  return { name, description, schema, example }
}

/** The catalogue, in BaseKit's order. Deep-frozen: treat as read-only. */
export const eventTypes: readonly EventType[] = deepFreeze([
  eventType(accountHolderCreatedSchema, accountHolderCreatedExample),
  eventType(accountHolderPackageChangeSchema, accountHolderPackageChangeExample),
  eventType(bookingUpdatedSchema, bookingUpdatedExample),
  eventType(siteFirstPublishSchema, siteFirstPublishExample),
  eventType(sitePublishSchema, sitePublishExample),
  eventType(storeOrderUpdatedSchema, storeOrderUpdatedExample),
])

export const eventTypeNames: readonly string[] = deepFreeze(eventTypes.map((t) => t.name))

const byName = new Map<string, EventType>(eventTypes.map((t) => [t.name, t]))

export function findEventType(name: string): EventType | undefined {
  return byName.get(name)
}
