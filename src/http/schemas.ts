// Request and response schemas (TypeBox = JSON Schema): they validate requests, serialize
// responses and generate /openapi.json, from one declaration.
import { Type } from 'typebox'

const IsoTime = Type.String({ format: 'date-time' })
const Nullable = <T extends ReturnType<typeof Type.String> | ReturnType<typeof Type.Integer>>(t: T) =>
  Type.Union([t, Type.Null()])

export const ErrorOut = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  },
  { $id: 'Error' },
)

export const EnvironmentOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  signatureEncoding: Type.Union([Type.Literal('hex'), Type.Literal('base64')]),
  created: IsoTime,
})

export const EnvironmentIn = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    signatureEncoding: Type.Optional(Type.Union([Type.Literal('hex'), Type.Literal('base64')])),
  },
  { additionalProperties: false },
)

export const CredentialIn = Type.Object(
  {
    role: Type.Union([Type.Literal('consumer'), Type.Literal('publisher')]),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
)

export const CredentialOut = Type.Object({
  id: Type.String(),
  role: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  key: Type.String(),
  secret: Type.String({ description: 'Shown this once; only a hash is kept.' }),
  created: IsoTime,
})

/** docs/destinations.md: `type` picks the fields; the registered types check them. */
export const Destination = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 40,
      description: '`http` (the default), `amqp`, `nats` or `redis` (GET /webhooks/destination-types)',
    }),
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'The endpoint or broker URL; answers show a password as `****`',
    }),
  },
  {
    additionalProperties: Type.String({ maxLength: 512 }),
    description:
      'Where deliveries go. http: `url`; amqp: `url`, `exchange`, `routingKey`; nats: `url`, `subject`; redis: `url`, `stream`.',
    examples: [
      {
        type: 'amqp',
        url: 'amqps://user:****@rabbit.example.com/vhost',
        exchange: 'webhooks',
        routingKey: 'orders',
      },
    ],
  },
)

export const DestinationTypeOut = Type.Object({
  type: Type.String(),
  description: Type.String(),
  urlExample: Type.String(),
  fields: Type.Array(
    Type.Object({ name: Type.String(), description: Type.String(), example: Type.String() }),
  ),
})
function TransformationIn() {
  return Type.Object(
    {
      code: Type.String({
        description:
          'JavaScript defining function handler(webhook): it receives { eventName, payload, url, headers } and returns the same shape, or { cancel: true }. At most 32 KiB; it must compile and define handler (else 400 invalid_transformation).',
      }),
    },
    { additionalProperties: false },
  )
}

// Endpoint authentication (contract section 13): secrets are write-only; answers show "****".
// On PUT a secret given as "****" or left out keeps the stored one (same auth type).
const secretIn = (max: number, description: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: max, writeOnly: true, description }))
const keepHint = '; on PUT, "****" or absent keeps the stored one'
export const EndpointAuthIn = Type.Union(
  [
    Type.Object(
      {
        type: Type.Literal('basic'),
        username: Type.String({ minLength: 1, maxLength: 200 }),
        password: secretIn(1024, `HTTP Basic password${keepHint}`),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { type: Type.Literal('bearer'), token: secretIn(4096, `the bearer token${keepHint}`) },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('oauth2'),
        tokenUrl: Type.String({ minLength: 1, maxLength: 2048, description: 'obeys the sending policy' }),
        clientId: Type.String({ minLength: 1, maxLength: 500 }),
        clientSecret: secretIn(1024, `client-credentials grant, sent with HTTP Basic${keepHint}`),
        scope: Type.Optional(Type.String({ maxLength: 1024 })),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('mtls'),
        certificate: Type.String({
          minLength: 1,
          maxLength: 16_384,
          description: 'PEM client certificate (chain after it)',
        }),
        privateKey: secretIn(16_384, `PEM private key of the certificate, unencrypted${keepHint}`),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'How Hookpost authenticates to the endpoint; null removes it, absent on PUT keeps it' },
)

const StaticHeadersIn = Type.Record(
  Type.String({ maxLength: 100 }),
  Type.String({ maxLength: 2048, writeOnly: true }),
  {
    maxProperties: 20,
    description:
      'Static headers sent with every delivery (values are secrets, shown as "****"; "****" on PUT keeps a stored value); not webhook-*, x-delivery-*, content-type, user-agent, traceparent, host, hop-by-hop, nor authorization with auth. null removes them, absent on PUT keeps them',
  },
)

const masked = Type.Literal('****')
export const EndpointAuthOut = Type.Union([
  Type.Object({ type: Type.Literal('basic'), username: Type.String(), password: masked }),
  Type.Object({ type: Type.Literal('bearer'), token: masked }),
  Type.Object({
    type: Type.Literal('oauth2'),
    tokenUrl: Type.String(),
    clientId: Type.String(),
    clientSecret: masked,
    scope: Type.Optional(Type.String()),
  }),
  Type.Object({ type: Type.Literal('mtls'), certificate: Type.String(), privateKey: masked }),
])
const unchanged =
  ' Absent on PUT: unchanged; null: back to the service setting. See docs/subscription-settings.md.'

/** A subscription's own delivery settings (contract section 12); the core checks their bounds. */
const DeliverySettingsIn = {
  retrySchedule: Type.Optional(
    Type.Union([Type.Array(Type.String({ maxLength: 20 }), { maxItems: 100 }), Type.Null()], {
      description: `Delays between attempts, e.g. ["10s","1m","1h"]: 1 to 50 positive durations of at most 7d, each ±20 % jitter; replaces HOOKPOST_RETRY_SCHEDULE.${unchanged}`,
    }),
  ),
  timeout: Type.Optional(
    Type.Union([Type.String({ maxLength: 20 }), Type.Null()], {
      description: `Total deadline of one attempt, e.g. "5s": 100ms to HOOKPOST_SUBSCRIPTION_TIMEOUT_MAX (default HOOKPOST_REQUEST_TIMEOUT).${unchanged}`,
    }),
  ),
  rateLimit: Type.Optional(
    Type.Union([Type.String({ maxLength: 20 }), Type.Null()], {
      description: `"N/s" or "N/m" (N from 1 to 100000): attempts started per second (minute) for this subscription across all workers.${unchanged}`,
    }),
  ),
  maxInFlight: Type.Optional(
    Type.Union([Type.Integer(), Type.Null()], {
      description: `At most this many attempts leased at once across all workers (1 to 1000).${unchanged}`,
    }),
  ),
}

const DeliverySettingsOut = {
  retrySchedule: Type.Union([Type.Array(Type.String()), Type.Null()], {
    description: 'its own retry schedule; null: HOOKPOST_RETRY_SCHEDULE',
  }),
  timeout: Type.Union([Type.String(), Type.Null()], { description: 'null: HOOKPOST_REQUEST_TIMEOUT' }),
  rateLimit: Type.Union([Type.String(), Type.Null()], { description: '"N/s" or "N/m"; null: none' }),
  maxInFlight: Type.Union([Type.Integer(), Type.Null()], { description: 'null: none' }),
}

export const SubscriptionIn = Type.Object(
  {
    event: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'An event type from GET /webhooks/event-types',
    }),
    url: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2048,
        description: 'Short for `destination: { type: "http", url }`',
      }),
    ),
    destination: Type.Optional(Destination),
    active: Type.Boolean(),
    ordered: Type.Optional(
      Type.Boolean({
        description:
          'Deliver events that share an ordering key one at a time, in publish order (default false; unchanged on PUT when absent)',
      }),
    ),
    // Any JSON here: the core checks it, so that every bad filter is 400 invalid_filter naming the part.
    filter: Type.Optional(
      Type.Unknown({
        description:
          'A JSON object filtering the payload: `{"<dot.path>": value}` or `{"<dot.path>": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte"|"$in"|"$nin"|"$exists"|"$prefix": …}}`, combined with `$and`, `$or`, `$not`. An event it does not match gets no delivery here. null removes it; unchanged on PUT when absent; anything else invalid is 400 invalid_filter. See docs/subscriptions.md.',
      }),
    ),
    paused: Type.Optional(
      Type.Boolean({
        description:
          'true: deliveries are created and kept pending, none is sent; false: they go out oldest first (default false; unchanged on PUT when absent)',
      }),
    ),
    auth: Type.Optional(Type.Union([EndpointAuthIn, Type.Null()])),
    headers: Type.Optional(Type.Union([StaticHeadersIn, Type.Null()])),
    ...DeliverySettingsIn,
    transformation: Type.Optional(
      Type.Union([TransformationIn(), Type.Null()], {
        description:
          'JavaScript run before each delivery attempt (docs/transformations.md); null removes it; unchanged on PUT when absent',
      }),
    ),
  },
  { additionalProperties: false },
)

export const VerificationState = Type.Union(
  [Type.Literal('pending'), Type.Literal('verified'), Type.Literal('failed')],
  {
    description:
      'Endpoint ownership (HOOKPOST_VERIFY_ENDPOINTS): nothing is sent until `verified`; absent when never asked',
  },
)

export const SubscriptionOut = Type.Object({
  id: Type.String(),
  event: Type.String(),
  url: Type.Optional(Type.String({ description: 'For an http destination' })),
  destination: Destination,
  active: Type.Boolean(),
  created: IsoTime,
  updated: IsoTime,
  ordered: Type.Boolean(),
  filter: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  paused: Type.Boolean(),
  verification: Type.Optional(VerificationState),
  verificationDetail: Type.Optional(
    Type.Object({
      attempts: Type.Integer({ description: 'challenges sent for this verification' }),
      nextAttemptAt: Type.Union([IsoTime, Type.Null()]),
      lastError: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  auth: Type.Optional(EndpointAuthOut),
  headers: Type.Optional(
    Type.Record(Type.String(), masked, { description: 'static header names; values shown as "****"' }),
  ),
  ...DeliverySettingsOut,
  transformation: Type.Union([Type.Object({ code: Type.String() }), Type.Null()], {
    description: 'The JavaScript run before each delivery attempt; null when none',
  }),
  deactivatedReason: Type.Union([Type.String({ description: '`gone` (410) or `failing`' }), Type.Null()]),
  health: Type.Object({
    consecutiveFailures: Type.Integer(),
    failingSince: Type.Union([IsoTime, Type.Null()]),
    lastSuccessAt: Type.Union([IsoTime, Type.Null()]),
    lastFailureAt: Type.Union([IsoTime, Type.Null()]),
    successCount: Type.Integer(),
    failureCount: Type.Integer(),
    successRate: Type.Union([Type.Number(), Type.Null()]),
  }),
})

const statusLiterals = () =>
  Type.Union([
    Type.Literal('pending'),
    Type.Literal('delivered'),
    Type.Literal('failed'),
    Type.Literal('cancelled'),
  ])

export const DeliveryStatusSchema = statusLiterals()

export const ReplayIn = Type.Object(
  {
    since: Type.String({ format: 'date-time', description: 'deliveries created at or after this time' }),
    until: Type.Optional(
      Type.String({ format: 'date-time', description: 'and before this time (default: now)' }),
    ),
    status: Type.Optional(statusLiterals()),
  },
  { additionalProperties: false },
)

export const ReplayOut = Type.Object({
  id: Type.String(),
  subscriptionId: Type.String(),
  since: IsoTime,
  until: IsoTime,
  status: Type.Union([Type.String(), Type.Null()]),
  state: Type.Union([Type.Literal('running'), Type.Literal('finished'), Type.Literal('cancelled')]),
  total: Type.Integer({ description: 'deliveries matched when the job was created' }),
  done: Type.Integer({ description: 'deliveries re-queued so far' }),
  created: IsoTime,
  updated: IsoTime,
})

export const OperationalEventOut = Type.Object({
  id: Type.String(),
  type: Type.String(),
  environmentId: Type.Union([Type.String(), Type.Null()]),
  created: IsoTime,
  data: Type.Record(Type.String(), Type.Unknown()),
  sent: Type.Boolean({ description: 'accepted by the operator webhook' }),
})

export const OperationalEventsQuery = Type.Object({
  type: Type.Optional(Type.String({ maxLength: 50 })),
  limit: Type.Optional(Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
})

export const UrlCheckIn = Type.Object(
  { url: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
)

export const UrlCheckOut = Type.Object({
  allowed: Type.Boolean(),
  reason: Type.String(),
  code: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  scheme: Type.Union([Type.String(), Type.Null()]),
  host: Type.Union([Type.String(), Type.Null()]),
  hostType: Type.Optional(Type.String()),
  addressKind: Type.Optional(Type.String()),
})

export const DeliveryOut = Type.Object({
  id: Type.String(),
  eventId: Type.String(),
  subscriptionId: Type.String(),
  event: Type.String(),
  status: DeliveryStatusSchema,
  attempts: Type.Integer(),
  nextAttemptAt: Type.Union([IsoTime, Type.Null()]),
  lastStatusCode: Nullable(Type.Integer()),
  lastError: Nullable(Type.String()),
  created: IsoTime,
  updated: IsoTime,
})

export const AttemptOut = Type.Object({
  number: Type.Integer(),
  started: IsoTime,
  durationMs: Type.Integer(),
  statusCode: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  responseBody: Type.Union([Type.String({ description: 'At most 64 KiB is kept.' }), Type.Null()]),
  requestHeaders: Type.Record(Type.String(), Type.String()),
  responseHeaders: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
})

export const DeliveryWithAttemptsOut = Type.Intersect([
  DeliveryOut,
  Type.Object({ attemptLog: Type.Array(AttemptOut) }),
])

export const DeliveriesQuery = Type.Object({
  subscriptionId: Type.Optional(Type.String({ maxLength: 100 })),
  status: Type.Optional(Type.String({ maxLength: 20 })),
  limit: Type.Optional(
    Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$', description: '1 to 200 (default 50)' }),
  ),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
})

export const EventTypeOut = Type.Object({
  name: Type.String(),
  description: Type.String(),
  schema: Type.Record(Type.String(), Type.Unknown()),
  example: Type.Record(Type.String(), Type.Unknown()),
})

export const PublishedOut = Type.Object({
  event: Type.Object({
    id: Type.String(),
    eventName: Type.String(),
    deliveries: Type.Integer(),
  }),
})

export const PublishBatchIn = Type.Object(
  {
    events: Type.Array(
      Type.Object(
        {
          payload: Type.Object(
            { eventName: Type.String() },
            {
              additionalProperties: true,
              description:
                'The event itself, as POST /events takes it; stored and delivered as these exact bytes',
            },
          ),
          idempotencyKey: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 255,
              description: 'As the Idempotency-Key header of POST /events',
            }),
          ),
          orderingKey: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 255,
              description: 'As the X-Ordering-Key header of POST /events',
            }),
          ),
          traceparent: Type.Optional(
            Type.String({
              maxLength: 512,
              pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$',
              description:
                'A W3C traceparent, as the traceparent header of POST /events; sent on every delivery attempt of this event with the same trace id. An invalid one fails the batch (400).',
            }),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  { additionalProperties: false },
)

export const PublishedBatchOut = Type.Object({
  events: Type.Array(
    Type.Object({
      id: Type.String(),
      eventName: Type.String(),
      deliveries: Type.Integer(),
    }),
  ),
})

export const HmacSecretOut = Type.Object({
  hmacSecret: Type.Object({
    secret: Type.String({ description: 'whsec_ + base64 of 32 bytes; shown this once' }),
    created: IsoTime,
    previousExpires: Type.Union([IsoTime, Type.Null()], {
      description:
        'Until when the previous secret keeps signing beside the new one (HOOKPOST_SECRET_GRACE, 24 h by default). null when no earlier secret had been shown to anyone (the first call for a new environment): that one stops signing at once.',
    }),
  }),
})

export const SigningKeyIn = Type.Object(
  { type: Type.Literal('ed25519', { description: 'The only key type: Ed25519 (Standard Webhooks v1a)' }) },
  { additionalProperties: false },
)

export const SigningKeyOut = Type.Object({
  id: Type.String({ description: 'spk_…' }),
  type: Type.Literal('ed25519'),
  publicKey: Type.String({
    description:
      'whpk_ + base64 of the raw 32-byte Ed25519 public key: what a receiver verifies v1a with. The private key never leaves Hookpost.',
  }),
  created: IsoTime,
})

export const IdParam = (name: string) =>
  Type.Object({ [name]: Type.String({ minLength: 1, maxLength: 100 }) })

export const TransformationTestIn = Type.Object(
  {
    code: Type.Optional(
      Type.String({ description: 'Code to try instead of the saved transformation (not saved)' }),
    ),
    payload: Type.Optional(
      Type.Unknown({ description: "The payload to transform (default: the event type's example)" }),
    ),
  },
  { additionalProperties: false },
)

export const TransformationTestOut = Type.Object({
  result: Type.Optional(
    Type.Union([
      Type.Object({
        eventName: Type.String(),
        payload: Type.Unknown({ description: 'What would be sent (as JSON)' }),
        url: Type.String({ description: 'Where it would be sent' }),
        headers: Type.Record(Type.String(), Type.String(), {
          description: "Headers added beside Hookpost's own",
        }),
      }),
      Type.Object({ cancel: Type.Literal(true) }),
    ]),
  ),
  error: Type.Optional(
    Type.Object({
      code: Type.Literal('transformation_error'),
      message: Type.String({ description: 'As the attempt log would show it' }),
    }),
  ),
})
