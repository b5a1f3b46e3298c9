// Limits on the request line and headers, and the answer the HTTP parser gives when a request
// breaks them (before Fastify routes it), in the API's one error shape. Body limits are in
// build-app.ts (apiBodyLimit) and the publisher routes; JSON depth in src/events/json-body.ts.
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyRequest } from 'fastify'
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

function answer(socket: Socket, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } })
  socket.write(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** Fastify's clientErrorHandler: what the parser refuses, in { error: { code, message } } form. */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  if (socket.writable) {
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      answer(
        socket,
        431,
        'headers_too_large',
        `The request line and headers exceed ${maxHeaderSize} bytes, or ${maxHeadersCount} header fields.`,
      )
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      answer(socket, 408, 'request_timeout', 'The request was not received in time.')
    } else {
      answer(socket, 400, 'invalid_request', 'The request is not valid HTTP/1.1.')
    }
  }
  socket.destroy(err)
}
