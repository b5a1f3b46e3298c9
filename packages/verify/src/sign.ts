import { bodyBytes, type WebhookBody } from './body.js'
import { type CryptoLike, hmacSha256, resolveSubtle } from './crypto.js'
import { base64Encode, concatBytes, hexEncode, utf8DecodeStrict, utf8Encode } from './encoding.js'
import { parseSecrets } from './secret.js'

export interface SignOptions {
  /** Delivery id for `webhook-id`. Default: a fresh `dlv_test_…` id. Must not contain `.`. */
  id?: string
  /** Unix seconds for `webhook-timestamp`. Default: now. */
  timestamp?: number
  /** Encoding of X-Delivery-Hmac-SHA256. Default `'hex'` (the service's default). */
  encoding?: 'hex' | 'base64'
  /** X-Delivery-Event. Default: the body's `eventName` when it is JSON with one; else the header is left out. */
  eventName?: string
  /** X-Delivery-Attempt. Default 1. */
  attempt?: number
  crypto?: CryptoLike
}

/** Headers as the service sends them (lower-case names), ready for `fetch` or an HTTP client. */
export type SignedWebhookHeaders = Record<string, string> & {
  'content-type': string
  'x-delivery-hmac-sha256': string
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
  'x-delivery-attempt': string
}

function randomId(): string {
  let s = ''
  for (let i = 0; i < 20; i++) s += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(Math.random() * 36)]
  return `dlv_test_${s}`
}

function bodyEventName(bytes: Uint8Array): string | undefined {
  const text = utf8DecodeStrict(bytes)
  if (text === null) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    const name =
      typeof parsed === 'object' && parsed !== null
        ? (parsed as { eventName?: unknown }).eventName
        : undefined
    return typeof name === 'string' ? name : undefined
  } catch {
    return undefined
  }
}

/**
 * Signs a body the way the Hookpost service does, for tests and local tools: the BaseKit header
 * with the first (current) secret, and one Standard Webhooks `v1` entry per secret, current first.
 */
export async function signWebhook(
  body: WebhookBody,
  secret: string | readonly string[],
  options: SignOptions = {},
): Promise<SignedWebhookHeaders> {
  const bytes = bodyBytes(body)
  const secrets = parseSecrets(secret)
  const subtle = resolveSubtle(options.crypto)
  const id = options.id ?? randomId()
  if (id === '' || id.includes('.')) throw new TypeError('id must be non-empty and contain no "."')
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000)
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError('timestamp must be Unix seconds')
  const encoding = options.encoding ?? 'hex'
  const current = secrets[0]!
  const basekit = await hmacSha256(subtle, current.basekit, bytes)
  const signed = concatBytes(utf8Encode(`${id}.${timestamp}.`), bytes)
  const entries: string[] = []
  for (const s of secrets) entries.push(`v1,${base64Encode(await hmacSha256(subtle, s.standard, signed))}`)
  const headers: SignedWebhookHeaders = {
    'content-type': 'application/json',
    'x-delivery-hmac-sha256': encoding === 'base64' ? base64Encode(basekit) : hexEncode(basekit),
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': entries.join(' '),
    'x-delivery-attempt': String(options.attempt ?? 1),
  }
  const eventName = options.eventName ?? bodyEventName(bytes)
  if (eventName !== undefined) headers['x-delivery-event'] = eventName
  return headers
}
