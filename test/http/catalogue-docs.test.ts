// GET /asyncapi.json and the `webhooks` of /openapi.json: both documents describe the catalogue the
// app serves, with identical schemas, and the AsyncAPI one passes @asyncapi/parser.
import { Parser } from '@asyncapi/parser'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'

// Parsed JSON, read by path: a wrong path fails the assertion that reads it.
type Json = ReturnType<typeof JSON.parse>

// Diagnostics tolerated from @asyncapi/parser, each with why. Errors and warnings: none.
const tolerated = [
  // Informational (severity 2): 3.1.0 exists, but the contract publishes AsyncAPI 3.0.
  'asyncapi-latest-version',
]

describe('the event catalogue as AsyncAPI 3.0 and OpenAPI 3.1 webhooks', () => {
  let h: AppHarness
  let asyncapi: { status: number; body: string; doc: Json }
  let openapi: Json
  beforeAll(async () => {
    h = await appHarness()
    // No credentials, as for /openapi.json.
    const r = await h.app.inject({ method: 'GET', url: '/asyncapi.json' })
    asyncapi = { status: r.statusCode, body: r.body, doc: r.json() }
    openapi = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
  })
  afterAll(async () => {
    await h.close()
  })

  it('serves an AsyncAPI 3.0 document without credentials, versioned like the API', () => {
    expect(asyncapi.status).toBe(200)
    expect(asyncapi.doc.asyncapi).toBe('3.0.0')
    expect(asyncapi.doc.info.version).toBe('0.0.0-test')
    expect(openapi.info.version).toBe(asyncapi.doc.info.version)
    const route = openapi.paths['/asyncapi.json'].get
    expect(route.operationId).toBe('getAsyncApi')
    expect(route.security).toEqual([])
  })

  it('passes @asyncapi/parser with no error or warning', async () => {
    const { document, diagnostics } = await new Parser().parse(asyncapi.body)
    const unexpected = diagnostics
      .filter((d) => d.severity < 2 || !tolerated.includes(String(d.code)))
      .map((d) => `${d.code} ${d.path.join('/')}: ${d.message}`)
    expect(unexpected).toEqual([])
    expect(document).toBeDefined()
    // The parsed model sees one send operation per event type, an HTTP POST of its message.
    const ops = document?.operations().all() ?? []
    expect(ops.map((o) => o.messages().all()[0]?.name()).sort()).toEqual(eventTypes.map((t) => t.name).sort())
    for (const op of ops) {
      expect(op.action()).toBe('send')
      expect(op.bindings().get('http')?.value()).toMatchObject({ method: 'POST' })
    }
  })

  it('lists every catalogue event type in both documents, with the identical schema and example', () => {
    const names = eventTypes.map((t) => t.name)
    expect(Object.keys(asyncapi.doc.channels)).toEqual(names)
    expect(Object.keys(openapi.webhooks)).toEqual(names)
    for (const type of eventTypes) {
      const message = asyncapi.doc.channels[type.name].messages[type.name]
      expect(message.payload, type.name).toEqual(type.schema)
      expect(message.examples[0].payload, type.name).toEqual(type.example)
      const body = openapi.webhooks[type.name].post.requestBody.content['application/json']
      expect(body.schema, type.name).toEqual(type.schema)
      expect(body.examples.example.value, type.name).toEqual(type.example)
    }
  })

  it('describes the same delivery headers in both, once each', () => {
    const headers = asyncapi.doc.components.schemas.DeliveryHeaders
    const contract = [
      'Content-Type',
      'User-Agent',
      'X-Delivery-Hmac-SHA256',
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
      'X-Delivery-Event',
      'X-Delivery-Attempt',
    ]
    expect(headers.required).toEqual(contract)
    // @asyncapi/parser does not check examples against their schemas: each message's example
    // headers are checked here (its payload is the catalogue's example, checked by its own tests).
    const validHeaders = new Ajv2020({ strict: false }).compile(headers)
    for (const type of eventTypes) {
      const example = asyncapi.doc.channels[type.name].messages[type.name].examples[0].headers
      expect(validHeaders(example), JSON.stringify(validHeaders.errors)).toBe(true)
      expect(example['X-Delivery-Event']).toBe(type.name)
    }
    expect(Object.keys(headers.properties)).toEqual([...contract, 'traceparent'])
    for (const type of eventTypes) {
      expect(asyncapi.doc.channels[type.name].messages[type.name].headers).toEqual({
        $ref: '#/components/schemas/DeliveryHeaders',
      })
      // OpenAPI takes Content-Type from the body's media type; every other header is a parameter.
      const params = openapi.webhooks[type.name].post.parameters.map(
        (p: { $ref: string }) => openapi.components.parameters[p.$ref.split('/').pop() as string],
      )
      expect(params.map((p: Json) => p.name)).toEqual(Object.keys(headers.properties).slice(1))
      for (const p of params) {
        expect({ ...p.schema, description: p.description }).toEqual(headers.properties[p.name])
      }
    }
  })
})
