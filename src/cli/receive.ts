// `hookpost receive`: a development receiver that prints each delivery and checks both of its
// signatures with @hookpost/verify, the same library receivers use.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { verifyWebhookSignature } from '../../packages/verify/src/index.ts'

export interface ReceiveOptions {
  host: string
  port: number
  secret: string | undefined
  /** Answer with this status instead of 200/400 (to try retries). */
  status: number | undefined
  printBody: boolean
  out: (line: string) => void
}

async function verdict(
  scheme: 'basekit' | 'standard',
  body: Buffer,
  headers: IncomingHttpHeaders,
  secret: string,
) {
  try {
    await verifyWebhookSignature(body, headers as Record<string, string | string[] | undefined>, secret, {
      scheme,
    })
    return 'ok'
  } catch (e) {
    return (e as { code?: string }).code ?? 'error'
  }
}

export function receive(o: ReceiveOptions): Promise<() => Promise<void>> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks)
        const h = req.headers
        let line = `${req.method} ${req.url} ${h['x-delivery-event'] ?? '-'} ${h['webhook-id'] ?? '-'} attempt ${h['x-delivery-attempt'] ?? '-'}`
        let ok = true
        if (o.secret) {
          const basekit = await verdict('basekit', body, h, o.secret)
          const standard = await verdict('standard', body, h, o.secret)
          ok = basekit === 'ok' && standard === 'ok'
          line += `: X-Delivery-Hmac-SHA256 ${basekit}, webhook-signature ${standard}`
        }
        o.out(line)
        if (o.printBody) o.out(body.toString('utf8'))
        res.writeHead(o.status ?? (ok ? 200 : 400), { 'content-type': 'text/plain' })
        res.end(ok ? 'ok' : 'signature check failed')
      })()
    })
  })
  return new Promise((resolve) => {
    server.listen(o.port, o.host, () => {
      o.out(`listening on http://${o.host}:${o.port}${o.secret ? ', checking signatures' : ''}`)
      resolve(() => new Promise<void>((r) => server.close(() => r())))
    })
  })
}
