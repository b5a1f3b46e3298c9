// Real peers on loopback for endpoint authentication tests: an OAuth2 token server, an https
// receiver (optionally requiring a client certificate), and an HTTP proxy (CONNECT and
// absolute-form) that records what it was asked for.
import { randomBytes } from 'node:crypto'
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type Socket, connect as tcpConnect } from 'node:net'
import type { TLSSocket } from 'node:tls'

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve) =>
    server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  )
}

function close(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve()
  server.closeAllConnections?.()
  return new Promise((resolve) => server.close(() => resolve()))
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}

/** OAuth2 client-credentials token endpoint (https): checks HTTP Basic client credentials. */
export class TokenServer {
  server: Server | undefined
  port = 0
  requests = 0
  /** expires_in of the next tokens issued (seconds). */
  expiresIn = 3600
  readonly issued: string[] = []
  readonly bodies: string[] = []
  readonly tls: { cert: string; key: string }
  readonly clientId: string
  readonly clientSecret: string
  constructor(tls: { cert: string; key: string }, clientId: string, clientSecret: string) {
    this.tls = tls
    this.clientId = clientId
    this.clientSecret = clientSecret
  }

  get url(): string {
    return `https://localhost:${this.port}/oauth/token`
  }

  async start(port = 0): Promise<this> {
    this.server = createHttpsServer(this.tls, async (req, res) => {
      this.requests++
      const body = await readBody(req)
      this.bodies.push(body)
      const expected = `Basic ${Buffer.from(`${encodeURIComponent(this.clientId)}:${encodeURIComponent(this.clientSecret)}`).toString('base64')}`
      const form = new URLSearchParams(body)
      res.setHeader('content-type', 'application/json')
      if (req.method !== 'POST' || req.headers.authorization !== expected) {
        res.statusCode = 401
        res.end(JSON.stringify({ error: 'invalid_client' }))
        return
      }
      if (form.get('grant_type') !== 'client_credentials') {
        res.statusCode = 400
        res.end(JSON.stringify({ error: 'unsupported_grant_type' }))
        return
      }
      const token = `tok_${randomBytes(12).toString('hex')}`
      this.issued.push(token)
      res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: this.expiresIn }))
    })
    this.port = await listen(this.server, port)
    return this
  }

  async stop(): Promise<void> {
    await close(this.server)
    this.server = undefined
  }
}

export interface Received {
  path: string
  headers: IncomingMessage['headers']
  body: string
  /** The client certificate's CN, when one was presented. */
  clientCn: string | undefined
}

/** An https receiver. `accept` decides the status; with clientCa, a client certificate is required. */
export class HttpsReceiver {
  server: Server | undefined
  port = 0
  readonly received: Received[] = []
  accept: (r: Received) => number = () => 200
  readonly tls: { cert: string; key: string; clientCa?: string }

  constructor(tls: { cert: string; key: string; clientCa?: string }) {
    this.tls = tls
  }

  url(path: string, host = 'localhost'): string {
    return `https://${host}:${this.port}${path}`
  }

  async start(): Promise<this> {
    const { clientCa, ...tls } = this.tls
    this.server = createHttpsServer(
      { ...tls, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}) },
      async (req, res) => {
        const body = await readBody(req)
        const peer = (req.socket as TLSSocket).getPeerCertificate?.()
        const r: Received = {
          path: req.url ?? '',
          headers: req.headers,
          body,
          clientCn: peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined,
        }
        this.received.push(r)
        res.statusCode = this.accept(r)
        res.end('ok')
      },
    )
    this.port = await listen(this.server)
    return this
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path)
  }

  stop(): Promise<void> {
    return close(this.server)
  }
}

/** A plain http receiver (for absolute-form through the proxy). */
export class HttpReceiver {
  server: Server | undefined
  port = 0
  readonly received: Received[] = []

  async start(): Promise<this> {
    this.server = createHttpServer(async (req, res) => {
      this.received.push({
        path: req.url ?? '',
        headers: req.headers,
        body: await readBody(req),
        clientCn: undefined,
      })
      res.end('ok')
    })
    this.port = await listen(this.server)
    return this
  }

  stop(): Promise<void> {
    return close(this.server)
  }
}

/**
 * An HTTP proxy: CONNECT tunnels and absolute-form requests, each recorded. `refuse` answers
 * CONNECT with 502 for the authorities it returns true for.
 */
export class ConnectProxy {
  server: Server | undefined
  port = 0
  readonly connects: string[] = []
  readonly forwarded: { target: string; host: string | undefined }[] = []
  refuse: (authority: string) => boolean = () => false

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start(port = 0): Promise<this> {
    const sockets = new Set<Socket>()
    this.server = createHttpServer((req, res) => {
      // Absolute-form: forward to the authority in the request line, Host kept as sent.
      this.forwarded.push({ target: req.url ?? '', host: req.headers.host })
      const u = new URL(req.url ?? '')
      const out = httpRequest(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname + u.search,
          method: req.method,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers)
          up.pipe(res)
        },
      )
      out.on('error', () => {
        res.statusCode = 502
        res.end()
      })
      req.pipe(out)
    })
    this.server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      const authority = req.url ?? ''
      this.connects.push(authority)
      sockets.add(client)
      client.on('close', () => sockets.delete(client))
      if (this.refuse(authority)) {
        client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n')
        return
      }
      const i = authority.lastIndexOf(':')
      const upstream = tcpConnect(
        Number(authority.slice(i + 1)),
        authority.slice(0, i).replace(/^\[|\]$/g, ''),
        () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
          if (head.length > 0) upstream.write(head)
          upstream.pipe(client)
          client.pipe(upstream)
        },
      )
      sockets.add(upstream)
      upstream.on('close', () => sockets.delete(upstream))
      upstream.on('error', () => client.destroy())
      client.on('error', () => upstream.destroy())
    })
    const server = this.server
    const stop = server.close.bind(server)
    server.close = ((cb?: (err?: Error) => void) => {
      for (const s of sockets) s.destroy()
      return stop(cb)
    }) as typeof server.close
    this.port = await listen(this.server, port)
    return this
  }

  async stop(): Promise<void> {
    await close(this.server)
    this.server = undefined
  }
}
