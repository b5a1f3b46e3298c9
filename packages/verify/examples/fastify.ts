// Fastify 5: keep the body as a Buffer for the webhook route only. An encapsulated plugin
// replaces the JSON parser with one that hands over the raw bytes; the rest of the app keeps
// Fastify's JSON parser.
//
// In your app: import { … } from '@hookpost/verify'
import Fastify, { type FastifyInstance } from 'fastify'
import { isWebhookVerificationError, verifyWebhookDetailed } from '../src/index.js'

export interface RecipeOptions {
  secret: string
  onEvent: (payload: unknown, deliveryId: string | null) => void | Promise<void>
}

export function createFastifyApp({ secret, onEvent }: RecipeOptions): FastifyInstance {
  const app = Fastify()
  const seen = new Set<string>() // use a shared store with a TTL of days in production

  // The webhook route lives in its own plugin, so the raw-body parser applies to it alone.
  function webhookRoutes(webhooks: FastifyInstance, _options: unknown, done: () => void): void {
    webhooks.removeContentTypeParser('application/json')
    webhooks.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
      done(null, body)
    })

    webhooks.post<{ Body: Buffer }>('/webhooks/hookpost', async (request, reply) => {
      try {
        const { payload, id } = await verifyWebhookDetailed(request.body, request.headers, secret)
        if (id !== null && seen.has(id)) return reply.code(200).send({ duplicate: true })
        await onEvent(payload, id)
        if (id !== null) seen.add(id)
        return reply.code(200).send({ received: true })
      } catch (err) {
        if (isWebhookVerificationError(err)) return reply.code(400).send({ error: err.code })
        throw err
      }
    })
    done()
  }

  app.register(webhookRoutes)

  return app
}
