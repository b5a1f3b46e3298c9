// Operator API: portal links. A link opens one environment's consumer portal in the dashboard
// (/dashboard/portal-login?token=…) without a credential, once, until it expires. The operator
// lists the links that have not expired and revokes one (ending the session it started).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { Hookpost } from '../../hookpost.ts'
import { portalLinkDefaultMs, portalLinkMaxMs } from '../../sessions/portal-links.ts'
import type { PortalLinkRow } from '../../store/store.ts'
import { adminGuard } from '../auth.ts'
import { iso } from '../presenters.ts'
import { ErrorOut } from '../schemas.ts'

export interface PortalRoutesOptions {
  hookpost: Hookpost
  adminToken: string
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

const PortalLinkFields = {
  id: Type.String({
    description: 'plk_…: names the link to list or revoke it (the link itself is not shown again).',
  }),
  created: Type.String({ format: 'date-time' }),
  expires: Type.String({ format: 'date-time' }),
}

export const PortalLinkOut = Type.Object({
  portalLink: Type.Object({
    ...PortalLinkFields,
    url: Type.String({ description: 'Relative to the service: /dashboard/portal-login?token=…' }),
  }),
})

export const PortalLinksOut = Type.Object({
  portalLinks: Type.Array(
    Type.Object({
      ...PortalLinkFields,
      used: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
        description: 'When it was opened (a link works once); null while unused.',
      }),
    }),
  ),
})

const security = [{ adminToken: [] }]
const envParams = Type.Object({ envId: Type.String({ maxLength: 100 }) })

const presentLink = (l: PortalLinkRow) => ({ id: l.id, created: iso(l.created), expires: iso(l.expires) })

export const portalRoutes: FastifyPluginAsyncTypebox<PortalRoutesOptions> = async (app, opts) => {
  app.addHook('onRequest', adminGuard(opts.adminToken))
  const links = opts.hookpost.portalLinks

  app.post(
    '/admin/environments/:envId/portal-links',
    {
      schema: {
        tags: ['operator'],
        operationId: 'createPortalLink',
        summary: "Issue a one-time, expiring link to an environment's consumer portal (dashboard)",
        description:
          'The first to open the link is signed in to the dashboard with consumer rights in this environment only, for no longer than the link would have lasted. The token is shown this once; only its hash is stored.',
        security,
        params: envParams,
        body: PortalLinkIn,
        response: { 201: PortalLinkOut, 400: ErrorOut, 401: ErrorOut, 404: ErrorOut },
      },
      // The body is optional: no body means the defaults.
      preValidation: async (req) => {
        if (req.body === undefined) req.body = {}
      },
    },
    async (req, reply) => {
      const ttlMs = (req.body.ttlSeconds ?? portalLinkDefaultMs / 1000) * 1000
      const { link, token } = await links.issue(req.params.envId, ttlMs)
      return reply
        .status(201)
        .header('cache-control', 'no-store')
        .send({
          portalLink: {
            ...presentLink(link),
            url: `/dashboard/portal-login?token=${encodeURIComponent(token)}`,
          },
        })
    },
  )

  app.get(
    '/admin/environments/:envId/portal-links',
    {
      schema: {
        tags: ['operator'],
        operationId: 'listPortalLinks',
        summary: "List an environment's outstanding portal links (not expired, used or not), newest first",
        security,
        params: envParams,
        response: { 200: PortalLinksOut, 401: ErrorOut, 404: ErrorOut },
      },
    },
    async (req) => ({
      portalLinks: (await links.list(req.params.envId)).map((l) => ({
        ...presentLink(l),
        used: l.used === null ? null : iso(l.used),
      })),
    }),
  )

  app.delete(
    '/admin/environments/:envId/portal-links/:linkId',
    {
      schema: {
        tags: ['operator'],
        operationId: 'revokePortalLink',
        summary: 'Revoke a portal link: it stops working and the session it started ends, on every node',
        security,
        params: Type.Object({
          envId: Type.String({ maxLength: 100 }),
          linkId: Type.String({ maxLength: 100 }),
        }),
        response: { 204: Type.Null(), 401: ErrorOut, 404: ErrorOut },
      },
    },
    async (req, reply) => {
      await links.revoke(req.params.envId, req.params.linkId)
      return reply.status(204).send(null)
    },
  )
}
