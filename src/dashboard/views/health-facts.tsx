// A subscription's health in facts: success rate, the current run of failures, the last failure
// and success. Shown on the portal's subscription page and the operator's views.
import type { SubscriptionRow } from '../../store/store.ts'
import { successRate } from '../stats.ts'
import { percent, Time } from './layout.tsx'

export function HealthFacts({ sub }: { sub: SubscriptionRow }) {
  const h = sub.health
  return (
    <dl class="facts">
      <dt>Success rate</dt>
      <dd>
        {percent(successRate(h))} ({h.successCount} succeeded, {h.failureCount} failed attempts)
      </dd>
      <dt>Failing since</dt>
      <dd>
        <Time ms={h.failingSince} empty="not failing" />
        {h.consecutiveFailures > 0 ? ` (${h.consecutiveFailures} failures in a row)` : ''}
      </dd>
      <dt>Last failure</dt>
      <dd>
        <Time ms={h.lastFailureAt} empty="never" />
      </dd>
      <dt>Last success</dt>
      <dd>
        <Time ms={h.lastSuccessAt} empty="never" />
      </dd>
    </dl>
  )
}
