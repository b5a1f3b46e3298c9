// Slow and numerous clients, over raw sockets (app.inject bypasses them): the time to send a
// whole request, the connections one address may hold, and how much of a refused body is read.
// The deadlines are configured small so that the tests run fast; nothing here measures time.
import { connect, type Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { buildApp, type ConnectionLimits } from '../../src/http/build-app.ts'
import { type AppHarness, adminToken, appHarness } from '../support/app-harness.ts'

const example = JSON.stringify(eventTypes.find((t) => t.name === 'site.publish')!.example)

interface Conversation {
  socket: Socket
  /** Everything the server wrote, once it closed the connection. */
  closed: Promise<string>
}

function open(port: number): Promise<Conversation> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const socket = connect(port, '127.0.0.1')
    const closed = new Promise<string>((done) => {
      socket.on('data', (c: Buffer) => chunks.push(c))
      socket.on('error', () => {})
      socket.on('close', () => done(Buffer.concat(chunks).toString('utf8')))
    })
    socket.once('connect', () => resolve({ socket, closed }))
    socket.once('error', reject)
  })
}

/** Writes a piece now and then until the server closes the connection. */
function trickle(socket: Socket, piece: string): void {
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) clearInterval(timer)
    else socket.write(piece)
  }, 20)
  socket.once('close', () => clearInterval(timer))
}

function statusAndError(text: string): { status: number; code?: string } {
  const [head = '', body = ''] = text.split('\r\n\r\n')
  const status = Number(head.split(' ')[1])
  try {
    return { status, code: JSON.parse(body).error.code }
  } catch {
    return { status }
  }
}

describe('connection limits', () => {
  let h: AppHarness
  let app: FastifyInstance
  let port: number

  async function serve(connections: Partial<ConnectionLimits>, eventBodyLimit = 4096): Promise<void> {
    app = await buildApp({ hookpost: h.hookpost, adminToken, version: 'test', eventBodyLimit, connections })
    await app.listen({ host: '127.0.0.1', port: 0 })
    port = (app.server.address() as { port: number }).port
  }

  beforeEach(async () => {
    h = await appHarness()
  })
  afterEach(async () => {
    await app?.close()
    await h.close()
  })

  it('answers 408 request_timeout to headers sent slower than the receive timeout, and closes', async () => {
    await serve({ receiveTimeoutMs: 300 })
    const c = await open(port)
    c.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n')
    trickle(c.socket, 'X-Slow: a\r\n')
    expect(statusAndError(await c.closed)).toEqual({ status: 408, code: 'request_timeout' })
  })

  it('answers 408 to a body sent slower than the receive timeout, and closes', async () => {
    await serve({ receiveTimeoutMs: 300 })
    const c = await open(port)
    c.socket.write(
      `POST /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${h.publisher}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{',
    )
    trickle(c.socket, ' ')
    expect(statusAndError(await c.closed)).toEqual({ status: 408, code: 'request_timeout' })
  })

  it('closes a connection that never sends anything', async () => {
    await serve({ receiveTimeoutMs: 300 })
    const c = await open(port)
    expect(statusAndError(await c.closed).status).toBe(408)
  })

  it('refuses connections past the cap from one address with 429 too_many_connections', async () => {
    await serve({ maxPerAddress: 3 })
    const idle = await Promise.all([open(port), open(port), open(port)])
    const extra = await open(port)
    extra.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    expect(statusAndError(await extra.closed)).toEqual({ status: 429, code: 'too_many_connections' })
    // One of the idle ones goes: a new connection is served again.
    idle[0]!.socket.destroy()
    await idle[0]!.closed
    const next = await open(port)
    next.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    expect(statusAndError(await next.closed).status).toBe(200)
    for (const c of idle) c.socket.destroy()
  })

  describe('a body over the limit', () => {
    const tenMb = Buffer.alloc(10 * 1024 * 1024, 0x20)

    it('lets undici request and fetch, which send the whole body first, read the 413', async () => {
      await serve({})
      const url = `http://127.0.0.1:${port}/events`
      const headers = { authorization: h.publisher, 'content-type': 'application/json' }
      const r = await request(url, { method: 'POST', headers, body: tenMb })
      expect(r.statusCode).toBe(413)
      expect(((await r.body.json()) as { error: { code: string } }).error.code).toBe('body_too_large')
      const f = await fetch(url, { method: 'POST', headers, body: tenMb })
      expect(f.status).toBe(413)
      expect(((await f.json()) as { error: { code: string } }).error.code).toBe('body_too_large')
    })

    it('lets a client that writes the whole 10 MB before reading anything read the 413', async () => {
      await serve({})
      const c = await open(port)
      c.socket.pause()
      const head =
        `POST /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${h.publisher}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${tenMb.length}\r\n\r\n`
      const written = await new Promise<Error | null>((resolve) => {
        c.socket.write(head)
        c.socket.write(tenMb, (e) => resolve(e ?? null))
      })
      expect(written).toBeNull()
      c.socket.resume()
      c.socket.end()
      expect(statusAndError(await c.closed)).toEqual({ status: 413, code: 'body_too_large' })
    })

    it('closes right after the answer when the announced body is past the drain limit', async () => {
      await serve({ drainLimitBytes: 1024 * 1024 })
      const c = await open(port)
      // Unauthenticated: answered 401 before the body is read; none of the 1 GiB is sent.
      c.socket.write(
        'POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${1024 * 1024 * 1024}\r\n\r\n`,
      )
      const text = await c.closed
      expect(statusAndError(text)).toEqual({ status: 401, code: 'unauthorized' })
      expect(text.toLowerCase()).toContain('connection: close')
    })

    it('reads and drops at most the drain limit after answering, then closes', async () => {
      const drainLimitBytes = 1024 * 1024
      await serve({ drainLimitBytes })
      let serverSide: Socket | undefined
      app.server.once('connection', (s: Socket) => {
        serverSide = s
      })
      const c = await open(port)
      // No length announced: an endless chunked body, written as fast as the server reads it.
      c.socket.write(
        `POST /events HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${h.publisher}\r\n` +
          'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
      )
      const data = Buffer.alloc(64 * 1024, 0x20)
      const frame = Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n')])
      const endless = 256 * 1024 * 1024
      let sent = 0
      const pump = () => {
        while (!c.socket.destroyed && sent < endless) {
          sent += data.length
          if (!c.socket.write(frame)) return void c.socket.once('drain', pump)
        }
      }
      pump()
      expect(statusAndError(await c.closed)).toEqual({ status: 413, code: 'body_too_large' })
      expect(sent).toBeLessThan(endless)
      // It kept reading past the answer, up to the drain limit and what was in flight then:
      // nowhere near 256 MiB.
      expect(serverSide!.bytesRead).toBeGreaterThan(drainLimitBytes)
      expect(serverSide!.bytesRead).toBeLessThan(drainLimitBytes + 8 * 1024 * 1024)
      // The service is fine afterwards.
      const ok = await app.inject({
        method: 'POST',
        url: '/events',
        headers: { authorization: h.publisher, 'content-type': 'application/json' },
        payload: example,
      })
      expect(ok.statusCode).toBe(202)
    })
  })
})
