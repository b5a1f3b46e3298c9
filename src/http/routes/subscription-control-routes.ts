// Consumer routes that steer one subscription beyond BaseKit's CRUD: pause and resume, endpoint
// verification (contract sections 12 and 13), and trying a filter on a payload.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Hookpost } from '../../hookpost.ts'
import { credentialGuard, envOf } from '../auth.ts'
import { presentSubscription } from '../presenters.ts'
import { ErrorOut, SubscriptionOut } from '../schemas.ts'

const security = [{ basicAuth: [] }]
const errors = { 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut }
const SubscriptionParams = Type.Object({ subscriptionId: Type.String({ maxLength: 100 }) })
const Answer = Type.Object({ subscription: SubscriptionOut })

export const subscriptionControlRoutes: FastifyPluginAsyncTypebox<{ hookpost: Hookpost }> = async (
  app,
  { hookpost },
) => {
  app.addHook('onRequest', credentialGuard(hookpost.environments, 'consumer'))
  const subs = hookpost.subscriptions

  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.post(
      `/webhooks/subscription/:subscriptionId/${action}`,
      {
        schema: {
          tags: ['subscriptions'],
          operationId: `${action}Subscription`,
          summary: paused
            ? 'Pause: deliveries are still created and kept pending, none is sent (same as PUT with "paused": true)'
            : 'Resume: the deliveries kept while paused go out, oldest first (same as PUT with "paused": false)',
          security,
          params: SubscriptionParams,
          response: { 200: Answer, ...errors },
        },
      },
      async (req) => ({
        subscription: presentSubscription(
          await subs.setPaused(envOf(req), req.params.subscriptionId, paused),
        ),
      }),
    )
  }

  app.post(
    '/webhooks/subscription/:subscriptionId/verify',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'verifySubscription',
        summary: 'Send the endpoint a new verification challenge',
        description:
          'The subscription becomes `verification: "pending"` and gets nothing sent until its endpoint answers a signed `{"type": "webhook.verification", "challenge": "…"}` POST with 2xx and the challenge (bare, or as `{"challenge": "…"}`); deliveries created meanwhile wait and then go out oldest first. See docs/security.md.',
        security,
        params: SubscriptionParams,
        response: { 202: Answer, ...errors },
      },
    },
    async (req, reply) =>
      reply.status(202).send({
        subscription: presentSubscription(await subs.verify(envOf(req), req.params.subscriptionId)),
      }),
  )

  app.post(
    '/webhooks/filter/test',
    {
      schema: {
        tags: ['subscriptions'],
        operationId: 'testFilter',
        summary: 'Whether a subscription filter matches a payload (sends nothing)',
        security,
        body: Type.Object(
          {
            filter: Type.Unknown({ description: 'a subscription filter (docs/subscriptions.md), or null' }),
            payload: Type.Unknown(),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ matches: Type.Boolean() }), ...errors },
      },
    },
    async (req) => subs.testFilter(req.body.filter, req.body.payload),
  )
}
