import { utf8Encode } from './encoding.js'
import { WebhookVerificationError } from './errors.js'

/** The raw request body exactly as received: text, or bytes (a Node Buffer is a Uint8Array). */
export type WebhookBody = string | Uint8Array | ArrayBuffer

function tag(value: unknown): string {
  return Object.prototype.toString.call(value)
}

/**
 * The bytes to hash. A string is UTF-8 encoded; bytes are used as they are (never decoded to
 * text first, which would turn invalid UTF-8 into U+FFFD and change the hash). Works across
 * realms (no `instanceof`). Anything else, such as a parsed JSON object, is refused.
 */
export function bodyBytes(body: unknown): Uint8Array {
  if (typeof body === 'string') return utf8Encode(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  if (tag(body) === '[object ArrayBuffer]') return new Uint8Array(body as ArrayBuffer)
  const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body
  throw new WebhookVerificationError(
    'not_raw_body',
    `The body must be the raw request body (string, Uint8Array/Buffer or ArrayBuffer), got ${got}. ` +
      'A parsed JSON body cannot be verified: parsing and re-serializing changes the bytes. ' +
      'Read the raw body for this route (express.raw(), a Fastify buffer parser, await req.arrayBuffer()).',
  )
}
