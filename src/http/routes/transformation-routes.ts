// POST /webhooks/subscription/{id}/transformation/test (contract section 12): runs a
// subscription's transformation (or code not saved yet) on a payload and answers what a
// delivery would send. Nothing is sent and nothing is stored.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Hookpost } from '../../hookpost.ts'
import { credentialGuard, envOf } from '../auth.ts'
import { ErrorOut, TransformationTestIn, TransformationTestOut } from '../schemas.ts'

export const transformationRoutes: FastifyPluginAsyncTypebox<{
  hookpost: Hookpost
  bodyLimit: number
}> = async (app, { hookpost, bodyLimit }) => {
  app.addHook('onRequest', credentialGuard(hookpost.environments, 'consumer'))

  app.post(
    '/webhooks/subscription/:subscriptionId/transformation/test',
    {
      bodyLimit,
      schema: {
        tags: ['subscriptions'],
        operationId: 'testTransformation',
        summary: "Run the subscription's transformation (or the code given) on a payload; nothing is sent",
        description:
          "Answers 200 with what a delivery would do: result { eventName, payload, url, headers }, result { cancel: true }, or error { code: transformation_error, message } (a delivery would fail with that message). The payload defaults to the event type's example; the URL rules of the sending policy and the header rules apply as for a delivery.",
        security: [{ basicAuth: [] }],
        params: Type.Object({ subscriptionId: Type.String({ maxLength: 100 }) }),
        body: TransformationTestIn,
        response: {
          200: TransformationTestOut,
          400: ErrorOut,
          401: ErrorOut,
          403: ErrorOut,
          404: ErrorOut,
          413: ErrorOut,
        },
      },
    },
    async (req) => {
      const r = await hookpost.transformations.run(envOf(req), req.params.subscriptionId, req.body ?? {})
      if (r.kind === 'send') return { result: r.webhook }
      if (r.kind === 'cancel') return { result: { cancel: true as const } }
      return { error: { code: 'transformation_error' as const, message: r.message } }
    },
  )
}
