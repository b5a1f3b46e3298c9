// What a recorded attempt means beyond its delivery: the subscription's health, whether the
// subscription is deactivated, and which operational events are emitted. The store applies
// these rules inside the completion's transaction (it persists; this module decides).
import type {
  Completion,
  CompletionRules,
  HealthBefore,
  HealthVerdict,
  OperationalEventType,
} from '../store/store.ts'
import type { AttemptOutcome, SendErrorCode } from './sender.ts'

// An attempt that failed before it could reach the endpoint through no fault of the endpoint
// (our own egress proxy) is retried on the schedule but neither counts as a failure nor moves
// the subscription towards deactivation.
const notTheEndpoints: ReadonlySet<SendErrorCode> = new Set(['proxy_error'])

/** Whether an attempt speaks about the endpoint's health. */
export function countsForHealth(outcome: AttemptOutcome): boolean {
  return !(outcome.kind === 'error' && notTheEndpoints.has(outcome.code))
}

/**
 * The rules a completion applies: a success ends a run of failures; a subscription that answered
 * 410 Gone, or has failed without a success for `disableAfterMs`, is deactivated (if active).
 */
export function completionRules(opts: { disableAfterMs: number }): CompletionRules {
  return {
    settle(before: HealthBefore, results, gone, now): HealthVerdict {
      let { consecutiveFailures, failingSince, lastSuccessAt, lastFailureAt } = before
      let successes = 0
      let failures = 0
      for (const x of results) {
        if (x.ok) {
          successes++
          consecutiveFailures = 0
          failingSince = null
          lastSuccessAt = Math.max(lastSuccessAt ?? 0, x.at)
        } else {
          failures++
          consecutiveFailures++
          failingSince ??= x.at
          lastFailureAt = Math.max(lastFailureAt ?? 0, x.at)
        }
      }
      const failingTooLong = failingSince !== null && now - failingSince >= opts.disableAfterMs
      const deactivate = before.active && (gone || failingTooLong) ? (gone ? 'gone' : 'failing') : null
      return {
        consecutiveFailures,
        failingSince,
        lastSuccessAt,
        lastFailureAt,
        successes,
        failures,
        deactivate,
      }
    },
    deliveryEnded(outcome: Completion, d) {
      if (outcome.kind !== 'failed' && outcome.kind !== 'gone') return null
      return {
        type: 'delivery.failed' satisfies OperationalEventType,
        data: {
          deliveryId: d.id,
          subscriptionId: d.subscriptionId,
          eventId: d.eventId,
          attempts: d.attempts,
          lastStatusCode: d.statusCode,
          lastError: d.error,
        },
      }
    },
    deactivated(subscriptionId, verdict) {
      return {
        type: 'subscription.deactivated' satisfies OperationalEventType,
        data: {
          subscriptionId,
          reason: verdict.deactivate,
          failingSince: verdict.failingSince,
          consecutiveFailures: verdict.consecutiveFailures,
        },
      }
    },
  }
}
