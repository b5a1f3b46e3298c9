// GET /webhooks/feed (contract section 14): the consumer's catch-up feed, with long-poll. Each
// event's payload is spliced into the answer as its stored bytes, never re-serialised.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { maxFeedLimit, maxFeedWaitSeconds } from '../../events/feed.ts'
import type { Hookpost } from '../../hookpost.ts'
import type { FeedEventRow } from '../../store/store.ts'
import { credentialGuard, envOf } from '../auth.ts'
import { iso } from '../presenters.ts'
import { ErrorOut } from '../schemas.ts'

const FeedQuery = Type.Object({
  event: Type.Optional(Type.String({ maxLength: 100, description: 'Only events of this type' })),
  after: Type.Optional(
    Type.String({
      maxLength: 200,
      description: 'A nextCursor from an earlier answer; absent: the oldest kept',
    }),
  ),
  limit: Type.Optional(
    Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: `1 to ${maxFeedLimit} (default 100)` }),
  ),
  wait: Type.Optional(
    Type.String({
      pattern: '^(?:[0-9]|[12][0-9]|30)(?:\\.[0-9]{1,3})?$',
      description: `Seconds to hold the request until an event arrives (0 to ${maxFeedWaitSeconds}, default 0)`,
    }),
  ),
})

const FeedOut = Type.Object({
  events: Type.Array(
    Type.Object({
      id: Type.String(),
      eventName: Type.String(),
      created: Type.String({ format: 'date-time' }),
      payload: Type.Record(Type.String(), Type.Unknown(), { description: 'The event as published' }),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as `after` to read on; the same cursor again when nothing came',
  }),
})

const utf8Bom = Buffer.from([0xef, 0xbb, 0xbf])

/** The answer's bytes: each payload as stored (a leading BOM, fine alone, is left out here). */
function feedBody(events: readonly FeedEventRow[], nextCursor: string | null): Buffer {
  const parts: Buffer[] = [Buffer.from('{"events":[')]
  for (const [k, e] of events.entries()) {
    const head = { id: e.id, eventName: e.eventName, created: iso(e.created) }
    parts.push(Buffer.from(`${k > 0 ? ',' : ''}${JSON.stringify(head).slice(0, -1)},"payload":`))
    parts.push(e.body.subarray(0, 3).equals(utf8Bom) ? e.body.subarray(3) : e.body, Buffer.from('}'))
  }
  parts.push(Buffer.from(`],"nextCursor":${JSON.stringify(nextCursor)}}`))
  return Buffer.concat(parts)
}

export const feedRoutes: FastifyPluginAsyncTypebox<{ hookpost: Hookpost }> = async (app, { hookpost }) => {
  app.addHook('onRequest', credentialGuard(hookpost.environments, 'consumer'))
  app.get(
    '/webhooks/feed',
    {
      schema: {
        tags: ['events'],
        operationId: 'readEventFeed',
        summary: "The environment's events in commit order, after a cursor; optionally waits for the next",
        description: `Events are kept per HOOKPOST_RETENTION. With wait, the request is held until an event arrives or the time passes (at most ${maxFeedWaitSeconds} s); an empty answer keeps the cursor. Each payload is the event's JSON exactly as published.`,
        security: [{ basicAuth: [] }],
        querystring: FeedQuery,
        response: { 200: FeedOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut },
      },
    },
    async (req, reply) => {
      const gone = new AbortController()
      const onClose = () => gone.abort()
      reply.raw.once('close', onClose)
      try {
        const { event, after, limit, wait } = req.query
        const page = await hookpost.feed.read(envOf(req), {
          event,
          after,
          limit: limit === undefined ? undefined : Number(limit),
          wait: wait === undefined ? undefined : Number(wait),
          signal: gone.signal,
        })
        // Bytes skip the response serializer (the schema above documents the shape).
        return reply
          .type('application/json; charset=utf-8')
          .send(feedBody(page.events, page.nextCursor) as never)
      } finally {
        reply.raw.off('close', onClose)
      }
    },
  )
}
