// Test support: signs deliveries exactly as the service does, with node:crypto only (independent
// of the library's WebCrypto code), and loads the shared vectors.
import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface SigningVector {
  name: string
  note?: string
  secret: string
  previousSecrets?: string[]
  id: string
  timestamp: number
  body?: string
  bodyBase64?: string
  basekitHex: string
  basekitBase64: string
  standard: string
}

export const vectorsPath = fileURLToPath(new URL('../../../test/vectors/signing.json', import.meta.url))

export function loadVectors(): SigningVector[] {
  return (JSON.parse(readFileSync(vectorsPath, 'utf8')) as { cases: SigningVector[] }).cases
}

export function vectorBody(v: SigningVector): Buffer {
  return v.bodyBase64 !== undefined ? Buffer.from(v.bodyBase64, 'base64') : Buffer.from(v.body ?? '', 'utf8')
}

export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`
}

export interface NodeSignOptions {
  /** Secrets valid now, current first. */
  secrets: string[]
  id: string
  timestamp: number
  body: Buffer | string
  encoding?: 'hex' | 'base64'
  eventName?: string
  attempt?: number
}

/** The delivery headers of contract section 6, computed with node:crypto. */
export function nodeSign(o: NodeSignOptions): Record<string, string> {
  const body = typeof o.body === 'string' ? Buffer.from(o.body, 'utf8') : o.body
  const current = o.secrets[0]!
  const basekit = createHmac('sha256', Buffer.from(current, 'utf8'))
    .update(body)
    .digest(o.encoding ?? 'hex')
  const standard = o.secrets
    .map((s) => {
      const key = Buffer.from(s.slice('whsec_'.length), 'base64')
      const h = createHmac('sha256', key).update(`${o.id}.${o.timestamp}.`).update(body)
      return `v1,${h.digest('base64')}`
    })
    .join(' ')
  return {
    'content-type': 'application/json',
    'user-agent': 'Hookpost/0.1.0',
    'x-delivery-hmac-sha256': basekit,
    'webhook-id': o.id,
    'webhook-timestamp': String(o.timestamp),
    'webhook-signature': standard,
    'x-delivery-event': o.eventName ?? 'site.publish',
    'x-delivery-attempt': String(o.attempt ?? 1),
  }
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

let counter = 0
export function deliveryId(): string {
  counter++
  return `dlv_${Date.now().toString(36)}${counter.toString(36)}${randomBytes(4).toString('hex')}`
}
