// Consumer use cases for subscriptions: one event type + one URL + an active flag, scoped to
// the credential's environment. Another environment's ids are simply not found.
import { findEventType } from '../events/event-types.ts'
import type { SecretBox } from '../secrets/secret-box.ts'
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import { freshHealth, type Store, type SubscriptionRow } from '../store/store.ts'
import { applySettings, type DeliverySettingsIn } from './delivery-settings.ts'
import { type DestinationCheck, type DestinationInput, httpOnly, resolveDestination } from './destination.ts'

export type UrlVerdict =
  | { ok: true; url?: URL }
  | { ok: false; code: 'invalid_url' | 'url_not_allowed'; reason: string }

/** The sending policy at registration time (scheme, userinfo, literal addresses, length). */
export type UrlCheck = (url: string) => UrlVerdict

export interface SubscriptionIn extends DeliverySettingsIn {
  event: string
  /** BaseKit's form: `{ type: "http", url }` (docs/destinations.md). */
  url?: string | undefined
  destination?: DestinationInput | undefined
  active: boolean
  /** Per-key ordering; unchanged on update when absent. */
  ordered?: boolean | undefined
}

export function subscriptions(deps: {
  store: Store
  checkUrl: UrlCheck
  now: () => number
  /** Broker destinations; absent: http only. Needs `box` (their URLs' credentials are sealed). */
  checkDestination?: DestinationCheck | undefined
  box?: SecretBox | undefined
  /** The longest per-subscription timeout (HOOKPOST_SUBSCRIPTION_TIMEOUT_MAX). */
  maxTimeoutMs?: number
}) {
  const { store, checkUrl, now } = deps
  const limits = { maxTimeoutMs: deps.maxTimeoutMs ?? 300_000 }

  /** What to store: the canonical URL and, for a broker, the destination (credentials sealed). */
  function validate(envId: string, input: SubscriptionIn, current?: SubscriptionRow) {
    if (!findEventType(input.event)) {
      throw new AppError('unknown_event_type', {
        message: `"${input.event}" is not in the event catalogue (GET /webhooks/event-types lists it).`,
        details: [{ path: '/event', message: 'unknown event type' }],
      })
    }
    const box = deps.box
    return resolveDestination(
      envId,
      input,
      {
        checkUrl,
        checkDestination: box ? (deps.checkDestination ?? httpOnly) : httpOnly,
        // Only reached with a broker check, which needs the box.
        box: box as SecretBox,
      },
      current?.destination,
    )
  }

  async function get(envId: string, id: string): Promise<SubscriptionRow> {
    const s = await store.subscriptions.get(envId, id)
    if (!s) throw new AppError('subscription_not_found')
    return s
  }

  return {
    list: (envId: string): Promise<SubscriptionRow[]> => store.subscriptions.list(envId),
    get,
    async create(envId: string, input: SubscriptionIn): Promise<SubscriptionRow> {
      const { url, destination } = validate(envId, input)
      const settings = applySettings(undefined, input, limits)
      const t = now()
      const row: SubscriptionRow = {
        id: newId('sub', t),
        envId,
        event: input.event,
        url,
        destination,
        active: input.active,
        ordered: input.ordered ?? false,
        created: t,
        updated: t,
        health: freshHealth,
        deactivatedReason: null,
        settings,
      }
      await store.subscriptions.create(row)
      return row
    },
    async update(envId: string, id: string, input: SubscriptionIn): Promise<SubscriptionRow> {
      const current = await get(envId, id)
      const { url, destination } = validate(envId, input, current)
      const settings = applySettings(current.settings, input, limits)
      const reactivated = input.active && !current.active
      const row: SubscriptionRow = {
        ...current,
        event: input.event,
        url,
        destination,
        active: input.active,
        ordered: input.ordered ?? current.ordered,
        settings,
        updated: now(),
        // Switched back on by hand: a fresh start for the failure clock.
        ...(reactivated
          ? {
              deactivatedReason: null,
              health: { ...current.health, consecutiveFailures: 0, failingSince: null },
            }
          : {}),
      }
      if (!(await store.subscriptions.update(row))) throw new AppError('subscription_not_found')
      return row
    },
    async delete(envId: string, id: string): Promise<void> {
      if (!(await store.subscriptions.delete(envId, id, now()))) throw new AppError('subscription_not_found')
    },
  }
}

export type Subscriptions = ReturnType<typeof subscriptions>
