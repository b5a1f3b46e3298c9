// The portal's transformation actions on a subscription: save the code, and a test run that
// renders the subscription page with its result (htmx swaps the result in). Both go through the
// same use cases as PUT /webhooks/subscription/{id} and POST …/transformation/test.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Hookpost } from '../hookpost.ts'
import type { SubscriptionRow } from '../store/store.ts'
import type { TransformationView } from './views/transformation-editor.tsx'
import { formOf, seeOther } from './web.ts'

type Page = (
  req: FastifyRequest,
  reply: FastifyReply,
  sub: SubscriptionRow,
  extra: { status?: number; transformation?: TransformationView },
) => Promise<unknown>

/** The code as typed: undefined when the field is absent or blank (blank removes it). */
const textOf = (req: FastifyRequest, name: string): string | undefined => {
  const v = formOf(req)[name]
  return typeof v === 'string' && v.trim() !== '' ? v : undefined
}

export function transformationRoutes(
  app: FastifyInstance,
  o: {
    hookpost: Hookpost
    base: string
    envId: (req: FastifyRequest) => string
    page: Page
    refusal: (e: unknown) => { message: string; status: number }
  },
): void {
  type SubParams = { Params: { id: string } }

  app.post<SubParams>('/subscriptions/:id/transformation', async (req, reply) => {
    const envId = o.envId(req)
    const sub = await o.hookpost.subscriptions.get(envId, req.params.id)
    const code = textOf(req, 'code')
    try {
      await o.hookpost.subscriptions.update(envId, sub.id, {
        event: sub.event,
        url: sub.url,
        active: sub.active,
        transformation: code === undefined ? null : { code },
      })
      return seeOther(reply, `${o.base}/subscriptions/${sub.id}?notice=saved#transformation`)
    } catch (e) {
      const r = o.refusal(e)
      return o.page(req, reply, sub, {
        status: r.status,
        transformation: { code, payload: textOf(req, 'payload'), error: r.message },
      })
    }
  })

  app.post<SubParams>('/subscriptions/:id/transformation/test', async (req, reply) => {
    const envId = o.envId(req)
    const sub = await o.hookpost.subscriptions.get(envId, req.params.id)
    const code = textOf(req, 'code')
    const payloadText = textOf(req, 'payload')
    const view: TransformationView = { code, payload: payloadText }
    try {
      let payload: unknown
      if (payloadText !== undefined) {
        try {
          payload = JSON.parse(payloadText)
        } catch {
          return o.page(req, reply, sub, {
            transformation: { ...view, error: 'The test payload is not JSON.' },
          })
        }
      }
      view.result = await o.hookpost.transformations.run(envId, sub.id, { code, payload })
      return o.page(req, reply, sub, { transformation: view })
    } catch (e) {
      const r = o.refusal(e)
      // Shown in the result region, which is what an htmx test run swaps in.
      return o.page(req, reply, sub, {
        transformation: { ...view, result: { kind: 'error', message: r.message } },
      })
    }
  })
}
