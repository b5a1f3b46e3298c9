// The one catalogue of error codes. The core raises AppError with a code from here; only
// src/shared/error-status.ts turns a kind into an HTTP status. docs/errors.md lists every code
// (a test keeps the two in step).

export type ErrorKind =
  | 'invalid'
  | 'unprocessable'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media'
  | 'rate_limited'
  | 'unavailable'
  | 'internal'

export const errorCatalogue = {
  // Request shape
  invalid_request: { kind: 'invalid', message: 'The request is malformed.' },
  invalid_json: { kind: 'invalid', message: 'The body is not valid JSON.' },
  unsupported_media_type: { kind: 'unsupported_media', message: 'The body must be application/json.' },
  body_too_large: { kind: 'too_large', message: 'The body is larger than the limit.' },
  url_too_long: { kind: 'invalid', message: 'The request URL is longer than the limit.' },
  json_too_deep: { kind: 'invalid', message: 'The JSON body is nested too deeply.' },
  route_not_found: { kind: 'not_found', message: 'No such route.' },
  method_not_allowed: { kind: 'not_found', message: 'No such route for this method.' },
  // Authentication
  unauthorized: { kind: 'unauthorized', message: 'Missing or invalid credentials.' },
  forbidden_role: {
    kind: 'forbidden',
    message: 'This credential does not have the role for this operation.',
  },
  rate_limited: { kind: 'rate_limited', message: 'Too many requests; retry after the delay given.' },
  // Resources
  environment_not_found: { kind: 'not_found', message: 'No such environment.' },
  credential_not_found: { kind: 'not_found', message: 'No such credential.' },
  portal_link_not_found: { kind: 'not_found', message: 'No such portal link (or it has expired).' },
  subscription_not_found: { kind: 'not_found', message: 'No such subscription.' },
  delivery_not_found: { kind: 'not_found', message: 'No such delivery.' },
  event_not_found: { kind: 'not_found', message: 'No such event.' },
  signing_key_not_found: { kind: 'not_found', message: 'No such signing key.' },
  // Subscriptions
  unknown_event_type: { kind: 'invalid', message: 'The event type is not in the catalogue.' },
  invalid_url: { kind: 'invalid', message: 'The URL is not a valid absolute http(s) URL.' },
  url_not_allowed: { kind: 'invalid', message: 'The sending policy refuses this URL.' },
  invalid_destination: { kind: 'invalid', message: 'The destination is not valid for its type.' },
  invalid_filter: { kind: 'invalid', message: 'The subscription filter is invalid.' },
  endpoint_auth_invalid: { kind: 'invalid', message: 'The endpoint authentication is not valid.' },
  client_certificate_invalid: {
    kind: 'invalid',
    message: 'The client certificate or its private key is not valid PEM.',
  },
  client_key_mismatch: {
    kind: 'invalid',
    message: 'The private key does not belong to the client certificate.',
  },
  client_certificate_expired: { kind: 'invalid', message: 'The client certificate is not valid now.' },
  header_invalid: { kind: 'invalid', message: 'A static header name or value is not valid.' },
  header_not_allowed: {
    kind: 'invalid',
    message: 'This header is set by Hookpost and cannot be a static header.',
  },
  invalid_retry_schedule: {
    kind: 'invalid',
    message: 'The retry schedule must be 1 to 50 positive durations of at most 7d.',
  },
  invalid_timeout: { kind: 'invalid', message: 'The timeout is not a duration within the allowed range.' },
  invalid_rate_limit: { kind: 'invalid', message: 'The rate limit must be "N/s" or "N/m".' },
  invalid_max_in_flight: { kind: 'invalid', message: 'maxInFlight must be an integer from 1 to 1000.' },
  invalid_transformation: {
    kind: 'invalid',
    message: 'The transformation does not compile or does not define a function handler.',
  },
  // Signing keys
  signing_key_limit: {
    kind: 'conflict',
    message: 'The environment already has the most signing keys allowed (10); delete one first.',
  },
  // Events
  missing_event_name: { kind: 'invalid', message: 'The payload has no known eventName.' },
  payload_invalid: { kind: 'unprocessable', message: 'The payload does not match the event type schema.' },
  idempotency_key_invalid: { kind: 'invalid', message: 'The Idempotency-Key header is empty or too long.' },
  idempotency_key_reused: {
    kind: 'conflict',
    message: 'The idempotency key was already used for another event with a different body.',
  },
  too_many_events: { kind: 'too_large', message: 'A batch holds at most 1000 events.' },
  // Deliveries
  invalid_cursor: { kind: 'invalid', message: 'The pagination cursor is not valid.' },
  delivery_not_retryable: { kind: 'conflict', message: 'This delivery cannot be retried now.' },
  delivery_held: {
    kind: 'conflict',
    message:
      'Its subscription is paused or its endpoint is not verified: the delivery waits and goes out once the subscription is resumed or verified.',
  },
  replay_not_found: { kind: 'not_found', message: 'No such replay.' },
  conflict: { kind: 'conflict', message: 'The resource conflicts with an existing one.' },
  // Server side
  store_unavailable: { kind: 'unavailable', message: 'The store is unavailable; retry shortly.' },
  internal_error: { kind: 'internal', message: 'Internal error.' },
} as const satisfies Record<string, { kind: ErrorKind; message: string }>

export type ErrorCode = keyof typeof errorCatalogue

export interface ErrorDetail {
  path: string
  message: string
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly kind: ErrorKind
  readonly details: ErrorDetail[] | undefined
  /** Seconds, for rate_limited. */
  readonly retryAfter: number | undefined

  constructor(
    code: ErrorCode,
    opts: { message?: string; details?: ErrorDetail[]; cause?: unknown; retryAfter?: number } = {},
  ) {
    super(opts.message ?? errorCatalogue[code].message, { cause: opts.cause })
    this.name = 'AppError'
    this.code = code
    this.kind = errorCatalogue[code].kind
    this.details = opts.details
    this.retryAfter = opts.retryAfter
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError
}
