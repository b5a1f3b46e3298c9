// Builds the HTTP API as an object (tests drive it with inject; main.ts listens). Transports
// call the core's use cases only. The dashboard is added by src/web-app.ts (`more`): the API
// and the dashboard do not import each other.
import swagger, { type OpenAPIV3_2 } from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { asyncApiDocument, deliveryHeaderParameters, openApiWebhooks } from '../events/catalogue-docs.ts'
import { parseJsonBody } from '../events/json-body.ts'
import type { Hookpost } from '../hookpost.ts'
import { bearerMatches } from '../observability/metrics.ts'
import { requestIdFrom, requestIdHeader } from '../observability/request-id.ts'
import type { RelayHub } from '../relay/relay-hub.ts'
import { AppError } from '../shared/errors.ts'
import { auditTrail } from './audit-trail.ts'
import { capConnectionsPerAddress } from './connection-cap.ts'
import { handleError, sendError } from './error-response.ts'
import { type RateLimitOptions, rateLimitHook } from './rate-limit.ts'
import {
  boundedDrain,
  clientErrorHandler,
  defaultDrainLimitBytes,
  maxHeaderSize,
  maxHeadersCount,
  receiveTimeoutOptions,
  urlLengthGuard,
} from './request-limits.ts'
import { adminRoutes } from './routes/admin-routes.ts'
import { consumerRoutes } from './routes/consumer-routes.ts'
import { feedRoutes } from './routes/feed-routes.ts'
import { portalRoutes } from './routes/portal-routes.ts'
import { publisherRoutes } from './routes/publisher-routes.ts'
import { relayRoutes } from './routes/relay-routes.ts'
import { subscriptionControlRoutes } from './routes/subscription-control-routes.ts'
import { transformationRoutes } from './routes/transformation-routes.ts'
import { ErrorOut } from './schemas.ts'

export interface AppDeps {
  hookpost: Hookpost
  adminToken: string
  version: string
  eventBodyLimit: number
  /** Body of POST /events/batch; 10 MiB when absent. */
  batchBodyLimit?: number
  logger?: FastifyBaseLogger
  /** Token buckets per credential and per environment (per node); none when absent. */
  rateLimit?: RateLimitOptions
  /** GET /metrics (Prometheus text); behind `Authorization: Bearer <token>` when token is set. */
  metrics?: { contentType: string; render(): Promise<string>; token?: string | undefined }
  /** The development relay of `hookpost listen` (/relay/*); absent: no relay routes. */
  relay?: { hub: RelayHub; publicOrigin: () => string }
  /** Connection limits (docs/security.md, request limits); the defaults below when absent. */
  connections?: Partial<ConnectionLimits>
  /** More routes under the API's hooks and error handler (the dashboard, from src/web-app.ts). */
  more?: (app: FastifyInstance) => Promise<void>
}

// The catalogue's documents are plain JSON built in the core (no OpenAPI types there): typed here.
type Components = NonNullable<OpenAPIV3_2.Document['components']>

export interface ConnectionLimits {
  /** Time a client has to send a whole request: HOOKPOST_RECEIVE_TIMEOUT. */
  receiveTimeoutMs: number
  /** Connections open at once from one address: HOOKPOST_MAX_CONNECTIONS_PER_ADDRESS. */
  maxPerAddress: number
  /** Body read and dropped after an early answer before the connection is closed. */
  drainLimitBytes: number
}

export const defaultConnectionLimits: ConnectionLimits = {
  receiveTimeoutMs: 30_000,
  maxPerAddress: 512,
  drainLimitBytes: defaultDrainLimitBytes,
}

/** Bodies of every route but POST /events (which has its own limit). */
export const apiBodyLimit = 64 * 1024

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const limits = { ...defaultConnectionLimits, ...deps.connections }
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: apiBodyLimit,
    routerOptions: { maxParamLength: 200 },
    requestTimeout: limits.receiveTimeoutMs,
    http: { maxHeaderSize, ...receiveTimeoutOptions(limits.receiveTimeoutMs) },
    clientErrorHandler,
    // Errors raised while routing (bad %-encoding, an over-long id) in the API's error shape.
    frameworkErrors: (err, req, reply) =>
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? sendError(
            reply,
            new AppError('url_too_long', { message: 'A path segment is longer than 200 characters.' }),
          )
        : handleError(err, req, reply),
    return503OnClosing: true,
    // No type coercion: `{"name": 5}` is a 400, not the string "5".
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    genReqId: (req) => requestIdFrom(req.headers[requestIdHeader]),
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.server.maxHeadersCount = maxHeadersCount
  capConnectionsPerAddress(app.server, limits.maxPerAddress)
  app.setErrorHandler(handleError)
  // Root hooks reach every route: limits first, the rate limit once authentication has run
  // (preParsing follows the routes' onRequest guards), the audit trail on the way out.
  app.addHook('onRequest', async (req, reply) => {
    reply.header(requestIdHeader, req.id)
  })
  app.addHook('onRequest', urlLengthGuard)
  if (deps.rateLimit) app.addHook('preParsing', rateLimitHook(deps.rateLimit))
  app.addHook('onSend', auditTrail(deps.hookpost.audit))
  app.addHook('onSend', boundedDrain(limits.drainLimitBytes))
  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      new AppError('route_not_found', { message: `No route ${req.method} ${req.url.split('?')[0]}` }),
    ),
  )

  // JSON for every route but /events: strict UTF-8, bounded depth; an empty body is no body.
  app.removeAllContentTypeParsers()
  const parseJson = (
    _r: unknown,
    body: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    try {
      done(null, body.length === 0 ? undefined : parseJsonBody(body as Buffer))
    } catch (e) {
      done(e as Error, undefined)
    }
  }
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJson)
  app.addContentTypeParser(/^application\/[\w.+-]*\+json$/, { parseAs: 'buffer' }, parseJson)
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, body, done) => {
    // Bodiless POSTs (e.g. /webhooks/hmac-secret) often carry a default content type.
    if ((body as Buffer).length === 0) done(null, undefined)
    else done(new AppError('unsupported_media_type'), undefined)
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Hookpost',
        version: deps.version,
        description:
          'Webhook delivery service with a BaseKit-compatible consumer API. Deliveries are signed with X-Delivery-Hmac-SHA256 and Standard Webhooks headers.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      // Relative: the document describes the instance that serves it, whatever its address.
      servers: [{ url: '/', description: 'this Hookpost instance' }],
      components: {
        securitySchemes: {
          basicAuth: {
            type: 'http',
            scheme: 'basic',
            description: 'username = credential key, password = credential secret',
          },
          adminToken: { type: 'http', scheme: 'bearer', description: 'HOOKPOST_ADMIN_TOKEN' },
        },
        parameters: deliveryHeaderParameters() as Components['parameters'],
      },
      // The requests Hookpost sends to subscribers, from the catalogue that /asyncapi.json describes.
      webhooks: openApiWebhooks(deps.hookpost.eventTypes) as OpenAPIV3_2.Document['webhooks'],
    },
  })

  app.get(
    '/health',
    {
      schema: {
        tags: ['service'],
        operationId: 'getHealth',
        summary: 'Liveness: the process is up and serving',
        description: 'Always 200 while the process serves; whether it can take writes is GET /health/ready.',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  )
  let unready: string | undefined
  app.get(
    '/health/ready',
    {
      schema: {
        tags: ['service'],
        operationId: 'getReadiness',
        summary: 'Readiness: the store takes writes',
        description:
          '503 store_unavailable (with Retry-After) while the store cannot write (disk full, read-only, unreachable), from the first failed write until a write succeeds again; the store is probed with a write at most once a second.',
        security: [],
        response: { 200: Type.Object({ status: Type.Literal('ready') }), 503: ErrorOut },
      },
    },
    async (req) => {
      const r = await deps.hookpost.readiness()
      if (r.ready) {
        if (unready !== undefined) req.log.info('the store takes writes again: ready')
        unready = undefined
        return { status: 'ready' as const }
      }
      // The reason (a driver's code) is for the server log; the answer says only "unavailable".
      if (unready !== r.reason) {
        req.log.warn(
          { reason: r.reason, since: new Date(r.since).toISOString() },
          'the store cannot write: not ready',
        )
      }
      unready = r.reason
      throw new AppError('store_unavailable')
    },
  )
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
  const asyncapi = asyncApiDocument(deps.hookpost.eventTypes, deps.version)
  app.get(
    '/asyncapi.json',
    {
      schema: {
        tags: ['service'],
        operationId: 'getAsyncApi',
        summary: 'The event catalogue as an AsyncAPI 3.0 document',
        description:
          'One channel, message and send operation per event type: its JSON Schema as the payload, the delivery headers, the HTTP POST to the subscription URL. The same event types are the `webhooks` of /openapi.json.',
        security: [],
        response: {
          200: Type.Object({ asyncapi: Type.Literal('3.0.0') }, { additionalProperties: true }),
        },
      },
    },
    // Built once: the catalogue does not change while the process runs.
    async () => asyncapi,
  )
  const metrics = deps.metrics
  if (metrics) {
    app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
      if (metrics.token && !bearerMatches(req.headers.authorization, metrics.token)) {
        return reply
          .status(401)
          .header('www-authenticate', 'Bearer realm="hookpost metrics"')
          .send({ error: { code: 'unauthorized', message: 'A metrics bearer token is required.' } })
      }
      return reply.type(metrics.contentType).send(await metrics.render())
    })
  }

  await app.register(adminRoutes, { hookpost: deps.hookpost, adminToken: deps.adminToken })
  await app.register(portalRoutes, { hookpost: deps.hookpost, adminToken: deps.adminToken })
  await app.register(consumerRoutes, { hookpost: deps.hookpost })
  await app.register(subscriptionControlRoutes, { hookpost: deps.hookpost })
  await app.register(feedRoutes, { hookpost: deps.hookpost })
  // A payload as big as an event's, with code beside it.
  await app.register(transformationRoutes, {
    hookpost: deps.hookpost,
    bodyLimit: deps.eventBodyLimit + apiBodyLimit,
  })
  await app.register(publisherRoutes, {
    hookpost: deps.hookpost,
    bodyLimit: deps.eventBodyLimit,
    batchBodyLimit: deps.batchBodyLimit ?? 10 * 1024 * 1024,
  })
  await deps.more?.(app)
  if (deps.relay) {
    await app.register(relayRoutes, {
      hookpost: deps.hookpost,
      hub: deps.relay.hub,
      publicOrigin: deps.relay.publicOrigin,
      bodyLimit: deps.eventBodyLimit,
    })
  }
  return app
}
