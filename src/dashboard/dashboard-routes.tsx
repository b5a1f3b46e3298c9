// The dashboard at /dashboard: server-rendered pages (Preact) with htmx for partial updates.
// Sessions live in the store (the cookie holds a random token); every state-changing request carries the session's CSRF token. The pages call the same use cases as the REST API, scoped to
// the signed-in environment: there is no privileged path.
import type { FastifyError, FastifyPluginAsync } from 'fastify'
import type { Hookpost } from '../hookpost.ts'
import { statusOfKind } from '../shared/error-status.ts'
import { AppError } from '../shared/errors.ts'
import { dashboardCss, dashboardScript, loadHtmx } from './assets.ts'
import { authPages } from './auth-pages.tsx'
import { operatorPages } from './operator-pages.tsx'
import { portalPages } from './portal-pages.tsx'
import type { DashboardPorts } from './ports.ts'
import { clearSessionCookie, DashboardTokens, sameToken, serializeSessionCookie } from './session.ts'
import { ErrorPage, render } from './views/layout.tsx'
import { type DashDeps, mustState, pageCtx, resolveSession, sendHtml, stateOf } from './web.ts'

export interface DashboardOptions extends DashboardPorts {
  hookpost: Hookpost
  adminToken: string
  /** At least 32 bytes (or a function that follows the master key); signs anonymous cookies. */
  sessionKey: Buffer | (() => Buffer)
  now?: () => number
}

const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ')

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS'])

export const dashboardRoutes: FastifyPluginAsync<DashboardOptions> = async (app, opts) => {
  const now = opts.now ?? Date.now
  const tokens = new DashboardTokens(opts.sessionKey)
  const htmx = loadHtmx()
  const css = dashboardCss()
  const script = dashboardScript()
  const deps: DashDeps = {
    hookpost: opts.hookpost,
    adminToken: opts.adminToken,
    tokens,
    ports: { listCredentials: opts.listCredentials },
    now,
    assets: {
      htmx: `/dashboard/assets/htmx.min.js?v=${htmx.version}`,
      css: `/dashboard/assets/dashboard.css?v=${css.version}`,
      script: `/dashboard/assets/dashboard.js?v=${script.version}`,
    },
  }

  // Static files: no session, cached (the URL carries a content hash).
  await app.register(
    async (assets) => {
      for (const [name, a] of [
        ['htmx.min.js', htmx],
        ['dashboard.css', css],
        ['dashboard.js', script],
      ] as const) {
        assets.get(`/${name}`, { schema: { hide: true } }, async (_req, reply) =>
          reply
            .type(a.type)
            .header('cache-control', 'public, max-age=31536000, immutable')
            .header('x-content-type-options', 'nosniff')
            .send(a.body),
        )
      }
    },
    { prefix: '/dashboard/assets' },
  )

  await app.register(
    async (pages) => {
      // HTML pages, not API: kept out of /openapi.json.
      pages.addHook('onRoute', (route) => {
        route.schema = { ...route.schema, hide: true }
      })
      pages.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string' },
        (_req, body, done) => {
          done(null, Object.fromEntries(new URLSearchParams(body as string)))
        },
      )

      pages.addHook('onRequest', async (req) => {
        await resolveSession(deps, req)
      })

      pages.addHook('preHandler', async (req, reply) => {
        if (safeMethods.has(req.method)) return
        const s = mustState(req)
        const header = req.headers['x-csrf-token']
        const body = req.body as Record<string, unknown> | undefined
        const sent =
          typeof header === 'string'
            ? header
            : typeof body?.['_csrf'] === 'string'
              ? (body['_csrf'] as string)
              : undefined
        // An anonymous session started by this very request has never shown a form: refuse too.
        if (!sameToken(sent, s.csrf)) {
          return sendHtml(
            reply,
            render(
              <ErrorPage
                ctx={pageCtx(deps, req)}
                title="Form expired"
                message="This form's security token is missing or out of date. Reload the page and try again."
              />,
            ),
            403,
          )
        }
      })

      pages.addHook('onSend', async (req, reply, payload) => {
        reply.header('content-security-policy', contentSecurityPolicy)
        reply.header('x-content-type-options', 'nosniff')
        reply.header('referrer-policy', 'no-referrer')
        reply.header('x-frame-options', 'DENY')
        reply.header('cache-control', 'no-store')
        const s = stateOf(req)
        const secure = req.protocol === 'https'
        if (s?.writeCookie) {
          reply.header(
            'set-cookie',
            serializeSessionCookie(s.cookie, { maxAgeMs: s.cookieExpires - now(), secure }),
          )
        } else if (!s) {
          reply.header('set-cookie', clearSessionCookie(secure))
        }
        return payload
      })

      pages.setErrorHandler((err: FastifyError | AppError, req, reply) => {
        const ctx = pageCtx(deps, req)
        if (err instanceof AppError && err.kind !== 'internal') {
          return sendHtml(
            reply,
            render(<ErrorPage ctx={ctx} title={titleOf(err)} message={err.message} />),
            statusOfKind[err.kind],
          )
        }
        const status = (err as FastifyError).statusCode
        if (status !== undefined && status >= 400 && status < 500) {
          return sendHtml(
            reply,
            render(
              <ErrorPage ctx={ctx} title="Bad request" message="The request could not be understood." />,
            ),
            status === 413 ? 413 : 400,
          )
        }
        req.log.error({ err }, 'dashboard error')
        return sendHtml(
          reply,
          render(
            <ErrorPage ctx={ctx} title="Something went wrong" message="Internal error; it was logged." />,
          ),
          500,
        )
      })

      pages.setNotFoundHandler((req, reply) =>
        sendHtml(
          reply,
          render(<ErrorPage ctx={pageCtx(deps, req)} title="Not found" message="There is no such page." />),
          404,
        ),
      )

      await pages.register(authPages, { deps })
      await pages.register(portalPages, { deps, prefix: '/portal' })
      await pages.register(operatorPages, { deps, prefix: '/operator' })
    },
    { prefix: '/dashboard' },
  )
}

function titleOf(e: AppError): string {
  switch (e.kind) {
    case 'not_found':
      return 'Not found'
    case 'unauthorized':
      return 'Sign in needed'
    case 'forbidden':
      return 'Not allowed'
    case 'conflict':
      return 'Not possible now'
    case 'unavailable':
      return 'Unavailable'
    default:
      return 'Request refused'
  }
}
