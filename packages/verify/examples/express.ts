// Express 5: verify on the raw body. The webhook route gets express.raw() so req.body is the
// exact bytes (a Buffer); JSON parsing for the rest of the app is mounted *after* it, so it
// never sees the webhook route's body first.
//
// In your app: import { … } from '@hookpost/verify'
import express, { type Express } from 'express'
import { isWebhookVerificationError, verifyWebhookDetailed } from '../src/index.js'

export interface RecipeOptions {
  /** The whsec_… secret from POST /webhooks/hmac-secret (keep it in your secret store). */
  secret: string
  /** Your handler; runs once per delivery id. */
  onEvent: (payload: unknown, deliveryId: string | null) => void | Promise<void>
}

export function createExpressApp({ secret, onEvent }: RecipeOptions): Express {
  const app = express()
  // Replace with a shared store (Redis SET NX with a TTL, a unique index…) kept longer than the
  // retry horizon (days): retries reuse the same webhook-id.
  const seen = new Set<string>()

  app.post(
    '/webhooks/hookpost',
    express.raw({ type: 'application/json', limit: '1mb' }),
    async (req, res) => {
      try {
        const { payload, id } = await verifyWebhookDetailed(req.body, req.headers, secret)
        if (id !== null && seen.has(id)) {
          res.status(200).json({ duplicate: true })
          return
        }
        await onEvent(payload, id)
        if (id !== null) seen.add(id)
        res.status(200).json({ received: true })
      } catch (err) {
        if (isWebhookVerificationError(err)) {
          res.status(400).json({ error: err.code })
          return
        }
        throw err // Express 5 passes a rejected handler to the error middleware
      }
    },
  )

  app.use(express.json()) // the rest of the app may parse JSON as usual
  return app
}
