// The undici adapter on its own: one total deadline whatever phase the attempt is in, the
// response read up to the cap, keep-alive between attempts, transport errors classified.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { maxResponseBodyBytes } from '../../src/deliveries/sender.ts'
import { HttpSender } from '../../src/outbound/http-sender.ts'

const servers: Server[] = []
const senders: HttpSender[] = []

async function serve(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; connections: () => number }> {
  let connections = 0
  const server = createServer(handler)
  server.on('connection', () => connections++)
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`,
    connections: () => connections,
  }
}

function sender(...args: ConstructorParameters<typeof HttpSender>): HttpSender {
  const s = new HttpSender(...args)
  senders.push(s)
  return s
}

const post = (s: HttpSender, url: string, timeoutMs = 2000) =>
  s.send({ url, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"a":1}'), timeoutMs })

afterEach(async () => {
  for (const s of senders.splice(0)) await s.close()
  for (const srv of servers.splice(0)) {
    srv.closeAllConnections()
    await new Promise((r) => srv.close(r))
  }
})

describe('HttpSender', () => {
  it('sends the body and headers to the path with its query, and keeps the connection for the next attempt', async () => {
    const seen: { url: string; body: string; type: string }[] = []
    const srv = await serve((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        seen.push({ url: req.url ?? '', body, type: req.headers['content-type'] ?? '' })
        res.writeHead(201, { 'X-Reply': 'yes' }).end('created')
      })
    })
    const s = sender()
    for (let i = 0; i < 6; i++) {
      const o = await post(s, srv.url)
      expect(o).toMatchObject({ kind: 'response', statusCode: 201, body: 'created' })
      expect(o.kind === 'response' && o.headers['x-reply']).toBe('yes')
    }
    expect(seen).toEqual(Array(6).fill({ url: '/hook?x=1', body: '{"a":1}', type: 'application/json' }))
    // Kept alive: later attempts reuse the connections already open.
    expect(srv.connections()).toBeLessThanOrEqual(2)
  })

  it('keeps at most the cap of a long answer and still reports the status', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200)
      res.end(Buffer.alloc(maxResponseBodyBytes * 3, 'a'))
    })
    const o = await post(sender(), srv.url)
    expect(o.kind).toBe('response')
    if (o.kind === 'response') {
      expect(o.statusCode).toBe(200)
      expect(o.body.length).toBe(maxResponseBodyBytes)
    }
  })

  it('ends an attempt at the deadline while waiting for the answer', async () => {
    const srv = await serve(() => {
      // never answers
    })
    const o = await post(sender(), srv.url, 300)
    expect(o).toMatchObject({ kind: 'error', code: 'timeout' })
    expect(o.durationMs).toBeGreaterThanOrEqual(250)
  })

  it('ends an attempt at the deadline while the connection is still being made', async () => {
    let asked = 0
    // A connector that never connects: the deadline is the only way out.
    const s = sender({
      connect: () => {
        asked++
      },
    })
    const o = await post(s, 'http://127.0.0.1:9/never', 300)
    expect(asked).toBe(1)
    expect(o).toMatchObject({ kind: 'error', code: 'timeout' })
  })

  it('classifies a refused connection and a URL that does not parse', async () => {
    const srv = await serve((_q, r) => r.end())
    const port = new URL(srv.url).port
    servers.pop()?.close()
    const s = sender()
    expect(await post(s, `http://127.0.0.1:${port}/gone`)).toMatchObject({
      kind: 'error',
      code: 'connection_refused',
    })
    expect(await post(s, 'not a url')).toMatchObject({ kind: 'error', code: 'invalid_url' })
  })
})
