// Operator API (contract section 3): environments and their credentials, behind the admin token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { auditActions } from '../../audit/audit-log.ts'
import type { Hookpost } from '../../hookpost.ts'
import { adminGuard } from '../auth.ts'
import { iso, presentEnvironment, presentOperationalEvent } from '../presenters.ts'
import {
  CredentialIn,
  CredentialOut,
  EnvironmentIn,
  EnvironmentOut,
  ErrorOut,
  OperationalEventOut,
  OperationalEventsQuery,
} from '../schemas.ts'

export interface AdminRoutesOptions {
  hookpost: Hookpost
  adminToken: string
}

const security = [{ adminToken: [] }]
const errors = { 400: ErrorOut, 401: ErrorOut, 404: ErrorOut }

export const adminRoutes: FastifyPluginAsyncTypebox<AdminRoutesOptions> = async (
  app,
  { hookpost, adminToken },
) => {
  app.addHook('onRequest', adminGuard(adminToken))
  const envs = hookpost.environments

  app.post(
    '/admin/environments',
    {
      schema: {
        tags: ['operator'],
        operationId: 'createEnvironment',
        summary: 'Create an environment (a tenant) with its first signing secret',
        security,
        body: EnvironmentIn,
        response: { 201: Type.Object({ environment: EnvironmentOut }), ...errors },
      },
    },
    async (req, reply) => {
      const env = await envs.create({
        name: req.body.name,
        ...(req.body.signatureEncoding ? { signatureEncoding: req.body.signatureEncoding } : {}),
      })
      return reply.status(201).send({ environment: presentEnvironment(env) })
    },
  )

  app.get(
    '/admin/environments',
    {
      schema: {
        tags: ['operator'],
        operationId: 'listEnvironments',
        summary: 'List environments',
        security,
        response: { 200: Type.Object({ environments: Type.Array(EnvironmentOut) }), 401: ErrorOut },
      },
    },
    async () => ({ environments: (await envs.list()).map(presentEnvironment) }),
  )

  app.post(
    '/admin/environments/:envId/credentials',
    {
      schema: {
        tags: ['operator'],
        operationId: 'createCredential',
        summary: 'Create an API credential; its secret is shown this once',
        security,
        params: Type.Object({ envId: Type.String({ maxLength: 100 }) }),
        body: CredentialIn,
        response: { 201: Type.Object({ credential: CredentialOut }), ...errors },
      },
    },
    async (req, reply) => {
      const { row, secret } = await envs.createCredential(req.params.envId, req.body)
      return reply.status(201).send({
        credential: {
          id: row.id,
          role: row.role,
          name: row.name,
          key: row.key,
          secret,
          created: iso(row.created),
        },
      })
    },
  )

  app.get(
    '/admin/environments/:envId/credentials',
    {
      schema: {
        tags: ['operator'],
        operationId: 'listCredentials',
        summary: "An environment's credentials, live and revoked (never their secrets)",
        security,
        params: Type.Object({ envId: Type.String({ maxLength: 100 }) }),
        response: {
          200: Type.Object({
            credentials: Type.Array(
              Type.Object({
                id: Type.String(),
                role: Type.String(),
                name: Type.Union([Type.String(), Type.Null()]),
                key: Type.String(),
                created: Type.String({ format: 'date-time' }),
                revoked: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (req) => ({
      credentials: (await envs.listCredentials(req.params.envId)).map((c) => ({
        id: c.id,
        role: c.role,
        name: c.name,
        key: c.key,
        created: iso(c.created),
        revoked: c.revoked === null ? null : iso(c.revoked),
      })),
    }),
  )

  app.delete(
    '/admin/environments/:envId/credentials/:credentialId',
    {
      schema: {
        tags: ['operator'],
        operationId: 'revokeCredential',
        summary: 'Revoke a credential; it stops working at once',
        security,
        params: Type.Object({
          envId: Type.String({ maxLength: 100 }),
          credentialId: Type.String({ maxLength: 100 }),
        }),
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (req, reply) => {
      await envs.revokeCredential(req.params.envId, req.params.credentialId)
      return reply.status(204).send(null)
    },
  )
  app.get(
    '/admin/operational-events',
    {
      schema: {
        tags: ['operator'],
        operationId: 'listAllOperationalEvents',
        summary: 'Operational events of every environment, newest first',
        security,
        querystring: Type.Object({
          ...OperationalEventsQuery.properties,
          envId: Type.Optional(Type.String({ maxLength: 100 })),
        }),
        response: {
          200: Type.Object({
            events: Type.Array(OperationalEventOut),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const { limit, ...rest } = req.query
      const r = await hookpost.operationalEvents.list({
        ...rest,
        limit: limit === undefined ? undefined : Number(limit),
      })
      return { events: r.events.map(presentOperationalEvent), nextCursor: r.nextCursor }
    },
  )

  const audit = hookpost.audit
  app.get(
    '/admin/audit',
    {
      schema: {
        tags: ['operator'],
        operationId: 'listAuditEntries',
        summary: 'The audit log of operator and secret actions, newest first; never holds a secret',
        security,
        querystring: Type.Object({
          envId: Type.Optional(Type.String({ maxLength: 100 })),
          action: Type.Optional(Type.String({ maxLength: 50, description: auditActions.join(', ') })),
          limit: Type.Optional(
            Type.String({
              pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$',
              description: '1 to 200 (default 50)',
            }),
          ),
          cursor: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: {
          200: Type.Object({
            entries: Type.Array(
              Type.Object({
                id: Type.String(),
                environmentId: Type.Union([Type.String(), Type.Null()]),
                actor: Type.String({ description: '`operator` or the id of the credential that acted' }),
                action: Type.String(),
                target: Type.Union([Type.String(), Type.Null()]),
                detail: Type.Record(Type.String(), Type.Unknown()),
                created: Type.String({ format: 'date-time' }),
                requestId: Type.Union([Type.String(), Type.Null()]),
              }),
            ),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const { limit, ...rest } = req.query
      const r = await audit.list({ ...rest, limit: limit === undefined ? undefined : Number(limit) })
      return {
        entries: r.entries.map((e) => ({
          id: e.id,
          environmentId: e.envId,
          actor: e.actor,
          action: e.action,
          target: e.target,
          detail: e.detail,
          created: iso(e.created),
          requestId: e.requestId,
        })),
        nextCursor: r.nextCursor,
      }
    },
  )
}
