// Consumer use cases for subscriptions: one event type + one URL + an active flag, scoped to
// the credential's environment. Another environment's ids are simply not found.
import { findEventType } from '../events/event-types.ts'
import type { SecretBox } from '../secrets/secret-box.ts'
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import { freshHealth, type Store, type SubscriptionRow } from '../store/store.ts'
import { applySettings, type DeliverySettingsIn } from './delivery-settings.ts'
import { buildEndpoint, type EndpointInput } from './endpoint-auth.ts'
import { checkTransformation, type Transformer } from './transformation.ts'

export type UrlVerdict =
  | { ok: true; url?: URL }
  | { ok: false; code: 'invalid_url' | 'url_not_allowed'; reason: string }

/** The sending policy at registration time (scheme, userinfo, literal addresses, length). */
export type UrlCheck = (url: string) => UrlVerdict

export interface SubscriptionIn extends EndpointInput, DeliverySettingsIn {
  event: string
  url: string
  active: boolean
  /** Per-key ordering; unchanged on update when absent. */
  ordered?: boolean | undefined
  /** JavaScript run before each attempt (docs/transformations.md); null removes it, absent keeps it. */
  transformation?: { code: string } | null | undefined
}

export function subscriptions(deps: {
  store: Store
  checkUrl: UrlCheck
  now: () => number
  box?: SecretBox
  /** The longest per-subscription timeout (HOOKPOST_SUBSCRIPTION_TIMEOUT_MAX). */
  maxTimeoutMs?: number
  transformer?: Transformer | undefined
}) {
  const { store, checkUrl, now } = deps
  const limits = { maxTimeoutMs: deps.maxTimeoutMs ?? 300_000 }

  /** The transformation to store: checked when given, null to remove, the current one when absent. */
  async function transformationOf(input: SubscriptionIn, current: string | null): Promise<string | null> {
    if (input.transformation === undefined) return current
    if (input.transformation === null) return null
    return checkTransformation(deps.transformer, input.transformation.code)
  }

  /** Endpoint auth and headers (src/subscriptions/endpoint-auth.ts): sealing needs the secret box. */
  function endpoint(
    input: SubscriptionIn,
    envId: string,
    id: string,
    current: SubscriptionRow | undefined,
    t: number,
  ) {
    if (input.auth === undefined && input.headers === undefined) return current?.endpoint ?? null
    if (!deps.box) throw new Error('endpoint authentication needs the secret box')
    return buildEndpoint(input, current?.endpoint, {
      box: deps.box,
      envId,
      subscriptionId: id,
      checkUrl,
      now: t,
    })
  }

  /** Returns the URL to store: the canonical form when the policy gives one. */
  function validate(input: SubscriptionIn): string {
    if (!findEventType(input.event)) {
      throw new AppError('unknown_event_type', {
        message: `"${input.event}" is not in the event catalogue (GET /webhooks/event-types lists it).`,
        details: [{ path: '/event', message: 'unknown event type' }],
      })
    }
    const v = checkUrl(input.url)
    if (!v.ok)
      throw new AppError(v.code, { message: v.reason, details: [{ path: '/url', message: v.reason }] })
    return v.url?.href ?? input.url
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
      const url = validate(input)
      const settings = applySettings(undefined, input, limits)
      const transformation = await transformationOf(input, null)
      const t = now()
      const id = newId('sub', t)
      const row: SubscriptionRow = {
        id,
        envId,
        event: input.event,
        url,
        active: input.active,
        ordered: input.ordered ?? false,
        created: t,
        updated: t,
        health: freshHealth,
        deactivatedReason: null,
        endpoint: endpoint(input, envId, id, undefined, t),
        settings,
        transformation,
      }
      await store.subscriptions.create(row)
      return row
    },
    async update(envId: string, id: string, input: SubscriptionIn): Promise<SubscriptionRow> {
      const current = await get(envId, id)
      const url = validate(input)
      const settings = applySettings(current.settings, input, limits)
      const transformation = await transformationOf(input, current.transformation ?? null)
      const reactivated = input.active && !current.active
      const row: SubscriptionRow = {
        ...current,
        event: input.event,
        url,
        active: input.active,
        ordered: input.ordered ?? current.ordered,
        endpoint: endpoint(input, envId, id, current, now()),
        settings,
        transformation,
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
