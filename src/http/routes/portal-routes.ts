// Operator API: signed portal links. A link opens one environment's consumer portal in the
// dashboard (GET /dashboard/portal-login?token=…) without a credential, until it expires.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { type DashboardTokens, portalLinkDefaultMs, portalLinkMaxMs } from '../../dashboard/session.ts'
import type { Hookpost } from '../../hookpost.ts'
import { adminGuard } from '../auth.ts'
import { iso } from '../presenters.ts'
import { ErrorOut } from '../schemas.ts'

export interface PortalRoutesOptions {
  hookpost: Hookpost
  adminToken: string
  tokens: DashboardTokens
  now: () => number
}

export const PortalLinkIn = Type.Object(
  {
    ttlSeconds: Type.Optional(
      Type.Integer({
        minimum: 60,
        maximum: portalLinkMaxMs / 1000,
        description: 'How long the link works (default 3600, at most 86400).',
      }),
    ),
  },
  { additionalProperties: false },
)

export const PortalLinkOut = Type.Object({
  portalLink: Type.Object({
    url: Type.String({ description: 'Relative to the service: /dashboard/portal-login?token=…' }),
    expires: Type.String({ format: 'date-time' }),
  }),
})

export const portalRoutes: FastifyPluginAsyncTypebox<PortalRoutesOptions> = async (app, opts) => {
  app.addHook('onRequest', adminGuard(opts.adminToken))
  // The body is optional: no body means the defaults.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined) req.body = {}
  })

  app.post(
    '/admin/environments/:envId/portal-links',
    {
      schema: {
        tags: ['operator'],
        operationId: 'createPortalLink',
        summary: "Issue a signed, expiring link to an environment's consumer portal (dashboard)",
        description:
          'Whoever opens the link is signed in to the dashboard with consumer rights in this environment only. The link is not stored: it works until it expires.',
        security: [{ adminToken: [] }],
        params: Type.Object({ envId: Type.String({ maxLength: 100 }) }),
        body: PortalLinkIn,
        response: { 201: PortalLinkOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut },
      },
    },
    async (req, reply) => {
      const env = await opts.hookpost.environments.get(req.params.envId)
      const ttlMs = (req.body.ttlSeconds ?? portalLinkDefaultMs / 1000) * 1000
      const link = opts.tokens.issuePortalLink(env.id, ttlMs, opts.now())
      return reply
        .status(201)
        .header('cache-control', 'no-store')
        .send({
          portalLink: {
            url: `/dashboard/portal-login?token=${encodeURIComponent(link.token)}`,
            expires: iso(link.expires),
          },
        })
    },
  )
}
