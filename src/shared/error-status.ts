// The one map from error kinds to HTTP statuses, shared by the API's error bodies
// (src/http/error-response.ts) and the dashboard's error pages, so that neither imports the other.
import type { ErrorKind } from './errors.ts'

export const statusOfKind: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media: 415,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
}
