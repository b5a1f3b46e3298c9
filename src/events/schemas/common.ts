// Building blocks shared by the event schemas: plain JSON Schema draft 2020-12 fragments.
// Every schema is self-contained (no $ref between files), so it can be served as is by
// GET /webhooks/event-types and compiled alone by any 2020-12 validator with the standard formats.
//
// Leniency rules (docs/events.md): objects allow unknown properties, because BaseKit may add
// fields; the types of the fields we list are strict.

export type JsonSchema = Record<string, unknown>

export const SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema'
export const SCHEMA_ID_BASE = 'https://hookpost.dev/schemas/events/'

export function integerRef(description: string): JsonSchema {
  return { type: 'integer', description }
}

export function text(description: string): JsonSchema {
  return { type: 'string', description }
}

/** ISO-8601 / RFC 3339 date-time with an offset, e.g. `2023-03-06T10:15:59+00:00`. */
export function dateTime(description: string): JsonSchema {
  return { type: 'string', format: 'date-time', description }
}

export function nullableDateTime(description: string): JsonSchema {
  return { description, anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] }
}

/**
 * A key -> value map coming from a PHP backend: PHP's json_encode turns an empty associative
 * array into `[]`, so an empty array is accepted as an empty map.
 */
export function phpMap(description: string, values?: JsonSchema): JsonSchema {
  const map: JsonSchema =
    values === undefined ? { type: 'object' } : { type: 'object', additionalProperties: values }
  return { description, anyOf: [map, { type: 'array', maxItems: 0 }] }
}

/** An object that lists its known properties and tolerates unknown ones. */
export function lenientObject(
  description: string,
  properties: Record<string, JsonSchema>,
  required: readonly string[] = [],
): JsonSchema {
  return {
    type: 'object',
    description,
    ...(required.length > 0 ? { required: [...required] } : {}),
    additionalProperties: true,
    properties,
  }
}

/** The top-level schema of one event type: `eventName` (a constant) plus the entity object(s). */
export function eventSchema(options: {
  name: string
  title: string
  description: string
  properties: Record<string, JsonSchema>
  required: readonly string[]
}): JsonSchema {
  return {
    $schema: SCHEMA_DIALECT,
    $id: `${SCHEMA_ID_BASE}${options.name}.json`,
    title: options.title,
    description: options.description,
    type: 'object',
    required: ['eventName', ...options.required],
    additionalProperties: true,
    properties: {
      eventName: { type: 'string', const: options.name, description: 'The event type.' },
      ...options.properties,
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Account holder, brand and package: confirmed by BaseKit's documented account_holder.created
// example (field names, nesting and types). `required` differs per use: the full documented set
// in account_holder.created, only identity fields where the object is inferred context.

export const productTypes = ['one-off', 'add-on', 'subscription', 'domain'] as const

export function brandSchema(required: readonly string[]): JsonSchema {
  return lenientObject(
    'The brand (the partner environment) the account holder belongs to.',
    { ref: integerRef('Brand ref.'), name: text('Brand name.') },
    required,
  )
}

export function packageSchema(required: readonly string[]): JsonSchema {
  return lenientObject(
    'A package held by the account holder: one main package plus any add-ons.',
    {
      ref: integerRef('Package ref.'),
      name: text('Package name.'),
      productType: {
        type: 'string',
        enum: [...productTypes],
        description: 'Kind of product: one-off, add-on, subscription or domain.',
      },
      startDate: dateTime('When the account holder got the package.'),
      endDate: nullableDateTime('When the package ends or ended; null while it runs with no end.'),
    },
    required,
  )
}

export function accountHolderSchema(options: {
  description: string
  required: readonly string[]
  brandRequired: readonly string[]
  packageRequired: readonly string[]
}): JsonSchema {
  return lenientObject(
    options.description,
    {
      ref: integerRef('Account holder (user) ref.'),
      firstName: text('First name.'),
      lastName: text('Last name.'),
      email: text('Email address.'),
      username: text('Login name (the email address in BaseKit’s example).'),
      created: dateTime('When the account holder was created.'),
      brand: brandSchema(options.brandRequired),
      packages: {
        type: 'array',
        description: 'The account holder’s packages.',
        items: packageSchema(options.packageRequired),
      },
      metadata: phpMap('Free-form key -> value map; `[]` when empty.'),
    },
    options.required,
  )
}

/** The account holder as context inside another entity (booking, site, order): only `ref` required. */
export const ownerAccountHolder: JsonSchema = accountHolderSchema({
  description:
    'The account holder who owns the site (inferred context: same shape as in account_holder.* events).',
  required: ['ref'],
  brandRequired: ['ref'],
  packageRequired: ['ref'],
})

/** Compact owner context used by the examples of the inferred events. */
export const exampleOwner = {
  ref: 199,
  firstName: 'Web',
  lastName: 'Hook',
  email: 'webhooks@basekit.com',
  brand: { ref: 1, name: 'BaseKit Brand' },
}

/** Deep-freezes a plain JSON value so the shared catalogue cannot be changed by a caller. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
