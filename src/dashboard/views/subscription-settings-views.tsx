// The subscription page's "Delivery settings" section (docs/subscription-settings.md): its own
// retry schedule, timeout, rate limit and maxInFlight, each empty for the service's setting. A
// plain form (post, then redirect); the core checks the values and names a bad one.
import type { SubscriptionRow } from '../../store/store.ts'
import { type DeliverySettingsIn, presentSettings } from '../../subscriptions/delivery-settings.ts'
import { CsrfField, ErrorBox, type PageCtx } from './layout.tsx'

/** The form's fields as typed (empty: the service's setting). */
export interface SettingsFormValues {
  retrySchedule: string
  timeout: string
  rateLimit: string
  maxInFlight: string
}

export function settingsFormValues(sub: SubscriptionRow): SettingsFormValues {
  const s = presentSettings(sub.settings)
  return {
    retrySchedule: s.retrySchedule?.join(', ') ?? '',
    timeout: s.timeout ?? '',
    rateLimit: s.rateLimit ?? '',
    maxInFlight: s.maxInFlight === null ? '' : String(s.maxInFlight),
  }
}

/** The posted form: each field a short string, missing ones empty. */
export function settingsFormOf(form: Record<string, unknown>): SettingsFormValues {
  const text = (name: string) => {
    const v = Object.hasOwn(form, name) ? form[name] : undefined
    return typeof v === 'string' ? v.trim().slice(0, 2000) : ''
  }
  return {
    retrySchedule: text('retrySchedule'),
    timeout: text('timeout'),
    rateLimit: text('rateLimit'),
    maxInFlight: text('maxInFlight'),
  }
}

/** The form's values as the use case takes them: empty is null (the service's setting). */
export function settingsInputOf(v: SettingsFormValues): DeliverySettingsIn {
  return {
    retrySchedule:
      v.retrySchedule === ''
        ? null
        : v.retrySchedule
            .split(/[\s,]+/)
            .map((d) => d.trim())
            .filter((d) => d !== ''),
    timeout: v.timeout === '' ? null : v.timeout,
    rateLimit: v.rateLimit === '' ? null : v.rateLimit,
    // Not a whole number: NaN, which the core refuses with invalid_max_in_flight.
    maxInFlight:
      v.maxInFlight === '' ? null : /^\d+$/.test(v.maxInFlight) ? Number(v.maxInFlight) : Number.NaN,
  }
}

export function SubscriptionSettingsSection(props: {
  ctx: PageCtx
  sub: SubscriptionRow
  action: string
  values?: SettingsFormValues | undefined
  error?: string | undefined
}) {
  const shown = presentSettings(props.sub.settings)
  const v = props.values ?? settingsFormValues(props.sub)
  const or = (x: string | number | null, fallback: string) => (x === null ? fallback : String(x))
  return (
    <section id="delivery-settings" aria-labelledby="delivery-settings-h" class="card">
      <h2 id="delivery-settings-h">Delivery settings</h2>
      <dl class="facts">
        <dt>Retry schedule</dt>
        <dd>{shown.retrySchedule === null ? "the service's" : shown.retrySchedule.join(', ')}</dd>
        <dt>Timeout</dt>
        <dd>{or(shown.timeout, "the service's")}</dd>
        <dt>Rate limit</dt>
        <dd>{or(shown.rateLimit, 'none')}</dd>
        <dt>Max in flight</dt>
        <dd>{or(shown.maxInFlight, 'no limit')}</dd>
      </dl>
      <details open={props.values !== undefined}>
        <summary>Change delivery settings</summary>
        <ErrorBox text={props.error} />
        <form method="post" action={props.action}>
          <CsrfField ctx={props.ctx} />
          <label for="settings-retry">Retry schedule</label>
          <input
            type="text"
            id="settings-retry"
            name="retrySchedule"
            spellcheck={false}
            placeholder="e.g. 10s, 1m, 1h"
            value={v.retrySchedule}
            aria-describedby="settings-retry-hint"
          />
          <p class="hint" id="settings-retry-hint">
            Delays between attempts, each ±20 %; up to 50, each at most 7d. Empty: the service's schedule.
            Pending deliveries keep their number of attempts and use the new delays from their next retry.
          </p>
          <label for="settings-timeout">Timeout</label>
          <input
            type="text"
            id="settings-timeout"
            name="timeout"
            spellcheck={false}
            placeholder="e.g. 5s"
            value={v.timeout}
            aria-describedby="settings-timeout-hint"
          />
          <p class="hint" id="settings-timeout-hint">
            Total deadline of one attempt. Empty: the service's.
          </p>
          <label for="settings-rate">Rate limit</label>
          <input
            type="text"
            id="settings-rate"
            name="rateLimit"
            spellcheck={false}
            placeholder="e.g. 10/s or 600/m"
            value={v.rateLimit}
            aria-describedby="settings-rate-hint"
          />
          <p class="hint" id="settings-rate-hint">
            Attempts started per second or minute, across all workers. Empty: none.
          </p>
          <label for="settings-inflight">Max in flight</label>
          <input
            type="text"
            inputmode="numeric"
            id="settings-inflight"
            name="maxInFlight"
            placeholder="e.g. 4"
            value={v.maxInFlight}
            aria-describedby="settings-inflight-hint"
          />
          <p class="hint" id="settings-inflight-hint">
            Attempts in flight at once, across all workers (1 to 1000). Empty: no limit.
          </p>
          <div class="actions">
            <button type="submit">Save delivery settings</button>
          </div>
        </form>
      </details>
    </section>
  )
}
