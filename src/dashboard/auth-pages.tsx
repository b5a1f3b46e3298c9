// Signing in and out: a consumer credential (the same check as the REST API's Basic auth), the
// operator token, or a portal link. Each sign-in starts a new session in the store, with a new
// cookie and CSRF token; signing out deletes it.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { sessionCookieOf } from './session.ts'
import { PortalLinkOpen } from './views/access-views.tsx'
import { ErrorPage, render } from './views/layout.tsx'
import { LoginPage } from './views/login-page.tsx'
import {
  type DashDeps,
  envOrUndefined,
  field,
  formOf,
  mustState,
  pageCtx,
  queryOf,
  seeOther,
  sendHtml,
  signedIn,
  signedOut,
} from './web.ts'

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

export const authPages: FastifyPluginAsync<{ deps: DashDeps }> = async (app, { deps }) => {
  const { hookpost, tokens } = deps
  const operatorDigest = digest(deps.adminToken)

  /** A sign-in replaces the browser's session: the one it had ends. */
  const endCurrent = async (req: FastifyRequest) => {
    const raw = sessionCookieOf(req.headers.cookie)
    if (raw !== undefined) await hookpost.sessions.end(raw)
  }

  app.get('/', async (req, reply) => {
    const p = mustState(req).principal
    return seeOther(
      reply,
      p.kind === 'operator'
        ? '/dashboard/operator'
        : p.kind === 'consumer'
          ? '/dashboard/portal/subscriptions'
          : '/dashboard/login',
    )
  })

  app.get('/login', async (req, reply) => sendHtml(reply, render(<LoginPage ctx={pageCtx(deps, req)} />)))

  app.post('/login', async (req, reply) => {
    const f = formOf(req)
    if (field(f, 'mode') === 'operator') {
      const token = field(f, 'token', 1000)
      if (token === undefined || !timingSafeEqual(digest(token), operatorDigest)) {
        return sendHtml(
          reply,
          render(<LoginPage ctx={pageCtx(deps, req)} error="That operator token is not valid." />),
          401,
        )
      }
      await endCurrent(req)
      signedIn(
        req,
        await hookpost.sessions.start({ kind: 'operator', binding: tokens.operatorBinding(deps.adminToken) }),
        { kind: 'operator' },
      )
      return seeOther(reply, '/dashboard/operator')
    }
    const key = field(f, 'key', 200)
    const secret = field(f, 'secret', 500)
    const cred =
      key !== undefined && secret !== undefined
        ? await hookpost.environments.authenticate(key, secret)
        : undefined
    if (cred?.role !== 'consumer') {
      return sendHtml(
        reply,
        render(
          <LoginPage
            ctx={pageCtx(deps, req)}
            key={key}
            error={
              cred
                ? 'That is a publisher credential; the portal needs a consumer credential.'
                : 'That key and secret do not match a live consumer credential.'
            }
          />,
        ),
        cred ? 403 : 401,
      )
    }
    const env = await hookpost.environments.get(cred.envId)
    const label = cred.name ?? cred.key
    await endCurrent(req)
    signedIn(
      req,
      await hookpost.sessions.start({ kind: 'credential', envId: env.id, credentialId: cred.id, label }),
      { kind: 'consumer', env, via: 'credential', label },
    )
    return seeOther(reply, '/dashboard/portal/subscriptions')
  })

  app.post('/logout', async (req, reply) => {
    await endCurrent(req)
    signedOut(deps, req)
    return seeOther(reply, '/dashboard/login')
  })

  const linkNotValid = (req: FastifyRequest) =>
    render(
      <ErrorPage
        ctx={pageCtx(deps, req)}
        title="Portal link not valid"
        message="This portal link is not valid, was used already, or has expired. Ask your platform for a new one."
      >
        <p>
          <a href="/dashboard/login">Sign in with a credential instead</a>
        </p>
      </ErrorPage>,
    )

  // Opening the link shows a button; only pressing it (a POST) uses the link. A link works once,
  // so a mail scanner or chat preview that fetches it must not spend it. The POST comes from this
  // page (same site), so the SameSite=Strict cookie goes with it and with the redirect after it.
  // Logged at warn only: the request line carries the token.
  app.get('/portal-login', { logLevel: 'warn' }, async (req, reply) => {
    const token = queryOf(req, 'token', 200)
    if (token === undefined) return sendHtml(reply, linkNotValid(req), 401)
    return sendHtml(reply, render(<PortalLinkOpen ctx={pageCtx(deps, req)} token={token} />))
  })

  app.post('/portal-login', { logLevel: 'warn' }, async (req, reply) => {
    const token = field(formOf(req), 'token', 200)
    const started = token === undefined ? undefined : await hookpost.portalLinks.redeem(token)
    const env = started?.session.envId ? await envOrUndefined(deps, started.session.envId) : undefined
    if (!started || !env) return sendHtml(reply, linkNotValid(req), 401)
    await endCurrent(req)
    signedIn(req, started, { kind: 'consumer', env, via: 'portal link', label: started.session.label })
    return seeOther(reply, '/dashboard/portal/subscriptions')
  })
}
