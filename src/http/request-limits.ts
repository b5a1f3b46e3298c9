// Limits on the request line and headers, the time to receive a request, how much of a refused
// body is read, and the answer the HTTP parser gives when a request breaks them (before Fastify
// routes it), in the API's one error shape. Body limits are in build-app.ts (apiBodyLimit) and
// the publisher routes; JSON depth in src/events/json-body.ts; connections per address in
// connection-cap.ts.
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../shared/errors.ts'

/** Request line + all headers, in bytes (Node's parser answers 431 beyond it). */
export const maxHeaderSize = 16 * 1024
/**
 * Header fields per request. Node releases with the fix for CVE-2026-58044 (22.23.2+, 24.18.1+)
 * refuse a request with more (431, like the size limit); Node 20 drops the ones past it, unseen.
 */
export const maxHeadersCount = 100
/** Path and query, in characters. */
export const maxUrlLength = 4096

/** onRequest: refuses an over-long URL before authentication or routing does any work. */
export async function urlLengthGuard(request: FastifyRequest): Promise<void> {
  if (request.url.length > maxUrlLength) {
    throw new AppError('url_too_long', {
      message: `The request URL is longer than ${maxUrlLength} characters.`,
    })
  }
}

/**
 * Past an answer given before the body was read whole (413, 401, 415, 429…), this much more of
 * the body is read and dropped, so that a client that sends everything before reading (undici,
 * fetch, most SDKs) reads the answer instead of EPIPE; past it the connection is closed.
 */
export const defaultDrainLimitBytes = 32 * 1024 * 1024

/** The raw answer written on a socket, outside Fastify (the parser's refusals, connection limits). */
export function rawAnswer(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): string {
  const body = JSON.stringify({ error: { code, message } })
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`
  )
}

/**
 * Node's HTTP parser cuts a request not received whole within the deadline (headers and body
 * alike, counted from its first byte, or from the connection's start for the first request).
 * It checks at an interval (Node's default: every 30 s, so a 30 s deadline cut at 60 to 90 s):
 * here a quarter of the deadline, at most a second.
 */
export function receiveTimeoutOptions(receiveTimeoutMs: number) {
  return {
    headersTimeout: receiveTimeoutMs,
    requestTimeout: receiveTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(receiveTimeoutMs / 4))),
  }
}

/** Sockets whose request was answered while its body was still coming: nothing more is written. */
const answered = new WeakSet<Socket>()

/**
 * onSend: when the answer leaves before the body was read whole, the rest of the body is read
 * and dropped, up to limitBytes, then the connection is closed; the receive timeout still
 * bounds how long. (Fastify closes at once after a body error, and a client still writing then
 * gets EPIPE instead of the answer; Node would drain any length.) A body announced longer than
 * what is left to drain is not read: the connection closes after the answer.
 */
export function boundedDrain(limitBytes: number) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const raw = request.raw
    const socket = raw.socket as Socket | null
    if (raw.complete || raw.destroyed || !socket || answered.has(socket)) return payload
    if (Number(raw.headers['content-length']) > limitBytes) {
      reply.header('connection', 'close')
      return payload
    }
    reply.removeHeader('connection')
    answered.add(socket)
    let left = limitBytes
    const drop = (chunk: Buffer) => {
      left -= chunk.length
      if (left < 0) socket.destroy()
    }
    raw.on('data', drop)
    raw.once('end', () => {
      raw.off('data', drop)
      answered.delete(socket)
    })
    raw.resume()
    return payload
  }
}

/** Fastify's clientErrorHandler: what the parser refuses, in { error: { code, message } } form. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  // A request already answered (its body was being drained) gets no second answer.
  if (socket.writable && !answered.has(socket)) {
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      socket.write(
        rawAnswer(
          431,
          'headers_too_large',
          `The request line and headers exceed ${maxHeaderSize} bytes, or ${maxHeadersCount} header fields.`,
        ),
      )
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.write(rawAnswer(408, 'request_timeout', 'The request was not received in time.'))
    } else {
      socket.write(rawAnswer(400, 'invalid_request', 'The request is not valid HTTP/1.1.'))
    }
  }
  socket.destroy(err)
}
