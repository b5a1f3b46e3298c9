// Hono (Node, Bun, Deno, Cloudflare Workers): read the body once as bytes with
// c.req.arrayBuffer() and verify before anything parses it. Never call c.req.json() first.
//
// In your app: import { … } from '@hookpost/verify'
// On Node, serve it with @hono/node-server: serve({ fetch: app.fetch, port: 3000 })
import { Hono } from 'hono'
import { isWebhookVerificationError, verifyWebhookDetailed } from '../src/index.js'

export interface RecipeOptions {
  secret: string
  onEvent: (payload: unknown, deliveryId: string | null) => void | Promise<void>
}

export function createHonoApp({ secret, onEvent }: RecipeOptions): Hono {
  const app = new Hono()
  const seen = new Set<string>() // on Workers use KV/D1/Durable Objects with a TTL of days

  app.post('/webhooks/hookpost', async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer())
    try {
      const { payload, id } = await verifyWebhookDetailed(body, c.req.raw.headers, secret)
      if (id !== null && seen.has(id)) return c.json({ duplicate: true }, 200)
      await onEvent(payload, id)
      if (id !== null) seen.add(id)
      return c.json({ received: true }, 200)
    } catch (err) {
      if (isWebhookVerificationError(err)) return c.json({ error: err.code }, 400)
      throw err
    }
  })

  return app
}
