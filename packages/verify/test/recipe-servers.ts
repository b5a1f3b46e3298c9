// The framework recipes of examples/, each started on 127.0.0.1:0 with a secret, recording the
// events it accepted. Shared by the recipe tests and the live test against a running Hookpost.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createExpressApp } from '../examples/express.js'
import { createFastifyApp } from '../examples/fastify.js'
import { createHonoApp } from '../examples/hono.js'
import { POST } from '../examples/next-route.js'
import { createNodeServer } from '../examples/node-http.js'

type FetchHandler = (req: Request) => Response | Promise<Response>

/** A minimal node:http adapter for fetch-style handlers (what @hono/node-server or Next do). */
export function serveFetch(handler: FetchHandler): Server {
  return createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value)
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(hasBody ? { body: Buffer.concat(chunks) } : {}),
    })
    const response = await handler(request)
    res.writeHead(response.status, Object.fromEntries(response.headers))
    res.end(Buffer.from(await response.arrayBuffer()))
  })
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

export interface Running {
  url: string
  events: Array<{ payload: unknown; id: string | null }>
  stop: () => Promise<void>
}

export interface Recipe {
  name: string
  start: (secret: string) => Promise<Running>
}

function recordingOptions(secret: string) {
  const events: Running['events'] = []
  return {
    events,
    options: { secret, onEvent: (payload: unknown, id: string | null) => void events.push({ payload, id }) },
  }
}

export const recipes: Recipe[] = [
  {
    name: 'Express',
    async start(secret) {
      const { events, options } = recordingOptions(secret)
      const server = createServer(createExpressApp(options))
      return { url: await listen(server), events, stop: () => close(server) }
    },
  },
  {
    name: 'Fastify',
    async start(secret) {
      const { events, options } = recordingOptions(secret)
      const app = createFastifyApp(options)
      const url = await app.listen({ host: '127.0.0.1', port: 0 })
      return { url, events, stop: () => app.close() }
    },
  },
  {
    name: 'Hono',
    async start(secret) {
      const { events, options } = recordingOptions(secret)
      const server = serveFetch(createHonoApp(options).fetch)
      return { url: await listen(server), events, stop: () => close(server) }
    },
  },
  {
    name: 'Next.js route handler',
    async start(secret) {
      process.env['HOOKPOST_WEBHOOK_SECRET'] = secret
      const events: Running['events'] = []
      const server = serveFetch(async (req) => {
        const res = await POST(req)
        const answer = (await res.clone().json()) as { received?: boolean; id?: string }
        if (answer.received) events.push({ payload: null, id: answer.id ?? null })
        return res
      })
      return {
        url: await listen(server),
        events,
        stop: async () => {
          delete process.env['HOOKPOST_WEBHOOK_SECRET']
          await close(server)
        },
      }
    },
  },
  {
    name: 'node:http',
    async start(secret) {
      const { events, options } = recordingOptions(secret)
      const server = createNodeServer(options)
      return { url: await listen(server), events, stop: () => close(server) }
    },
  },
]
