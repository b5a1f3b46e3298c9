// The one shape of every error body (statuses from src/shared/error-status.ts):
// { "error": { "code", "message", "details"? } }. Anything that is not an AppError is logged
// and answered as an opaque 500 so that internals never leak.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { statusOfKind } from '../shared/error-status.ts'
import { AppError, type ErrorCode, type ErrorDetail, errorCatalogue } from '../shared/errors.ts'

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: ErrorDetail[] }
}

export function errorBody(e: AppError): ErrorBody {
  return { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } }
}

/** Fastify's own errors (parsing, limits, schema validation) in our catalogue's terms. */
function fromFastify(e: FastifyError): AppError | undefined {
  if (e.validation) {
    return new AppError('invalid_request', {
      message: `Invalid request: ${e.message}`,
      details: e.validation.slice(0, 20).map((v) => ({
        path: v.instancePath || '/',
        message:
          v.keyword === 'required'
            ? `missing required property "${(v.params as { missingProperty?: string }).missingProperty}"`
            : (v.message ?? 'is invalid'),
      })),
    })
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('body_too_large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError(
        e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : 'invalid_request',
      )
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_json')
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new AppError('invalid_request', { message: 'The request URL is malformed.' })
  }
  if (e.statusCode === 413) return new AppError('body_too_large')
  if (e.statusCode === 415) return new AppError('unsupported_media_type')
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return new AppError('invalid_request', { message: e.message })
  }
  return undefined
}

/** Seconds a client is told to wait when the store is unavailable (503 store_unavailable). */
export const unavailableRetryAfterSeconds = 5

export function sendError(reply: FastifyReply, e: AppError): FastifyReply {
  if (e.kind === 'unauthorized') reply.header('www-authenticate', 'Basic realm="hookpost", charset="UTF-8"')
  const retryAfter = e.retryAfter ?? (e.kind === 'unavailable' ? unavailableRetryAfterSeconds : undefined)
  if (retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))))
  return reply.status(statusOfKind[e.kind]).send(errorBody(e))
}

export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const app = err instanceof AppError ? err : fromFastify(err as FastifyError)
  if (app && app.kind !== 'internal') return sendError(reply, app)
  request.log.error({ err }, 'unhandled error')
  return reply
    .status(500)
    .send({ error: { code: 'internal_error', message: errorCatalogue.internal_error.message } })
}
