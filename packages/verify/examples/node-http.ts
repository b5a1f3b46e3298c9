// Plain node:http: collect the chunks into one Buffer and verify that.
//
// In your app: import { … } from '@hookpost/verify'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isWebhookVerificationError, verifyWebhookDetailed } from '../src/index.js'

export interface RecipeOptions {
  secret: string
  onEvent: (payload: unknown, deliveryId: string | null) => void | Promise<void>
}

const maxBody = 1024 * 1024

/** The raw body as one Buffer, or null when it is larger than maxBody. */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBody) return null
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

export function createNodeServer({ secret, onEvent }: RecipeOptions): Server {
  const seen = new Set<string>() // use a shared store with a TTL of days in production

  function reply(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  return createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/webhooks/hookpost')
      return reply(res, 404, { error: 'not found' })
    void (async () => {
      try {
        const body = await readBody(req)
        if (body === null) return reply(res, 413, { error: 'body too large' })
        const { payload, id } = await verifyWebhookDetailed(body, req.headers, secret)
        if (id !== null && seen.has(id)) return reply(res, 200, { duplicate: true })
        await onEvent(payload, id)
        if (id !== null) seen.add(id)
        reply(res, 200, { received: true })
      } catch (err) {
        if (isWebhookVerificationError(err)) return reply(res, 400, { error: err.code })
        reply(res, 500, { error: 'internal error' })
      }
    })()
  })
}
