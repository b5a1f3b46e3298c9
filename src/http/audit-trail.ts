// Records the audit log entry of each audited API call once it has succeeded, just before the
// answer leaves (so a client that got its answer finds the entry in GET /admin/audit). The
// actor is the operator on /admin/* and the authenticated credential elsewhere. Only ids,
// names and times are taken from the answer: the secrets it may carry are never read into the
// entry (and the audit log scrubs details again on its own).
import type { FastifyReply, FastifyRequest } from 'fastify'
import { type AuditInput, type AuditLog, operatorActor } from '../audit/audit-log.ts'

type Json = Record<string, unknown>
type Entry = Omit<AuditInput, 'actor' | 'requestId'>

interface AuditedRoute {
  status: number
  entry(params: Record<string, string>, body: Json, request: FastifyRequest): Entry
}

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {})
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

/** `METHOD /route/:pattern` → how to describe a success of it. Add a line per audited route. */
export const auditedRoutes: Readonly<Record<string, AuditedRoute>> = {
  'POST /admin/environments': {
    status: 201,
    entry: (_p, body) => {
      const env = obj(body['environment'])
      return {
        action: 'environment.created',
        envId: str(env['id']),
        target: str(env['id']),
        detail: { name: env['name'], signatureEncoding: env['signatureEncoding'] },
      }
    },
  },
  'POST /admin/environments/:envId/credentials': {
    status: 201,
    entry: (p, body) => {
      const c = obj(body['credential'])
      return {
        action: 'credential.created',
        envId: p['envId'] ?? null,
        target: str(c['id']),
        detail: { role: c['role'], name: c['name'] },
      }
    },
  },
  'DELETE /admin/environments/:envId/credentials/:credentialId': {
    status: 204,
    entry: (p) => ({
      action: 'credential.revoked',
      envId: p['envId'] ?? null,
      target: p['credentialId'] ?? null,
    }),
  },
  'POST /admin/environments/:envId/portal-links': {
    status: 201,
    // The link carries a bearer token: only its id and expiry are kept.
    entry: (p, body) => ({
      action: 'portal_link.issued',
      envId: p['envId'] ?? null,
      target: str(obj(body['portalLink'])['id']),
      detail: { expires: obj(body['portalLink'])['expires'] },
    }),
  },
  'DELETE /admin/environments/:envId/portal-links/:linkId': {
    status: 204,
    entry: (p) => ({
      action: 'portal_link.revoked',
      envId: p['envId'] ?? null,
      target: p['linkId'] ?? null,
    }),
  },
  'POST /webhooks/hmac-secret': {
    status: 201,
    entry: (_p, body, request) => {
      const s = obj(body['hmacSecret'])
      return {
        action: 'signing_secret.rotated',
        envId: request.credential?.envId ?? null,
        target: request.credential?.envId ?? null,
        detail: { created: s['created'], previousExpires: s['previousExpires'] },
      }
    },
  },
  'POST /webhooks/signing-keys': {
    status: 201,
    // The public key is no secret, but the id says which one: enough to find it.
    entry: (_p, body, request) => ({
      action: 'signing_key.created',
      envId: request.credential?.envId ?? null,
      target: str(obj(body['signingKey'])['id']),
      detail: { type: obj(body['signingKey'])['type'] },
    }),
  },
  'DELETE /webhooks/signing-keys/:signingKeyId': {
    status: 204,
    entry: (p, _body, request) => ({
      action: 'signing_key.deleted',
      envId: request.credential?.envId ?? null,
      target: p['signingKeyId'] ?? null,
    }),
  },
}

/** An onSend hook: records the entry of an audited route that answered with its success status. */
export function auditTrail(audit: AuditLog) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const route = auditedRoutes[`${request.method} ${request.routeOptions.url ?? ''}`]
    if (!route || reply.statusCode !== route.status) return payload
    let body: Json = {}
    if (typeof payload === 'string' && payload.length > 0) {
      try {
        body = obj(JSON.parse(payload))
      } catch {
        body = {}
      }
    }
    const actor = request.url.startsWith('/admin/') ? operatorActor : request.credential?.id
    try {
      await audit.record({
        ...route.entry(obj(request.params) as Record<string, string>, body, request),
        actor: actor ?? 'unknown',
        requestId: request.id,
      })
    } catch (err) {
      // The action itself is committed; a lost entry is logged rather than turned into a 500.
      request.log.error({ err, route: request.routeOptions.url }, 'could not record the audit entry')
    }
    return payload
  }
}
