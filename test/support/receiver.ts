// A webhook receiver on loopback whose answers a test can steer: records each request's raw
// bytes and headers exactly as they arrived.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: Buffer
  at: number
}

export type Responder = (r: Received) => {
  status: number
  headers?: Record<string, string>
  body?: string
  delayMs?: number
}

export class TestReceiver {
  readonly received: Received[] = []
  respond: Responder = () => ({ status: 200, body: 'ok' })
  #server: Server | undefined
  url = ''

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const r: Received = {
          path: req.url ?? '/',
          headers: req.headers,
          body: Buffer.concat(chunks),
          at: Date.now(),
        }
        this.received.push(r)
        const a = this.respond(r)
        const send = () => {
          if (res.destroyed) return
          res.writeHead(a.status, a.headers ?? {})
          res.end(a.body ?? '')
        }
        if (a.delayMs) setTimeout(send, a.delayMs).unref()
        else send()
      })
    })
    this.#server.keepAliveTimeout = 60_000
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
    return this
  }

  async stop(): Promise<void> {
    const s = this.#server
    if (!s) return
    s.closeAllConnections()
    await new Promise<void>((r) => s.close(() => r()))
  }
}
