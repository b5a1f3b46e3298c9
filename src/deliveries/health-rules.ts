// Which attempts speak about the endpoint's health. An attempt that failed before it could reach
// the endpoint through no fault of the endpoint (our own egress proxy) is retried on the schedule
// but neither counts as a failure nor moves the subscription towards deactivation.
import type { AttemptOutcome, SendErrorCode } from './sender.ts'

const notTheEndpoints: ReadonlySet<SendErrorCode> = new Set(['proxy_error'])

export function countsForHealth(outcome: AttemptOutcome): boolean {
  return !(outcome.kind === 'error' && notTheEndpoints.has(outcome.code))
}
