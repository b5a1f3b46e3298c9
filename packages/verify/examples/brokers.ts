// Messages from a broker destination (RabbitMQ, NATS JetStream, Redis streams): the body is the
// event's exact bytes and the headers are those of an HTTP delivery, in the broker's own header
// mechanism. Take both as the broker's client hands them over and verify as for HTTP. These
// functions take the clients' message shapes structurally, so this file imports no client.
//
// In your app: import { … } from '@hookpost/verify'
import { type VerifiedWebhook, verifyWebhookDetailed } from '../src/index.js'

/** amqplib: `channel.consume(queue, (msg) => verifyAmqpMessage(msg, secret))`. */
export function verifyAmqpMessage(
  msg: { content: Uint8Array; properties: { headers?: Record<string, unknown> | undefined } },
  secret: string,
): Promise<VerifiedWebhook> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(msg.properties.headers ?? {})) headers[name] = String(value)
  return verifyWebhookDetailed(msg.content, headers, secret)
}

/** @nats-io/jetstream: a consumed `JsMsg` (or a stored message): `data` and `headers`. */
export function verifyNatsMessage(
  msg: { data: Uint8Array; headers?: { keys(): string[]; get(name: string): string } | undefined },
  secret: string,
): Promise<VerifiedWebhook> {
  // NATS headers are case-sensitive: copy them into a plain record, read case-insensitively.
  const headers: Record<string, string> = {}
  for (const name of msg.headers?.keys() ?? []) headers[name] = msg.headers!.get(name)
  return verifyWebhookDetailed(msg.data, headers, secret)
}

/**
 * ioredis: one entry's fields from `xreadBuffer`/`xrangeBuffer` (read as Buffers, so that the
 * body keeps its exact bytes): `body`, then the headers as name/value pairs.
 */
export function verifyRedisEntry(fields: readonly Uint8Array[], secret: string): Promise<VerifiedWebhook> {
  const text = new TextDecoder()
  const headers: Record<string, string> = {}
  let body: Uint8Array | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = text.decode(fields[i])
    if (name === 'body') body = fields[i + 1]
    else headers[name] = text.decode(fields[i + 1])
  }
  return verifyWebhookDetailed(body ?? new Uint8Array(), headers, secret)
}
