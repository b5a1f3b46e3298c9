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
  /** A line for a person, and the same as an object (for --json). */
  out: (line: string, json?: object) => void
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

function challengeOf(body: string): string | undefined {
  try {
    const doc = JSON.parse(body) as { type?: unknown; challenge?: unknown }
    return doc.type === 'webhook.verification' && typeof doc.challenge === 'string'
      ? doc.challenge
      : undefined
  } catch {
    return undefined
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
        const seen = {
          method: req.method,
          path: req.url,
          event: h['x-delivery-event'] ?? null,
          deliveryId: h['webhook-id'] ?? null,
          attempt: h['x-delivery-attempt'] === undefined ? null : Number(h['x-delivery-attempt']),
        }
        let line = `${seen.method} ${seen.path} ${seen.event ?? '-'} ${seen.deliveryId ?? '-'} attempt ${seen.attempt ?? '-'}`
        let ok = true
        let signatures: { basekit: string; standard: string } | undefined
        if (o.secret) {
          const basekit = await verdict('basekit', body, h, o.secret)
          const standard = await verdict('standard', body, h, o.secret)
          ok = basekit === 'ok' && standard === 'ok'
          signatures = { basekit, standard }
          line += `: X-Delivery-Hmac-SHA256 ${basekit}, webhook-signature ${standard}`
        }
        const text = body.toString('utf8')
        o.out(o.printBody ? `${line}\n${text}` : line, {
          ...seen,
          ...(signatures ? { signatures } : {}),
          ...(o.printBody ? { body: text } : {}),
        })
        // An endpoint verification challenge (HOOKPOST_VERIFY_ENDPOINTS), signed as checked: echoed.
        const challenge = ok && seen.event === 'webhook.verification' ? challengeOf(text) : undefined
        res.writeHead(o.status ?? (ok ? 200 : 400), { 'content-type': 'text/plain' })
        res.end(challenge ?? (ok ? 'ok' : 'signature check failed'))
      })()
    })
  })
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(`could not listen on ${o.host}:${o.port}: ${e.code ?? e.message}`)),
    )
    server.listen(o.port, o.host, () => {
      const url = `http://${o.host}:${o.port}`
      o.out(`listening on ${url}${o.secret ? ', checking signatures' : ''}`, {
        listening: url,
        checkingSignatures: o.secret !== undefined,
      })
      resolve(() => new Promise<void>((r) => server.close(() => r())))
    })
  })
}
