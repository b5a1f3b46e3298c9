// Publisher API (contract section 5). The body is read as raw bytes (never re-serialized) so
// that what is stored, signed and sent is exactly what was received.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Hookpost } from '../../hookpost.ts'
import { AppError } from '../../shared/errors.ts'
import { credentialGuard, envOf } from '../auth.ts'
import { ErrorOut, PublishedOut } from '../schemas.ts'

export interface PublisherRoutesOptions {
  hookpost: Hookpost
  bodyLimit: number
}

export const publisherRoutes: FastifyPluginAsyncTypebox<PublisherRoutesOptions> = async (app, opts) => {
  const { hookpost } = opts
  // Encapsulated: only this plugin's routes get the raw-bytes parser.
  app.removeAllContentTypeParsers()
  const keepBytes = (
    _req: unknown,
    body: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ) => done(null, body)
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: opts.bodyLimit }, keepBytes)
  app.addContentTypeParser(
    /^application\/[\w.+-]*\+json$/,
    { parseAs: 'buffer', bodyLimit: opts.bodyLimit },
    keepBytes,
  )
  app.addContentTypeParser('*', (_req, _payload, done) =>
    done(new AppError('unsupported_media_type'), undefined),
  )
  app.addHook('onRequest', credentialGuard(hookpost.environments, 'publisher'))

  app.post(
    '/events',
    {
      bodyLimit: opts.bodyLimit,
      schema: {
        tags: ['events'],
        operationId: 'publishEvent',
        summary: 'Publish an event: the JSON payload itself, with its eventName; 202 once durably committed',
        description:
          'The body is stored and later delivered byte-for-byte. Optional header Idempotency-Key: the same key within 24 h returns the first event and creates nothing.',
        security: [{ basicAuth: [] }],
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String()),
          'x-ordering-key': Type.Optional(
            Type.String({
              description: 'Events that share a key reach ordered subscriptions one at a time, in order.',
            }),
          ),
        }),
        response: {
          202: PublishedOut,
          400: ErrorOut,
          401: ErrorOut,
          403: ErrorOut,
          413: ErrorOut,
          415: ErrorOut,
          422: ErrorOut,
        },
      },
    },
    async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) throw new AppError('invalid_json', { message: 'The body is empty.' })
      const r = await hookpost.publisher.publish(envOf(req), req.body, {
        idempotencyKey: req.headers['idempotency-key'],
        orderingKey: req.headers['x-ordering-key'],
      })
      return reply
        .status(202)
        .send({ event: { id: r.eventId, eventName: r.eventName, deliveries: r.deliveries } })
    },
  )
}
