// Request plumbing shared by the dashboard's pages: who is signed in (the session looked up in
// the store on every request), the session cookie, form and query fields, and HTML replies.
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Hookpost } from '../hookpost.ts'
import { isSessionToken } from '../sessions/dashboard-sessions.ts'
import { AppError } from '../shared/errors.ts'
import type { DashboardSessionRow, EnvironmentRow } from '../store/store.ts'
import type { DashboardPorts } from './ports.ts'
import { csrfOfSession, type DashboardTokens, sessionCookieOf } from './session.ts'
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
  principal: Principal
  csrf: string
  /** The cookie's value: a session token once signed in, else a signed anonymous token. */
  cookie: string
  /** When the cookie should expire (when written). */
  cookieExpires: number
  /** Send the cookie with this reply (a new session, or a new anonymous one). */
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

/** A signed-in session replaces the request's state (sign-in): its own cookie and CSRF token. */
export function signedIn(
  req: FastifyRequest,
  started: { token: string; session: DashboardSessionRow },
  principal: Principal,
): void {
  setState(req, {
    principal,
    csrf: csrfOfSession(started.token),
    cookie: started.token,
    cookieExpires: started.session.expires,
    writeCookie: true,
  })
}

/** A fresh anonymous state (no session, or signed out): a new CSRF token. */
export function signedOut(deps: DashDeps, req: FastifyRequest): void {
  const a = deps.tokens.newAnonymous(deps.now())
  setState(req, {
    principal: { kind: 'anonymous' },
    csrf: a.csrf,
    cookie: deps.tokens.sealAnonymous(a),
    cookieExpires: a.exp,
    writeCookie: true,
  })
}

/**
 * Who a live session names. The store has already ended the sessions of revoked credentials
 * and links; here a deleted environment or a changed operator token still gives no principal.
 */
async function principalOf(deps: DashDeps, s: DashboardSessionRow): Promise<Principal | undefined> {
  switch (s.kind) {
    case 'operator':
      return s.binding === deps.tokens.operatorBinding(deps.adminToken) ? { kind: 'operator' } : undefined
    case 'credential':
    case 'portal': {
      const env = s.envId === null ? undefined : await envOrUndefined(deps, s.envId)
      return (
        env && {
          kind: 'consumer',
          env,
          via: s.kind === 'credential' ? 'credential' : 'portal link',
          label: s.label,
        }
      )
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

/** Resolves the request's session (onRequest): the store's session, else an anonymous one. */
export async function resolveSession(deps: DashDeps, req: FastifyRequest): Promise<void> {
  const raw = sessionCookieOf(req.headers.cookie)
  if (raw !== undefined && isSessionToken(raw)) {
    const session = await deps.hookpost.sessions.resolve(raw)
    const principal = session && (await principalOf(deps, session))
    if (session && principal) {
      setState(req, {
        principal,
        csrf: csrfOfSession(raw),
        cookie: raw,
        cookieExpires: session.expires,
        writeCookie: false,
      })
      return
    }
  }
  const anonymous = raw === undefined ? undefined : deps.tokens.openAnonymous(raw, deps.now())
  if (anonymous) {
    setState(req, {
      principal: { kind: 'anonymous' },
      csrf: anonymous.csrf,
      cookie: raw!,
      cookieExpires: anonymous.exp,
      writeCookie: false,
    })
    return
  }
  signedOut(deps, req)
}

export function whoOf(p: Principal): Who {
  if (p.kind !== 'consumer') return { kind: p.kind }
  return { kind: 'consumer', envName: p.env.name, envId: p.env.id, via: p.via, label: p.label }
}

export function pageCtx(deps: DashDeps, req: FastifyRequest, current?: string): PageCtx {
  const s = stateOf(req)
  return {
    csrf: s?.csrf ?? '',
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
