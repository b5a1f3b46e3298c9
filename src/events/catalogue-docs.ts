// The event catalogue as published documents: an AsyncAPI 3.0 document (GET /asyncapi.json) and
// the OpenAPI 3.1 `webhooks` of /openapi.json. Both are built here from the same catalogue and the
// same header list, so they cannot drift apart. Pure data: no HTTP import (the transport serves it).
import type { EventType, JsonSchema } from './event-types.ts'

interface DeliveryHeader {
  name: string
  description: string
  schema: JsonSchema
  /** Sent on every attempt; the others only in some cases. */
  required: boolean
  example: string
}

const secretNote =
  'The secret is the environment’s `whsec_…` string, shown once by `POST /webhooks/hmac-secret`.'

/** The headers of every delivery request (contract sections 6 and 14), in the order they are listed. */
export const deliveryHeaders: readonly DeliveryHeader[] = [
  {
    name: 'Content-Type',
    description: 'Always `application/json`: the body is the event’s exact bytes as published.',
    schema: { type: 'string', const: 'application/json' },
    required: true,
    example: 'application/json',
  },
  {
    name: 'User-Agent',
    description: '`Hookpost/<version>`.',
    schema: { type: 'string', pattern: '^Hookpost/' },
    required: true,
    example: 'Hookpost/0.1.0',
  },
  {
    name: 'X-Delivery-Hmac-SHA256',
    description: `BaseKit-compatible signature: HMAC-SHA256 of the raw body bytes, keyed with the environment’s current secret string (the whole \`whsec_…\` string as UTF-8), lowercase hex by default, base64 if the environment chose it. Compare it in constant time against your own HMAC of the bytes received, before parsing them. ${secretNote}`,
    schema: { type: 'string', pattern: '^([0-9a-f]{64}|[A-Za-z0-9+/]{43}=)$' },
    required: true,
    example: '5f0d2a3a8f6c4e1f9b7d0c2e4a6b8d0f1e3c5a7b9d1f3e5a7c9b1d3f5e7a9c1b',
  },
  {
    name: 'webhook-id',
    description: 'Standard Webhooks: the delivery id, the same on every attempt. Deduplicate on it.',
    schema: { type: 'string', minLength: 1 },
    required: true,
    example: 'dlv_2xV9k3TQm8aJrP4sLw7Yc1',
  },
  {
    name: 'webhook-timestamp',
    description:
      'Standard Webhooks: Unix seconds of this attempt. Refuse a request whose timestamp is far from your clock (replays).',
    schema: { type: 'string', pattern: '^[0-9]+$' },
    required: true,
    example: '1764331200',
  },
  {
    name: 'webhook-signature',
    description: `Standard Webhooks v1: \`v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">\`, keyed with the base64-decoded part of the secret after \`whsec_\`; one entry per secret valid now (two during a rotation’s grace), space-separated, current first. Then, per Ed25519 signing key of the environment (\`POST /webhooks/signing-keys\`), one \`v1a,<base64 Ed25519 signature of the same string>\`, verified with the key’s \`whpk_\` public key. Accept the request if any entry matches. ${secretNote}`,
    schema: { type: 'string', pattern: '^v1,[A-Za-z0-9+/]+=*( v1a?,[A-Za-z0-9+/]+=*)*$' },
    required: true,
    example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
  },
  {
    name: 'X-Delivery-Event',
    description: 'The event name, as in the body’s `eventName`.',
    schema: { type: 'string', minLength: 1 },
    required: true,
    example: 'account_holder.created',
  },
  {
    name: 'X-Delivery-Attempt',
    description: 'The attempt number: 1, 2, 3, …',
    schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
    required: true,
    example: '1',
  },
  {
    name: 'traceparent',
    description:
      'W3C Trace Context, with the trace id the publisher sent on `POST /events`; absent when it sent none.',
    schema: { type: 'string', pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$' },
    required: false,
    example: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  },
]

const deliveryDescription =
  'Hookpost sends each event to the URL of every active subscription to its type, as `POST <subscription url>` with the event’s exact bytes as the body. A 2xx answer is success. Anything else, a redirect (never followed), a timeout (one total deadline per attempt, 15 s by default) or a refused connection is a failure, retried on the schedule; a 410 answer deactivates the subscription; `Retry-After` on 429 and 503 is honoured within bounds. Verify `X-Delivery-Hmac-SHA256` or `webhook-signature` before trusting the body.'

/** `account_holder.package_change` -> `AccountHolderPackageChange`. */
function pascal(name: string): string {
  return name
    .split(/[._-]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')
}

function headersExample(type: EventType): Record<string, string> {
  return Object.fromEntries(
    deliveryHeaders.map((h) => [h.name, h.name === 'X-Delivery-Event' ? type.name : h.example]),
  )
}

/** The AsyncAPI 3.0 document: one channel, message and `send` operation per event type. */
export function asyncApiDocument(
  types: readonly EventType[],
  version: string,
): { asyncapi: '3.0.0' } & Record<string, unknown> {
  const channels: Record<string, unknown> = {}
  const operations: Record<string, unknown> = {}
  for (const type of types) {
    channels[type.name] = {
      // The address is each subscription's own URL, known only at run time.
      address: null,
      title: type.name,
      description: `Subscriptions to \`${type.name}\`: ${type.description}`,
      messages: {
        [type.name]: {
          name: type.name,
          title: type.name,
          summary: type.description,
          contentType: 'application/json',
          headers: { $ref: '#/components/schemas/DeliveryHeaders' },
          payload: type.schema,
          examples: [{ name: 'example', headers: headersExample(type), payload: type.example }],
        },
      },
    }
    operations[`send${pascal(type.name)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${type.name}` },
      title: `Deliver ${type.name}`,
      summary: `Hookpost POSTs a \`${type.name}\` event to the subscriber’s URL.`,
      description: deliveryDescription,
      messages: [{ $ref: `#/channels/${type.name}/messages/${type.name}` }],
      bindings: { http: { method: 'POST', bindingVersion: '0.3.0' } },
    }
  }
  return {
    asyncapi: '3.0.0' as const,
    info: {
      title: 'Hookpost events',
      version,
      description: `The events Hookpost delivers to subscribers (the catalogue of \`GET /webhooks/event-types\`), each sent by HTTP POST to the subscription’s URL. Every delivery is signed twice, in its headers: \`X-Delivery-Hmac-SHA256\` (BaseKit) and \`webhook-signature\` (Standard Webhooks); see the DeliveryHeaders schema. The same events are the \`webhooks\` of /openapi.json.`,
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: {
      schemas: {
        DeliveryHeaders: {
          type: 'object',
          description: 'The headers of every delivery request.',
          required: deliveryHeaders.filter((h) => h.required).map((h) => h.name),
          properties: Object.fromEntries(
            deliveryHeaders.map((h) => [h.name, { ...h.schema, description: h.description }]),
          ),
        },
      },
    },
  }
}

/** OpenAPI's components.parameters key of a delivery header. */
function parameterKey(name: string): string {
  return `delivery-${name}`
}

// OpenAPI ignores a header parameter named Content-Type: the request body's media type says it.
const headerParameters = deliveryHeaders.filter((h) => h.name !== 'Content-Type')

/** The delivery headers as OpenAPI header parameters, for `components.parameters`. */
export function deliveryHeaderParameters(): Record<string, unknown> {
  return Object.fromEntries(
    headerParameters.map((h) => [
      parameterKey(h.name),
      {
        name: h.name,
        in: 'header',
        required: h.required,
        description: h.description,
        schema: h.schema,
        example: h.example,
      },
    ]),
  )
}

const noBody = (description: string) => ({ description })

/** OpenAPI 3.1 `webhooks`: one `post` per event type, its schema as the request body. */
export function openApiWebhooks(types: readonly EventType[]): Record<string, unknown> {
  return Object.fromEntries(
    types.map((type) => [
      type.name,
      {
        post: {
          tags: ['delivered events'],
          operationId: `deliver${pascal(type.name)}`,
          summary: `Hookpost delivers a ${type.name} event`,
          description: `${type.description}\n\n${deliveryDescription}`,
          // The receiver is not asked for a credential: it checks the signature headers.
          security: [],
          parameters: headerParameters.map((h) => ({
            $ref: `#/components/parameters/${parameterKey(h.name)}`,
          })),
          requestBody: {
            required: true,
            description: `The \`${type.name}\` event, byte for byte as its publisher sent it.`,
            content: {
              'application/json': { schema: type.schema, examples: { example: { value: type.example } } },
            },
          },
          responses: {
            '2XX': noBody('Delivered: any 2xx answer is success, whatever its body.'),
            '410': noBody('Gone: the subscription is deactivated; no more attempts.'),
            '429': noBody('Too many requests: retried, after `Retry-After` if given (within bounds).'),
            '503': noBody('Unavailable: retried, after `Retry-After` if given (within bounds).'),
            default: noBody('Any other answer (redirects included) is a failure, retried on the schedule.'),
          },
        },
      },
    ]),
  )
}
