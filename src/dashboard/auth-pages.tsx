// Signing in and out: a consumer credential (the same check as the REST API's Basic auth), the
// operator token, or a portal link. Each sign-in starts a new session with a new CSRF token.
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import { ErrorPage, render } from './views/layout.tsx'
import { LoginPage, PortalLinkDone } from './views/portal-views.tsx'
import {
  type DashDeps,
  envOrUndefined,
  field,
  formOf,
  mustState,
  pageCtx,
  queryOf,
  replaceSession,
  seeOther,
  sendHtml,
} from './web.ts'

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

export const authPages: FastifyPluginAsync<{ deps: DashDeps }> = async (app, { deps }) => {
  const { hookpost, tokens } = deps
  const operatorDigest = digest(deps.adminToken)

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
    const t = deps.now()
    if (field(f, 'mode') === 'operator') {
      const token = field(f, 'token', 1000)
      if (token === undefined || !timingSafeEqual(digest(token), operatorDigest)) {
        return sendHtml(
          reply,
          render(<LoginPage ctx={pageCtx(deps, req)} error="That operator token is not valid." />),
          401,
        )
      }
      replaceSession(
        req,
        tokens.newSession({ kind: 'operator', binding: tokens.operatorBinding(deps.adminToken) }, t),
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
    replaceSession(
      req,
      tokens.newSession(
        { kind: 'credential', envId: env.id, credentialId: cred.id, credentialKey: cred.key },
        t,
      ),
      { kind: 'consumer', env, via: 'credential', label: cred.name ?? cred.key },
    )
    return seeOther(reply, '/dashboard/portal/subscriptions')
  })

  app.post('/logout', async (req, reply) => {
    replaceSession(req, tokens.newSession({ kind: 'anonymous' }, deps.now()), { kind: 'anonymous' })
    return seeOther(reply, '/dashboard/login')
  })

  // A GET that signs in: the token itself is the proof. The answer is a page, not a redirect, so
  // that the SameSite=Strict cookie is sent on the next (same-site) navigation even when the link
  // was opened from another site (a mail client).
  // Logged at warn only: the request line carries the token.
  app.get('/portal-login', { logLevel: 'warn' }, async (req, reply) => {
    const raw = queryOf(req, 'token', 4096)
    const link = raw === undefined ? undefined : tokens.openPortalLink(raw, deps.now())
    const env = link && (await envOrUndefined(deps, link.envId))
    if (!link || !env) {
      return sendHtml(
        reply,
        render(
          <ErrorPage
            ctx={pageCtx(deps, req)}
            title="Portal link not valid"
            message="This portal link is not valid or has expired. Ask your platform for a new one."
          >
            <p>
              <a href="/dashboard/login">Sign in with a credential instead</a>
            </p>
          </ErrorPage>,
        ),
        401,
      )
    }
    replaceSession(req, tokens.newSession({ kind: 'portal', envId: env.id }, deps.now()), {
      kind: 'consumer',
      env,
      via: 'portal link',
      label: 'portal link',
    })
    return sendHtml(reply, render(<PortalLinkDone ctx={pageCtx(deps, req)} envName={env.name} />))
  })
}
