// Consumer use cases for subscriptions: one event type + one URL + an active flag, scoped to
// the credential's environment. Another environment's ids are simply not found.
import { findEventType } from '../events/event-types.ts'
import type { SecretBox } from '../secrets/secret-box.ts'
import { AppError } from '../shared/errors.ts'
import { newId } from '../shared/ids.ts'
import { freshHealth, type Store, type SubscriptionRow } from '../store/store.ts'
import { applySettings, type DeliverySettingsIn } from './delivery-settings.ts'
import { type DestinationCheck, type DestinationInput, httpOnly, resolveDestination } from './destination.ts'
import { buildEndpoint, type EndpointInput } from './endpoint-auth.ts'
import { startVerification } from './endpoint-verification.ts'
import { compileFilter } from './filter.ts'
import { isHeld } from './hold.ts'
import { checkTransformation, type Transformer } from './transformation.ts'

export type UrlVerdict =
  | { ok: true; url?: URL }
  | { ok: false; code: 'invalid_url' | 'url_not_allowed'; reason: string }

/** The sending policy at registration time (scheme, userinfo, literal addresses, length). */
export type UrlCheck = (url: string) => UrlVerdict

export interface SubscriptionIn extends EndpointInput, DeliverySettingsIn {
  event: string
  /** BaseKit's form: `{ type: "http", url }` (docs/destinations.md). */
  url?: string | undefined
  /** null or absent: `url` (an http destination). */
  destination?: DestinationInput | null | undefined
  active: boolean
  /** Per-key ordering; unchanged on update when absent. */
  ordered?: boolean | undefined
  /** JavaScript run before each attempt (docs/transformations.md); null removes it, absent keeps it. */
  transformation?: { code: string } | null | undefined
  /** A payload filter (filter.ts); null removes it; unchanged on update when absent. */
  filter?: unknown
  /** Stop sending, keep creating deliveries; unchanged on update when absent. */
  paused?: boolean | undefined
}

export interface SubscriptionDeps {
  store: Store
  checkUrl: UrlCheck
  now: () => number
  /** Broker destinations; absent: http only. Needs `box` (their URLs' credentials are sealed). */
  checkDestination?: DestinationCheck | undefined
  box?: SecretBox
  /** The longest per-subscription timeout (HOOKPOST_SUBSCRIPTION_TIMEOUT_MAX). */
  maxTimeoutMs?: number
  /** The sandbox that checks a transformation when it is saved (src/transformations/). */
  transformer?: Transformer | undefined
  /** HOOKPOST_VERIFY_ENDPOINTS: a new URL must echo a challenge before anything is sent to it. */
  verifyEndpoints?: boolean
  /** Told when a verification was started (wakes an in-process verifier). */
  onVerify?: () => void
  /** Told after a subscription was changed or deleted (an in-process worker lets go of what it holds of it). */
  onChanged?: (id: string) => void
}

/** Verification applies to HTTP endpoints only (a broker destination has no one to echo). */
const isHttp = (url: string) => /^https?:\/\//i.test(url)

/** The filter's JSON text to store: checked (400 invalid_filter), null for none. */
function filterText(filter: unknown): string | null {
  if (filter === null || filter === undefined) return null
  compileFilter(filter)
  return JSON.stringify(filter)
}

export function subscriptions(deps: SubscriptionDeps) {
  const { store, checkUrl, now } = deps
  const limits = { maxTimeoutMs: deps.maxTimeoutMs ?? 300_000 }
  const verifyEndpoints = deps.verifyEndpoints ?? false

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

  /** Endpoint auth and static headers are HTTP's: a broker takes its credentials from its URL. */
  function refuseEndpointOnBroker(row: SubscriptionRow): void {
    if (!row.destination || !row.endpoint) return
    const path = row.endpoint.auth ? '/auth' : '/headers'
    throw new AppError('invalid_destination', {
      message:
        'auth and headers apply to HTTP endpoints only; a broker destination authenticates with the credentials in its URL',
      details: [{ path, message: 'not allowed with a broker destination' }],
    })
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
      const transformation = await transformationOf(input, null)
      const filter = filterText(input.filter)
      const t = now()
      const id = newId('sub', t)
      const row: SubscriptionRow = {
        id,
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
        endpoint: endpoint(input, envId, id, undefined, t),
        settings,
        transformation,
        filter,
        paused: input.paused ?? false,
        verification: verifyEndpoints && isHttp(url) ? startVerification(t) : null,
      }
      refuseEndpointOnBroker(row)
      row.held = isHeld(row)
      await store.subscriptions.create(row)
      if (row.verification) deps.onVerify?.()
      return row
    },
    async update(envId: string, id: string, input: SubscriptionIn): Promise<SubscriptionRow> {
      const current = await get(envId, id)
      const { url, destination } = validate(envId, input, current)
      const settings = applySettings(current.settings, input, limits)
      const transformation = await transformationOf(input, current.transformation ?? null)
      const filter = input.filter === undefined ? (current.filter ?? null) : filterText(input.filter)
      const reactivated = input.active && !current.active
      const t = now()
      // A new URL is a new endpoint: verified again (or, with verification off, not at all).
      const verification =
        url === current.url
          ? (current.verification ?? null)
          : verifyEndpoints && isHttp(url)
            ? startVerification(t)
            : null
      const row: SubscriptionRow = {
        ...current,
        event: input.event,
        url,
        destination,
        active: input.active,
        ordered: input.ordered ?? current.ordered,
        endpoint: endpoint(input, envId, id, current, now()),
        settings,
        transformation,
        updated: t,
        filter,
        paused: input.paused ?? current.paused ?? false,
        verification,
        // Switched back on by hand: a fresh start for the failure clock.
        ...(reactivated
          ? {
              deactivatedReason: null,
              health: { ...current.health, consecutiveFailures: 0, failingSince: null },
            }
          : {}),
      }
      refuseEndpointOnBroker(row)
      row.held = isHeld(row)
      if (!(await store.subscriptions.update(row))) throw new AppError('subscription_not_found')
      deps.onChanged?.(id)
      if (verification !== current.verification && verification) deps.onVerify?.()
      return row
    },
    /** Pause (`true`) or resume: a resumed subscription's waiting deliveries go out oldest first. */
    async setPaused(envId: string, id: string, paused: boolean): Promise<SubscriptionRow> {
      const current = await get(envId, id)
      const row: SubscriptionRow = { ...current, paused, updated: now() }
      refuseEndpointOnBroker(row)
      row.held = isHeld(row)
      if (!(await store.subscriptions.update(row))) throw new AppError('subscription_not_found')
      deps.onChanged?.(id)
      return row
    },
    /**
     * Sends the endpoint a new challenge: the subscription is held (its deliveries wait) until
     * the endpoint echoes it. Works whether HOOKPOST_VERIFY_ENDPOINTS is on or off.
     */
    async verify(envId: string, id: string): Promise<SubscriptionRow> {
      const current = await get(envId, id)
      if (!isHttp(current.url)) {
        throw new AppError('invalid_request', {
          message: 'Only an HTTP endpoint can be verified.',
          details: [{ path: '/url', message: 'not an http(s) URL' }],
        })
      }
      const t = now()
      const row: SubscriptionRow = { ...current, verification: startVerification(t), updated: t }
      refuseEndpointOnBroker(row)
      row.held = isHeld(row)
      if (!(await store.subscriptions.update(row))) throw new AppError('subscription_not_found')
      deps.onChanged?.(id)
      deps.onVerify?.()
      return row
    },
    /** Whether a filter matches a payload (the portal's "does this example match"); sends nothing. */
    testFilter(filter: unknown, payload: unknown): { matches: boolean } {
      return { matches: filter === null || filter === undefined ? true : compileFilter(filter)(payload) }
    },
    async delete(envId: string, id: string): Promise<void> {
      if (!(await store.subscriptions.delete(envId, id, now()))) throw new AppError('subscription_not_found')
      deps.onChanged?.(id)
    },
  }
}

export type Subscriptions = ReturnType<typeof subscriptions>
