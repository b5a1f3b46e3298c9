// The consumer portal (/dashboard/portal/*): one environment, the signed-in one. Every read and
// write goes through the same use cases as /webhooks/*, with the session's environment, so
// another environment's ids are simply not found (404).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { statusOfKind } from '../shared/error-status.ts'
import { AppError } from '../shared/errors.ts'
import type { EnvironmentRow, SubscriptionRow } from '../store/store.ts'
import { presentDestination } from '../subscriptions/destination.ts'
import { endpointInputOf } from './endpoint-auth-form.ts'
import { controlNotices, subscriptionControlPages } from './subscription-control-pages.tsx'
import { transformationRoutes } from './transformation-routes.tsx'
import { DeliveriesPage } from './views/deliveries-page.tsx'
import { DeliveryPage } from './views/delivery-page.tsx'
import { destinationFromForm } from './views/destination-fields.tsx'
import { EventTypesPage } from './views/event-types-page.tsx'
import { render } from './views/layout.tsx'
import { NewSubscriptionPage } from './views/new-subscription-page.tsx'
import { replayPresets } from './views/replay-section.tsx'
import { SigningKeysSection } from './views/signing-key-views.tsx'
import { SigningSecretPage } from './views/signing-secret-page.tsx'
import { SubscriptionPage } from './views/subscription-page.tsx'
import {
  type SettingsFormValues,
  settingsFormOf,
  settingsInputOf,
} from './views/subscription-settings-views.tsx'
import { SubscriptionsPage } from './views/subscriptions-page.tsx'
import type { TransformationView } from './views/transformation-editor.tsx'
import {
  type DashDeps,
  type Form,
  field,
  formOf,
  isId,
  mustState,
  pageCtx,
  queryOf,
  seeOther,
  sendHtml,
} from './web.ts'

const base = '/dashboard/portal'
const recentCount = 10
const logPageSize = 50

const notices: Record<string, string> = {
  created: 'Subscription created.',
  saved: 'Changes saved.',
  'auth-saved': 'Endpoint authentication saved.',
  activated: 'Subscription activated.',
  deactivated: 'Subscription deactivated; its pending deliveries were cancelled.',
  deleted: 'Subscription deleted; its pending deliveries were cancelled.',
  'replay-started': 'Replay started: the matching deliveries go out again.',
  'replay-cancelled': 'Replay cancelled.',
  retried: 'Retry queued: one more attempt now.',
  'key-created': 'Signing key created: deliveries now carry its v1a signature too.',
  'key-deleted': 'Signing key deleted: deliveries no longer carry its signature.',
  ...controlNotices,
}

const noticeOf = (req: FastifyRequest) => {
  const n = queryOf(req, 'notice', 40)
  return n !== undefined && Object.hasOwn(notices, n) ? notices[n] : undefined
}

/** The consumer's environment; the preHandler below guarantees it. */
function envOf(req: FastifyRequest): EnvironmentRow {
  const p = mustState(req).principal
  if (p.kind !== 'consumer') throw new AppError('unauthorized')
  return p.env
}

/** Expected refusals from a use case (bad URL, not retryable…) are shown on the page; the rest is thrown. */
function refusal(e: unknown): { message: string; status: number } {
  if (e instanceof AppError && e.kind !== 'internal' && e.kind !== 'unavailable') {
    return { message: e.message, status: statusOfKind[e.kind] }
  }
  throw e
}

/**
 * The replay form's range: a preset (ending now) or, with range=custom (or no range: an older
 * form), the two datetime fields. Dates given beside a preset are refused rather than ignored.
 */
function replayRange(f: Form, now: number): { since: string; until: string | undefined } {
  const range = field(f, 'range', 20) ?? 'custom'
  const since = utcInput(field(f, 'since', 40))
  const until = utcInput(field(f, 'until', 40))
  if (range === 'custom') {
    if (since === undefined)
      throw new AppError('invalid_request', { message: 'Choose when the range starts.' })
    return { since, until }
  }
  const preset = replayPresets.find(([value]) => value === range)
  if (!preset) throw new AppError('invalid_request', { message: 'Choose a time range.' })
  if (since !== undefined || until !== undefined) {
    throw new AppError('invalid_request', {
      message: 'Dates are used with "Custom range" only: choose it, or clear the dates.',
    })
  }
  return { since: new Date(now - preset[2]).toISOString(), until: new Date(now).toISOString() }
}

/** "2026-01-02T03:04" or "…:05" from <input type=datetime-local>, read as UTC. */
function utcInput(v: string | undefined): string | undefined {
  if (v === undefined) return undefined
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(v)) return v
  return `${v}Z`
}

export const portalPages: FastifyPluginAsync<{ deps: DashDeps }> = async (app, { deps }) => {
  const { hookpost } = deps
  const types = hookpost.eventTypes

  app.addHook('preHandler', async (req, reply) => {
    const p = mustState(req).principal
    if (p.kind === 'consumer') return
    if (p.kind === 'operator') {
      throw new AppError('forbidden_role', {
        message: 'The consumer portal needs a consumer credential or a portal link; operators can issue one.',
      })
    }
    if (req.headers['hx-request']) return reply.status(401).header('hx-redirect', '/dashboard/login').send()
    return seeOther(reply, '/dashboard/login')
  })

  app.get('/', async (_req, reply) => seeOther(reply, `${base}/subscriptions`))

  // Subscriptions

  app.get('/subscriptions', async (req, reply) => {
    const env = envOf(req)
    const subs = await hookpost.subscriptions.list(env.id)
    return sendHtml(
      reply,
      render(
        <SubscriptionsPage ctx={pageCtx(deps, req, 'subscriptions')} subs={subs} notice={noticeOf(req)} />,
      ),
    )
  })

  app.get('/subscriptions/new', async (req, reply) => {
    const event = queryOf(req, 'event')
    return sendHtml(
      reply,
      render(
        <NewSubscriptionPage
          ctx={pageCtx(deps, req)}
          types={types}
          destinationTypes={hookpost.destinationTypes}
          values={{
            event: types.some((t) => t.name === event) ? event : undefined,
            active: true,
            ordered: false,
          }}
        />,
      ),
    )
  })

  const valuesOf = (req: FastifyRequest) => {
    const f = formOf(req)
    return {
      event: field(f, 'event', 200) ?? '',
      // `url` for http, a `destination` for a broker (views/destination-fields.tsx).
      ...destinationFromForm(f, hookpost.destinationTypes),
      active: f['active'] === 'true',
      ordered: f['ordered'] === 'true',
    }
  }

  app.post('/subscriptions', async (req, reply) => {
    const env = envOf(req)
    const values = valuesOf(req)
    try {
      const sub = await hookpost.subscriptions.create(env.id, values)
      return seeOther(reply, `${base}/subscriptions/${sub.id}?notice=created`)
    } catch (e) {
      const r = refusal(e)
      return sendHtml(
        reply,
        render(
          <NewSubscriptionPage
            ctx={pageCtx(deps, req)}
            types={types}
            destinationTypes={hookpost.destinationTypes}
            values={values}
            error={r.message}
          />,
        ),
        r.status,
      )
    }
  })

  type SubParams = { Params: { id: string } }

  async function subscriptionPage(
    req: FastifyRequest,
    reply: FastifyReply,
    sub: SubscriptionRow,
    extra: {
      status?: number
      error?: string
      edit?: ReturnType<typeof valuesOf>
      activityError?: string
      replayError?: string
      authError?: string
      settings?: { values: SettingsFormValues; error: string }
      transformation?: TransformationView
    } = {},
  ) {
    const env = envOf(req)
    const [recent, replays] = await Promise.all([
      hookpost.deliveries.list(env.id, { subscriptionId: sub.id, limit: recentCount }),
      hookpost.replays.list(env.id, sub.id),
    ])
    const sent = queryOf(req, 'sent', 100)
    return sendHtml(
      reply,
      render(
        <SubscriptionPage
          ctx={pageCtx(deps, req)}
          types={types}
          destinationTypes={hookpost.destinationTypes}
          sub={sub}
          recent={recent.deliveries}
          replays={replays.slice(0, 10)}
          notice={noticeOf(req)}
          error={extra.error}
          edit={extra.edit}
          sentDeliveryId={isId(sent, 'dlv') ? sent : undefined}
          activityError={extra.activityError}
          replayError={extra.replayError}
          authError={extra.authError}
          settings={extra.settings}
          transformation={extra.transformation}
        />,
      ),
      extra.status ?? 200,
    )
  }

  app.get<SubParams>('/subscriptions/:id', async (req, reply) => {
    const sub = await hookpost.subscriptions.get(envOf(req).id, req.params.id)
    return subscriptionPage(req, reply, sub)
  })

  app.post<SubParams>('/subscriptions/:id', async (req, reply) => {
    const env = envOf(req)
    const values = valuesOf(req)
    const current = await hookpost.subscriptions.get(env.id, req.params.id)
    try {
      await hookpost.subscriptions.update(env.id, current.id, values)
      return seeOther(reply, `${base}/subscriptions/${current.id}?notice=saved`)
    } catch (e) {
      const r = refusal(e)
      return subscriptionPage(req, reply, current, { status: r.status, error: r.message, edit: values })
    }
  })

  subscriptionControlPages(app, deps, { base, envOf, refusal, page: subscriptionPage })
  // Endpoint authentication and static headers (views/endpoint-auth-views.tsx).
  app.post<SubParams>('/subscriptions/:id/auth', async (req, reply) => {
    const env = envOf(req)
    const current = await hookpost.subscriptions.get(env.id, req.params.id)
    try {
      const { event, url, active, ordered } = current
      await hookpost.subscriptions.update(env.id, current.id, {
        event,
        url,
        active,
        ordered,
        ...endpointInputOf(formOf(req)),
      })
      return seeOther(reply, `${base}/subscriptions/${current.id}?notice=auth-saved`)
    } catch (e) {
      const r = refusal(e)
      return subscriptionPage(req, reply, current, { status: r.status, authError: r.message })
    }
  })

  // Delivery settings (docs/subscription-settings.md): the other fields stay as they are.
  app.post<SubParams>('/subscriptions/:id/settings', async (req, reply) => {
    const env = envOf(req)
    const sub = await hookpost.subscriptions.get(env.id, req.params.id)
    const values = settingsFormOf(formOf(req))
    try {
      const { event, active, ordered } = sub
      await hookpost.subscriptions.update(env.id, sub.id, {
        event,
        // A broker destination is sent back as shown: its stored password stays.
        ...(sub.destination ? { destination: presentDestination(sub) } : { url: sub.url }),
        active,
        ordered,
        ...settingsInputOf(values),
      })
      return seeOther(reply, `${base}/subscriptions/${sub.id}?notice=saved`)
    } catch (e) {
      const r = refusal(e)
      return subscriptionPage(req, reply, sub, { status: r.status, settings: { values, error: r.message } })
    }
  })

  transformationRoutes(app, { hookpost, base, envId: (r) => envOf(r).id, page: subscriptionPage, refusal })

  app.post<SubParams>('/subscriptions/:id/toggle', async (req, reply) => {
    const env = envOf(req)
    const sub = await hookpost.subscriptions.get(env.id, req.params.id)
    try {
      const next = {
        event: sub.event,
        ...(sub.destination ? { destination: presentDestination(sub) } : { url: sub.url }),
        active: !sub.active,
        ordered: sub.ordered,
      }
      await hookpost.subscriptions.update(env.id, sub.id, next)
      return seeOther(
        reply,
        `${base}/subscriptions/${sub.id}?notice=${next.active ? 'activated' : 'deactivated'}`,
      )
    } catch (e) {
      const r = refusal(e)
      return subscriptionPage(req, reply, sub, { status: r.status, error: r.message })
    }
  })

  app.post<SubParams>('/subscriptions/:id/delete', async (req, reply) => {
    await hookpost.subscriptions.delete(envOf(req).id, req.params.id)
    const to = `${base}/subscriptions?notice=deleted`
    // htmx: a full navigation to the list, not a swap of the form.
    if (req.headers['hx-request']) return reply.status(204).header('hx-redirect', to).send()
    return seeOther(reply, to)
  })

  app.post<SubParams>('/subscriptions/:id/test', async (req, reply) => {
    const env = envOf(req)
    const sub = await hookpost.subscriptions.get(env.id, req.params.id)
    try {
      const r = await hookpost.testDeliveries.send(env.id, sub.id)
      return seeOther(reply, `${base}/subscriptions/${sub.id}?sent=${encodeURIComponent(r.deliveryId)}`)
    } catch (e) {
      const r = refusal(e)
      return subscriptionPage(req, reply, sub, { status: r.status, activityError: r.message })
    }
  })

  app.post<SubParams>('/subscriptions/:id/replay', async (req, reply) => {
    const env = envOf(req)
    const sub = await hookpost.subscriptions.get(env.id, req.params.id)
    const status = field(formOf(req), 'status', 20)
    try {
      await hookpost.replays.start(env.id, sub.id, { ...replayRange(formOf(req), deps.now()), status })
      return seeOther(reply, `${base}/subscriptions/${sub.id}?notice=replay-started`)
    } catch (e) {
      const r = refusal(e)
      return subscriptionPage(req, reply, sub, { status: r.status, replayError: r.message })
    }
  })

  app.post<SubParams>('/replays/:id/cancel', async (req, reply) => {
    const job = await hookpost.replays.cancel(envOf(req).id, req.params.id)
    return seeOther(reply, `${base}/subscriptions/${job.subscriptionId}?notice=replay-cancelled`)
  })

  // The event catalogue

  app.get('/event-types', async (req, reply) =>
    sendHtml(reply, render(<EventTypesPage ctx={pageCtx(deps, req)} types={types} />)),
  )

  // The delivery log

  app.get('/deliveries', async (req, reply) => {
    const env = envOf(req)
    const status = queryOf(req, 'status', 20)
    const subscriptionId = queryOf(req, 'subscriptionId', 100)
    const cursor = queryOf(req, 'cursor', 400)
    const subs = await hookpost.subscriptions.list(env.id)
    const self = new URLSearchParams()
    if (status) self.set('status', status)
    if (subscriptionId) self.set('subscriptionId', subscriptionId)
    if (cursor) self.set('cursor', cursor)
    const selfUrl = `${base}/deliveries${self.size > 0 ? `?${self.toString()}` : ''}`
    let page: {
      deliveries: Awaited<ReturnType<typeof hookpost.deliveries.list>>['deliveries']
      nextCursor: string | null
    }
    let error: string | undefined
    let code = 200
    try {
      page = await hookpost.deliveries.list(env.id, { status, subscriptionId, cursor, limit: logPageSize })
    } catch (e) {
      const r = refusal(e)
      page = { deliveries: [], nextCursor: null }
      error = r.message
      code = r.status
    }
    return sendHtml(
      reply,
      render(
        <DeliveriesPage
          ctx={pageCtx(deps, req)}
          rows={page.deliveries}
          subs={subs}
          status={status}
          subscriptionId={subscriptionId}
          nextCursor={page.nextCursor}
          self={selfUrl}
          error={error}
        />,
      ),
      code,
    )
  })

  const deliveryPage = async (
    req: FastifyRequest<SubParams>,
    reply: FastifyReply,
    extra: { status?: number; error?: string } = {},
  ) => {
    const env = envOf(req)
    const [r, payload] = await Promise.all([
      hookpost.deliveries.get(env.id, req.params.id),
      hookpost.deliveries.payload(env.id, req.params.id),
    ])
    return sendHtml(
      reply,
      render(
        <DeliveryPage
          ctx={pageCtx(deps, req)}
          delivery={r.delivery}
          attempts={r.attempts}
          payload={payload}
          self={`${base}/deliveries/${r.delivery.id}`}
          notice={noticeOf(req)}
          error={extra.error}
        />,
      ),
      extra.status ?? 200,
    )
  }

  app.get<SubParams>('/deliveries/:id', async (req, reply) => deliveryPage(req, reply))

  app.post<SubParams>('/deliveries/:id/retry', async (req, reply) => {
    try {
      const d = await hookpost.deliveries.retry(envOf(req).id, req.params.id)
      return seeOther(reply, `${base}/deliveries/${d.id}?notice=retried`)
    } catch (e) {
      if (e instanceof AppError && e.code === 'delivery_not_found') throw e
      const r = refusal(e)
      return deliveryPage(req, reply, { status: r.status, error: r.message })
    }
  })

  // The signing secret

  const secretPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    extra: {
      rotated?: { secret: string; previousExpires: number | null }
      error?: string
      status?: number
    } = {},
  ) => {
    const keys = await hookpost.signingKeys.list(envOf(req).id)
    return sendHtml(
      reply,
      render(
        <SigningSecretPage ctx={pageCtx(deps, req)} rotated={extra.rotated}>
          <SigningKeysSection
            ctx={pageCtx(deps, req)}
            keys={keys}
            notice={noticeOf(req)}
            error={extra.error}
          />
        </SigningSecretPage>,
      ),
      extra.status ?? 200,
    )
  }

  app.get('/signing-secret', async (req, reply) => secretPage(req, reply))

  app.post('/signing-secret', async (req, reply) => {
    const r = await hookpost.secrets.rotate(envOf(req).id)
    return secretPage(req, reply, { rotated: { secret: r.secret, previousExpires: r.previousExpires } })
  })

  // Ed25519 signing keys (shown on the signing secret page)

  app.post('/signing-keys', async (req, reply) => {
    try {
      await hookpost.signingKeys.create(envOf(req).id)
    } catch (e) {
      const r = refusal(e)
      return secretPage(req, reply, { status: r.status, error: r.message })
    }
    return seeOther(reply, `${base}/signing-secret?notice=key-created#signing-keys`)
  })

  app.post<SubParams>('/signing-keys/:id/delete', async (req, reply) => {
    await hookpost.signingKeys.delete(envOf(req).id, req.params.id)
    return seeOther(reply, `${base}/signing-secret?notice=key-deleted#signing-keys`)
  })
}
