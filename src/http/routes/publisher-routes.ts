// Publisher API (contract sections 5 and 10). The body is read as raw bytes (never re-serialized)
// so that what is stored, signed and sent is exactly what was received.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Hookpost } from '../../hookpost.ts'
import { AppError } from '../../shared/errors.ts'
import type { PublishResult } from '../../store/store.ts'
import { credentialGuard, envOf } from '../auth.ts'
import { ErrorOut, PublishBatchIn, PublishedBatchOut, PublishedOut } from '../schemas.ts'

export interface PublisherRoutesOptions {
  hookpost: Hookpost
  bodyLimit: number
  batchBodyLimit: number
}

/** The statuses both publish routes refuse with. */
const refusals = {
  400: ErrorOut,
  401: ErrorOut,
  403: ErrorOut,
  409: ErrorOut,
  413: ErrorOut,
  415: ErrorOut,
  422: ErrorOut,
}

const published = (r: PublishResult) => ({ id: r.eventId, eventName: r.eventName, deliveries: r.deliveries })

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
          'The body is stored and later delivered byte-for-byte. Optional header Idempotency-Key: the same key within 24 h with the same body bytes returns the first event and creates nothing; with other bytes it answers 409 idempotency_key_reused.',
        security: [{ basicAuth: [] }],
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String()),
          traceparent: Type.Optional(
            Type.String({
              description:
                'W3C Trace Context: kept with the event and sent on every delivery attempt with the same trace id. An invalid value is ignored, as the W3C asks.',
            }),
          ),
          'x-ordering-key': Type.Optional(
            Type.String({
              description: 'Events that share a key reach ordered subscriptions one at a time, in order.',
            }),
          ),
        }),
        response: { 202: PublishedOut, ...refusals },
      },
    },
    async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) throw new AppError('invalid_json', { message: 'The body is empty.' })
      const r = await hookpost.publisher.publish(envOf(req), req.body, {
        idempotencyKey: req.headers['idempotency-key'],
        orderingKey: req.headers['x-ordering-key'],
        traceparent: req.headers.traceparent,
      })
      return reply.status(202).send({ event: published(r) })
    },
  )

  app.post(
    '/events/batch',
    {
      bodyLimit: opts.batchBodyLimit,
      // The body stays bytes for the core to slice; the schema below documents it (OpenAPI).
      validatorCompiler: () => () => true,
      schema: {
        operationId: 'publishEventBatch',
        tags: ['events'],
        summary:
          'Publish up to 1000 events in one request and one commit; 202 once all are durably committed',
        description:
          'Each payload is stored and delivered as its exact bytes in this request. Any invalid item: nothing is created, and error.details names each one as /events/<index>/.... An item whose idempotencyKey was used within 24 h answers the first event and creates nothing; the same key with another payload fails the batch with 409 idempotency_key_reused.',
        security: [{ basicAuth: [] }],
        body: PublishBatchIn,
        response: { 202: PublishedBatchOut, ...refusals },
      },
    },
    async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) throw new AppError('invalid_json', { message: 'The body is empty.' })
      const rs = await hookpost.publisher.publishBatch(envOf(req), req.body, {
        maxPayloadBytes: opts.bodyLimit,
      })
      return reply.status(202).send({ events: rs.map(published) })
    },
  )
}
