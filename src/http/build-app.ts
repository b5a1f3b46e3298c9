// Builds the HTTP app as an object (tests drive it with inject; main.ts listens). Transports
// call the core's use cases only.
import swagger from '@fastify/swagger'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { parseJsonBody } from '../events/json-body.ts'
import type { Hookpost } from '../hookpost.ts'
import { AppError } from '../shared/errors.ts'
import { handleError, sendError } from './error-response.ts'
import { adminRoutes } from './routes/admin-routes.ts'
import { consumerRoutes } from './routes/consumer-routes.ts'
import { publisherRoutes } from './routes/publisher-routes.ts'
import { ErrorOut } from './schemas.ts'

export interface AppDeps {
  hookpost: Hookpost
  adminToken: string
  version: string
  eventBodyLimit: number
  logger?: FastifyBaseLogger
  /** Readiness beyond "the process is up", e.g. the store answers. */
  ready?: () => Promise<boolean>
}

/** Bodies of every route but POST /events (which has its own limit). */
export const apiBodyLimit = 64 * 1024

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: apiBodyLimit,
    routerOptions: { maxParamLength: 200 },
    requestTimeout: 30_000,
    return503OnClosing: true,
    // No type coercion: `{"name": 5}` is a 400, not the string "5".
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    genReqId: () => `req_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.setErrorHandler(handleError)
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
      },
      components: {
        securitySchemes: {
          basicAuth: {
            type: 'http',
            scheme: 'basic',
            description: 'username = credential key, password = credential secret',
          },
          adminToken: { type: 'http', scheme: 'bearer', description: 'HOOKPOST_ADMIN_TOKEN' },
        },
      },
    },
  })

  app.get(
    '/health',
    {
      schema: {
        tags: ['service'],
        summary: 'Liveness and readiness',
        response: { 200: Type.Object({ status: Type.Literal('ok') }), 503: ErrorOut },
      },
    },
    async () => {
      if (deps.ready && !(await deps.ready())) throw new AppError('store_unavailable')
      return { status: 'ok' as const }
    },
  )
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())

  await app.register(adminRoutes, { hookpost: deps.hookpost, adminToken: deps.adminToken })
  await app.register(consumerRoutes, { hookpost: deps.hookpost })
  await app.register(publisherRoutes, { hookpost: deps.hookpost, bodyLimit: deps.eventBodyLimit })
  return app
}
