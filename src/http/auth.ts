// Authentication hooks: the operator's bearer token on /admin/*, HTTP Basic credentials
// (key:secret) elsewhere. The environment always comes from the credential.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Environments } from '../environments/environments.ts'
import { AppError } from '../shared/errors.ts'
import type { CredentialRole, CredentialRow } from '../store/store.ts'

declare module 'fastify' {
  interface FastifyRequest {
    credential?: CredentialRow
  }
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

export function adminGuard(adminToken: string) {
  const expected = digest(adminToken)
  return async (request: FastifyRequest): Promise<void> => {
    const h = request.headers.authorization ?? ''
    const m = /^Bearer\s+(.+)$/i.exec(h)
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    if (!m || !timingSafeEqual(digest(m[1]!.trim()), expected)) {
      throw new AppError('unauthorized', { message: 'An operator bearer token is required.' })
    }
  }
}

function basicParts(header: string | undefined): { key: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!m) return undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  if (i < 0) return undefined
  return { key: decoded.slice(0, i), secret: decoded.slice(i + 1) }
}

export function credentialGuard(envs: Environments, role: CredentialRole) {
  return async (request: FastifyRequest): Promise<void> => {
    const parts = basicParts(request.headers.authorization)
    if (!parts) throw new AppError('unauthorized')
    const cred = await envs.authenticate(parts.key, parts.secret)
    if (!cred) throw new AppError('unauthorized')
    if (cred.role !== role) {
      throw new AppError('forbidden_role', { message: `This operation needs a ${role} credential.` })
    }
    request.credential = cred
  }
}

/** The environment of the authenticated credential. */
export function envOf(request: FastifyRequest): string {
  const c = request.credential
  if (!c) throw new AppError('unauthorized')
  return c.envId
}
