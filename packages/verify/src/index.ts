// @hookpost/verify: verify Hookpost webhook deliveries with WebCrypto. No dependencies.
export type { WebhookBody } from './body.js'
export type { CryptoLike, SubtleCryptoLike } from './crypto.js'
export {
  isWebhookVerificationError,
  WebhookVerificationError,
  type WebhookVerificationErrorCode,
} from './errors.js'
// Typed payloads of the event catalogue (generated): HookpostEvent, isEventOf, …
export * from './events.js'
export {
  HEADER_NAMES,
  type HeaderRecord,
  type HeadersLike,
  type HeaderValue,
  type WebhookHeaders,
  webhookId,
} from './headers.js'
export { type SignedWebhookHeaders, type SignOptions, signWebhook } from './sign.js'
export {
  DEFAULT_TOLERANCE_SECONDS,
  type VerifiedSignature,
  type VerifiedWebhook,
  type VerifyOptions,
  verifyWebhook,
  verifyWebhookDetailed,
  verifyWebhookSignature,
  type WebhookScheme,
} from './verify.js'
