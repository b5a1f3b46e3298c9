/** Why a delivery was refused. Stable strings: safe to log, count and switch on. */
export type WebhookVerificationErrorCode =
  /** No signature header for the scheme in use (or the Standard Webhooks id or timestamp is absent). */
  | 'missing_signature'
  /** A signature header is present but no entry matches the body under any of the secrets. */
  | 'bad_signature'
  /** `webhook-timestamp` is not an integer number of Unix seconds. */
  | 'bad_timestamp'
  /** The signature holds but `webhook-timestamp` is older than the tolerance (a replay or a very late retry). */
  | 'timestamp_too_old'
  /** The signature holds but `webhook-timestamp` is further in the future than the tolerance (clock skew). */
  | 'timestamp_too_new'
  /** The body is not the raw request body (string, Uint8Array/Buffer or ArrayBuffer), e.g. an already parsed object. */
  | 'not_raw_body'
  /** The signature holds but the body is not valid UTF-8 JSON (only from the functions that parse). */
  | 'invalid_payload'

const defaultMessages: Record<WebhookVerificationErrorCode, string> = {
  missing_signature: 'No webhook signature header',
  bad_signature: 'No signature matches the body',
  bad_timestamp: 'webhook-timestamp is not an integer number of seconds',
  timestamp_too_old: 'webhook-timestamp is too old',
  timestamp_too_new: 'webhook-timestamp is too far in the future',
  not_raw_body: 'The body must be the raw request body (string, Uint8Array or ArrayBuffer)',
  invalid_payload: 'The signed body is not valid UTF-8 JSON',
}

/**
 * Thrown when a delivery must be refused. Check `err.name === 'WebhookVerificationError'` or
 * {@link isWebhookVerificationError} rather than `instanceof`: an app that loads both the ESM and
 * the CommonJS build of this package has two copies of this class.
 */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError'
  readonly code: WebhookVerificationErrorCode

  constructor(code: WebhookVerificationErrorCode, message?: string) {
    super(message ?? defaultMessages[code])
    this.code = code
  }
}

/** True for a {@link WebhookVerificationError} from any copy of this package (ESM or CommonJS). */
export function isWebhookVerificationError(err: unknown): err is WebhookVerificationError {
  if (typeof err !== 'object' || err === null) return false
  const e = err as { name?: unknown; code?: unknown }
  return e.name === 'WebhookVerificationError' && typeof e.code === 'string'
}
