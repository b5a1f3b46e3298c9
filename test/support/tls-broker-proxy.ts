// A TLS front for a plain-TCP broker on loopback, with a test CA's certificate: what Hookpost
// meets in production behind amqps://, rediss:// and NATS tls://. RabbitMQ and Redis: TLS from
// the first byte, decrypted and piped to the broker's port. NATS upgrades in-protocol: the server
// sends a plaintext `INFO {...}\r\n` and a client told `tls_required` starts TLS on the same
// socket, so the proxy forwards upstream's INFO with `"tls_required":true`, then wraps the client
// socket in a server-side TLSSocket and pipes the decrypted stream to upstream.
import { type Server, type Socket, connect as tcpConnect, createServer as tcpServer } from 'node:net'
import { createSecureContext, TLSSocket, createServer as tlsServer } from 'node:tls'

export class TlsBrokerProxy {
  readonly #target: number
  readonly #identity: { cert: string; key: string }
  readonly #nats: boolean
  #server: Server | undefined
  readonly #sockets = new Set<Socket>()
  port = 0

  constructor(o: { target: number; identity: { cert: string; key: string }; nats?: boolean }) {
    this.#target = o.target
    this.#identity = o.identity
    this.#nats = o.nats ?? false
  }

  async start(): Promise<number> {
    const server = this.#nats
      ? tcpServer((client) => this.#natsUpgrade(client))
      : tlsServer(this.#identity, (client) => this.#pipe(client, tcpConnect(this.#target, '127.0.0.1')))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const a = server.address()
    this.port = typeof a === 'object' && a ? a.port : 0
    this.#server = server
    return this.port
  }

  #track(...sockets: Socket[]): void {
    for (const s of sockets) {
      this.#sockets.add(s)
      s.on('close', () => this.#sockets.delete(s))
      s.on('error', () => {
        for (const x of sockets) x.destroy()
      })
    }
  }

  #pipe(client: Socket, upstream: Socket, pending?: Buffer): void {
    this.#track(client, upstream)
    if (pending && pending.length > 0) client.write(pending)
    client.pipe(upstream)
    upstream.pipe(client)
  }

  #natsUpgrade(client: Socket): void {
    const upstream = tcpConnect(this.#target, '127.0.0.1')
    this.#track(client, upstream)
    let buf = Buffer.alloc(0)
    const onInfo = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      const end = buf.indexOf('\r\n')
      if (end < 0) return
      upstream.off('data', onInfo)
      upstream.pause()
      const line = buf.subarray(0, end).toString()
      const info = JSON.parse(line.replace(/^INFO\s+/, '')) as Record<string, unknown>
      client.write(`INFO ${JSON.stringify({ ...info, tls_required: true })}\r\n`)
      const secure = new TLSSocket(client, {
        isServer: true,
        secureContext: createSecureContext(this.#identity),
      })
      // A client that refuses the certificate hangs up during the handshake.
      secure.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
      secure.once('secure', () => {
        // Anything upstream sent after its INFO goes to the client now, encrypted.
        this.#pipe(secure, upstream, buf.subarray(end + 2))
        upstream.resume()
      })
    }
    upstream.on('data', onInfo)
  }

  async stop(): Promise<void> {
    const s = this.#server
    this.#server = undefined
    for (const c of this.#sockets) c.destroy()
    this.#sockets.clear()
    if (s) await new Promise((r) => s.close(r))
  }
}
