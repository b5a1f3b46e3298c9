// The portal's routes for pausing, resuming, verifying a subscription's endpoint and editing
// its filter (views/subscription-controls.tsx). Registered inside the portal's scope, so its
// sign-in check and CSRF apply; every change goes through the subscriptions use cases.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError } from '../shared/errors.ts'
import type { EnvironmentRow, SubscriptionRow } from '../store/store.ts'
import { render } from './views/layout.tsx'
import { FilterCheck, FilterCheckPage } from './views/subscription-controls.tsx'
import { type DashDeps, field, formOf, pageCtx, seeOther, sendHtml } from './web.ts'

type SubParams = { Params: { id: string } }

export interface PortalHelpers {
  base: string
  envOf(req: FastifyRequest): EnvironmentRow
  refusal(e: unknown): { message: string; status: number }
  page(
    req: FastifyRequest,
    reply: FastifyReply,
    sub: SubscriptionRow,
    extra: { status: number; error: string },
  ): Promise<FastifyReply>
}

/** Notices the routes below redirect with (`?notice=`). */
export const controlNotices: Record<string, string> = {
  paused: 'Paused: deliveries are kept pending and none is sent until you resume.',
  resumed: 'Resumed: the deliveries kept while paused go out, oldest first.',
  'verification-started': 'Challenge sent: deliveries wait until the endpoint echoes it.',
  'filter-saved': 'Filter saved.',
}

/** JSON from a form field; empty: null. Bad JSON is the filter's fault (400 invalid_filter). */
function jsonField(value: string | undefined, path: string): unknown {
  if (value === undefined) return null
  try {
    return JSON.parse(value)
  } catch {
    throw new AppError('invalid_filter', {
      message: `${path === '/filter' ? 'The filter' : 'The example payload'} is not valid JSON.`,
      details: [{ path, message: 'not valid JSON' }],
    })
  }
}

export function subscriptionControlPages(app: FastifyInstance, deps: DashDeps, h: PortalHelpers): void {
  const subs = deps.hookpost.subscriptions
  const self = (id: string) => `${h.base}/subscriptions/${id}`

  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.post<SubParams>(`/subscriptions/:id/${action}`, async (req, reply) => {
      const sub = await subs.setPaused(h.envOf(req).id, req.params.id, paused)
      return seeOther(reply, `${self(sub.id)}?notice=${paused ? 'paused' : 'resumed'}#controls`)
    })
  }

  app.post<SubParams>('/subscriptions/:id/verify', async (req, reply) => {
    const sub = await subs.verify(h.envOf(req).id, req.params.id)
    return seeOther(reply, `${self(sub.id)}?notice=verification-started#controls`)
  })

  app.post<SubParams>('/subscriptions/:id/filter', async (req, reply) => {
    const env = h.envOf(req)
    const sub = await subs.get(env.id, req.params.id)
    try {
      const filter = jsonField(field(formOf(req), 'filter', 64 * 1024), '/filter')
      await subs.update(env.id, sub.id, {
        event: sub.event,
        url: sub.url,
        active: sub.active,
        ordered: sub.ordered,
        filter,
      })
      return seeOther(reply, `${self(sub.id)}?notice=filter-saved#controls`)
    } catch (e) {
      const r = h.refusal(e)
      return h.page(req, reply, sub, { status: r.status, error: r.message })
    }
  })

  app.post<SubParams>('/subscriptions/:id/filter/check', async (req, reply) => {
    const sub = await subs.get(h.envOf(req).id, req.params.id)
    const f = formOf(req)
    let answer: { matches?: boolean; error?: string }
    try {
      const filter = jsonField(field(f, 'filter', 64 * 1024), '/filter')
      const payload = jsonField(field(f, 'payload', 1024 * 1024), '/payload')
      answer = subs.testFilter(filter, payload)
    } catch (e) {
      answer = { error: h.refusal(e).message }
    }
    if (req.headers['hx-request']) return sendHtml(reply, render(<FilterCheck {...answer} />))
    return sendHtml(
      reply,
      render(<FilterCheckPage ctx={pageCtx(deps, req)} back={`${self(sub.id)}#controls`} {...answer} />),
    )
  })
}
