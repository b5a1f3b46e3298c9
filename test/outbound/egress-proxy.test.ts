// The egress proxy connector on its own: a proxy that accepts the connection and never answers
// CONNECT is proxy_error within the connect deadline (not the attempt's), and addresses are
// given to the proxy in request-target form.
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { authority } from '../../src/outbound/egress-proxy.ts'
import { outboundSender } from '../../src/outbound/outbound-tls.ts'
import { createSendingPolicy } from '../../src/outbound/sending-policy.ts'

const loopback = { allowHttp: true, allowedCidrs: ['127.0.0.0/8'] }

describe('egress proxy connector', () => {
  let server: Server | undefined
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
  })

  it('a proxy that never answers CONNECT is proxy_error after the connect deadline', async () => {
    const asked: string[] = []
    server = createServer((s) => {
      sockets.push(s)
      s.on('data', (d) => asked.push(d.toString('latin1')))
    })
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()))
    const port = (server.address() as { port: number }).port
    const sender = outboundSender(
      createSendingPolicy(loopback, undefined, {
        egressProxy: `http://127.0.0.1:${port}`,
        connectTimeoutMs: 300,
      }),
      2,
    )
    try {
      const r = await sender.send({
        url: 'https://localhost:9/x',
        headers: {},
        body: Buffer.from(''),
        timeoutMs: 10_000,
      })
      expect(r).toMatchObject({ kind: 'error', code: 'proxy_error' })
      expect(r.kind === 'error' && r.message).toMatch(/did not answer CONNECT within 300 ms/)
      expect(asked.join('')).toMatch(/^CONNECT 127\.0\.0\.1:9 HTTP\/1\.1\r\nHost: 127\.0\.0\.1:9\r\n\r\n$/)
    } finally {
      await sender.close()
    }
  })

  it('a refused proxy connection is proxy_error', async () => {
    server = createServer()
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()))
    const port = (server.address() as { port: number }).port
    await new Promise<void>((r) => server!.close(() => r()))
    server = undefined
    const sender = outboundSender(
      createSendingPolicy(loopback, undefined, { egressProxy: `http://127.0.0.1:${port}` }),
      2,
    )
    try {
      for (const url of ['https://localhost:9/x', 'http://localhost:9/x']) {
        const r = await sender.send({ url, headers: {}, body: Buffer.from(''), timeoutMs: 5000 })
        expect(r, url).toMatchObject({ kind: 'error', code: 'proxy_error' })
        expect(r.kind === 'error' && r.message).toMatch(/could not be reached \(ECONNREFUSED\)/)
      }
    } finally {
      await sender.close()
    }
  })

  it('writes IPv6 addresses in brackets', () => {
    expect(authority('2001:db8::1', 443)).toBe('[2001:db8::1]:443')
    expect(authority('203.0.113.7', 80)).toBe('203.0.113.7:80')
  })
})
