// Request plumbing shared by the dashboard's pages: who is signed in (re-checked on every
// request), the session cookie, form and query fields, and HTML replies.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Hookpost } from '../hookpost.ts'
import { AppError } from '../shared/errors.ts'
import type { EnvironmentRow } from '../store/store.ts'
import type { DashboardPorts } from './ports.ts'
import { type DashboardTokens, type Session, sessionCookieOf } from './session.ts'
import type { PageCtx, Who } from './views/layout.tsx'

export interface DashDeps {
  hookpost: Hookpost
  adminToken: string
  tokens: DashboardTokens
  ports: DashboardPorts
  now: () => number
  assets: { htmx: string; css: string; script: string }
}

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'operator' }
  | { kind: 'consumer'; env: EnvironmentRow; via: 'credential' | 'portal link'; label: string }

export interface DashState {
  session: Session
  principal: Principal
  /** Send the session cookie with this reply (new, changed or refreshed). */
  writeCookie: boolean
}

const states = new WeakMap<FastifyRequest, DashState>()

export function setState(req: FastifyRequest, s: DashState): void {
  states.set(req, s)
}

export function stateOf(req: FastifyRequest): DashState | undefined {
  return states.get(req)
}

export function mustState(req: FastifyRequest): DashState {
  const s = states.get(req)
  if (!s) throw new Error('dashboard state missing')
  return s
}

/** Replaces the session (sign-in, sign-out): a fresh CSRF token with every change of subject. */
export function replaceSession(req: FastifyRequest, session: Session, principal: Principal): void {
  setState(req, { session, principal, writeCookie: true })
}

/**
 * Who the session names, re-checked against the store now: a revoked credential, a deleted
 * environment or a changed operator token gives an anonymous principal.
 */
async function principalOf(deps: DashDeps, s: Session): Promise<Principal | undefined> {
  const sub = s.subject
  switch (sub.kind) {
    case 'anonymous':
      return { kind: 'anonymous' }
    case 'operator':
      return sub.binding === deps.tokens.operatorBinding(deps.adminToken) ? { kind: 'operator' } : undefined
    case 'credential': {
      // The session proved the secret at sign-in; here only "still live, same credential".
      const row = await deps.hookpost.environments.liveCredential(sub.credentialKey)
      if (
        !row ||
        row.id !== sub.credentialId ||
        row.envId !== sub.envId ||
        row.revoked !== null ||
        row.role !== 'consumer'
      )
        return undefined
      const env = await envOrUndefined(deps, sub.envId)
      return env && { kind: 'consumer', env, via: 'credential', label: row.name ?? row.key }
    }
    case 'portal': {
      const env = await envOrUndefined(deps, sub.envId)
      return env && { kind: 'consumer', env, via: 'portal link', label: 'portal link' }
    }
  }
}

export async function envOrUndefined(deps: DashDeps, envId: string): Promise<EnvironmentRow | undefined> {
  try {
    return await deps.hookpost.environments.get(envId)
  } catch (e) {
    if (e instanceof AppError && e.code === 'environment_not_found') return undefined
    throw e
  }
}

/** Resolves the request's session (onRequest), starting an anonymous one when there is none. */
export async function resolveSession(deps: DashDeps, req: FastifyRequest): Promise<void> {
  const now = deps.now()
  const raw = sessionCookieOf(req.headers.cookie)
  const opened = raw === undefined ? undefined : deps.tokens.openSession(raw, now)
  const principal = opened && (await principalOf(deps, opened))
  if (opened && principal) {
    const refreshed = deps.tokens.refreshed(opened, now)
    setState(req, { session: refreshed, principal, writeCookie: refreshed.exp !== opened.exp })
    return
  }
  setState(req, {
    session: deps.tokens.newSession({ kind: 'anonymous' }, now),
    principal: { kind: 'anonymous' },
    writeCookie: true,
  })
}

export function whoOf(p: Principal): Who {
  if (p.kind !== 'consumer') return { kind: p.kind }
  return { kind: 'consumer', envName: p.env.name, envId: p.env.id, via: p.via, label: p.label }
}

export function pageCtx(deps: DashDeps, req: FastifyRequest, current?: string): PageCtx {
  const s = stateOf(req)
  return {
    csrf: s?.session.csrf ?? '',
    who: s ? whoOf(s.principal) : { kind: 'anonymous' },
    ...(current !== undefined ? { current } : {}),
    assets: deps.assets,
  }
}

export function sendHtml(reply: FastifyReply, html: string, status = 200): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(html)
}

/** POST-redirect-GET. */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.status(303).header('location', location).send()
}

export type Form = Readonly<Record<string, string>>

export function formOf(req: FastifyRequest): Form {
  const b = req.body
  return typeof b === 'object' && b !== null ? (b as Form) : {}
}

/** A trimmed form field, or undefined when absent, empty or longer than max. */
export function field(f: Form, name: string, max = 2048): string | undefined {
  const v = Object.hasOwn(f, name) ? f[name] : undefined
  if (typeof v !== 'string') return undefined
  const t = v.trim()
  return t.length === 0 || t.length > max ? undefined : t
}

export function queryOf(req: FastifyRequest, name: string, max = 200): string | undefined {
  const q = req.query as Record<string, unknown> | undefined
  const v = q && Object.hasOwn(q, name) ? q[name] : undefined
  return typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined
}

/** Ids as the core makes them; anything else cannot name a row. */
export function isId(v: string | undefined, prefix: string): v is string {
  return v !== undefined && new RegExp(`^${prefix}_[0-9A-Za-z]{1,60}$`).test(v)
}
