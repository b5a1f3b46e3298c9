// Next.js App Router route handler: app/api/webhooks/hookpost/route.ts
// Read the bytes with req.arrayBuffer(); do not call req.json() (it parses, and the signature is
// over the bytes). Works on the Node.js and the Edge runtime (WebCrypto only).
//
// In your app: import { … } from '@hookpost/verify'
import { isWebhookVerificationError, verifyWebhookDetailed } from '../src/index.js'

// Replace with a shared store kept for days (retries reuse the same webhook-id).
const seen = new Set<string>()

async function handleEvent(_payload: unknown): Promise<void> {
  // … your logic (or enqueue the payload and answer at once) …
}

export async function POST(req: Request): Promise<Response> {
  const secret = process.env['HOOKPOST_WEBHOOK_SECRET']
  if (!secret) return Response.json({ error: 'not configured' }, { status: 500 })
  const body = new Uint8Array(await req.arrayBuffer())
  try {
    const { payload, id, eventName } = await verifyWebhookDetailed(body, req.headers, secret)
    if (id !== null && seen.has(id)) return Response.json({ duplicate: true })
    await handleEvent(payload)
    if (id !== null) seen.add(id)
    return Response.json({ received: true, id, eventName })
  } catch (err) {
    if (isWebhookVerificationError(err)) return Response.json({ error: err.code }, { status: 400 })
    throw err
  }
}
