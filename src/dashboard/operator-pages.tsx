// The operator view (/dashboard/operator/*): environments, credentials, portal links, and charts
// and endpoint rankings computed from bounded samples of the delivery log and subscription health.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { portalLinkDefaultMs } from '../sessions/portal-links.ts'
import { statusOfKind } from '../shared/error-status.ts'
import { AppError } from '../shared/errors.ts'
import type {
  CredentialRole,
  CredentialRow,
  DeliveryRow,
  EnvironmentRow,
  SubscriptionRow,
} from '../store/store.ts'
import { lastAttemptFailed, mostFailing, slowest, timeline } from './stats.ts'
import type { Sample } from './views/delivery-stats.tsx'
import { EnvironmentPage } from './views/environment-page.tsx'
import { render } from './views/layout.tsx'
import { type EnvSummary, OperatorHome } from './views/operator-home.tsx'
import { type DashDeps, field, formOf, mustState, pageCtx, queryOf, seeOther, sendHtml } from './web.ts'

const base = '/dashboard/operator'
/** Bounds on what one page load reads. */
export const overviewEnvironments = 25
export const overviewDeliveriesPerEnv = 400
export const environmentDeliveries = 1000
export const attemptSamples = 100
const eventsShown = 20

const notices: Record<string, string> = {
  'env-created': 'Environment created. Create a consumer credential or a portal link for it.',
  revoked: 'Credential revoked; it stopped working at once, and its dashboard sessions ended.',
  'link-revoked': 'Portal link revoked; the session it started, if any, ended.',
}

function refusal(e: unknown): { message: string; status: number } {
  if (e instanceof AppError && e.kind !== 'internal' && e.kind !== 'unavailable') {
    return { message: e.message, status: statusOfKind[e.kind] }
  }
  throw e
}

export const operatorPages: FastifyPluginAsync<{ deps: DashDeps }> = async (app, { deps }) => {
  const { hookpost } = deps

  app.addHook('preHandler', async (req, reply) => {
    const p = mustState(req).principal
    if (p.kind === 'operator') return
    if (p.kind === 'consumer')
      throw new AppError('forbidden_role', { message: 'This page is for the operator.' })
    if (req.headers['hx-request']) return reply.status(401).header('hx-redirect', '/dashboard/login').send()
    return seeOther(reply, '/dashboard/login')
  })

  /** Attempts of the newest finished deliveries, for response times (one read per delivery). */
  async function attemptSample(rows: readonly DeliveryRow[], subs: ReadonlyMap<string, SubscriptionRow>) {
    const picked = rows
      .filter((d) => d.attempts > 0 && d.status !== 'pending')
      .sort((a, b) => b.updated - a.updated)
      .slice(0, attemptSamples)
    const out = []
    for (const d of picked) {
      const sub = subs.get(d.subscriptionId)
      if (!sub) continue
      const r = await hookpost.deliveries.get(d.envId, d.id)
      out.push({ envId: d.envId, subscriptionId: d.subscriptionId, url: sub.url, attempts: r.attempts })
    }
    return { samples: out, count: picked.length }
  }

  async function envData(env: EnvironmentRow, limit: number) {
    const [subs, page] = await Promise.all([
      hookpost.subscriptions.list(env.id),
      hookpost.deliveries.list(env.id, { limit }),
    ])
    return { env, subs, deliveries: page.deliveries, truncated: page.nextCursor !== null }
  }

  app.get('/', async (req, reply) => {
    const all = await hookpost.environments.list()
    const envs = [...all].sort((a, b) => b.created - a.created).slice(0, overviewEnvironments)
    const data = []
    for (const env of envs) data.push(await envData(env, overviewDeliveriesPerEnv))
    const deliveries = data.flatMap((d) => d.deliveries)
    const subs = data.flatMap((d) => d.subs)
    const t = deps.now()
    const attempts = await attemptSample(deliveries, new Map(subs.map((s) => [s.id, s])))
    const events = await hookpost.operationalEvents.list({ limit: eventsShown })
    const summaries: EnvSummary[] = data.map((d) => ({
      env: d.env,
      subscriptions: d.subs.length,
      active: d.subs.filter((s) => s.active).length,
      sampled: d.deliveries.length,
      failing: d.deliveries.filter(lastAttemptFailed).length,
    }))
    const sample: Sample = {
      perEnvironment: overviewDeliveriesPerEnv,
      environments: data.length,
      truncated: data.some((d) => d.truncated),
      attemptsOf: attempts.count,
    }
    const notice = queryOf(req, 'notice', 40)
    return sendHtml(
      reply,
      render(
        <OperatorHome
          ctx={pageCtx(deps, req)}
          envs={summaries}
          envNames={new Map(all.map((e) => [e.id, e.name]))}
          totalEnvironments={all.length}
          timeline={timeline(deliveries, t)}
          failing={mostFailing(subs)}
          slow={slowest(attempts.samples)}
          events={events.events}
          sample={sample}
          notice={notice !== undefined && Object.hasOwn(notices, notice) ? notices[notice] : undefined}
        />,
      ),
    )
  })

  app.post('/environments', async (req, reply) => {
    const name = field(formOf(req), 'name', 200)
    if (name === undefined) throw new AppError('invalid_request', { message: 'An environment needs a name.' })
    const env = await hookpost.environments.create({ name })
    return seeOther(reply, `${base}/environments/${env.id}?notice=env-created`)
  })

  type EnvParams = { Params: { envId: string } }

  async function environmentPage(
    req: FastifyRequest<EnvParams>,
    reply: FastifyReply,
    extra: {
      status?: number
      error?: string
      newCredential?: { row: CredentialRow; secret: string }
      portalLink?: { url: string; expires: number }
    } = {},
  ) {
    const env = await hookpost.environments.get(req.params.envId)
    const d = await envData(env, environmentDeliveries)
    const attempts = await attemptSample(d.deliveries, new Map(d.subs.map((s) => [s.id, s])))
    const events = await hookpost.operationalEvents.list({ envId: env.id, limit: eventsShown })
    const credentials = deps.ports.listCredentials ? await deps.ports.listCredentials(env.id) : undefined
    const portalLinks = await hookpost.portalLinks.list(env.id)
    const notice = queryOf(req, 'notice', 40)
    return sendHtml(
      reply,
      render(
        <EnvironmentPage
          ctx={pageCtx(deps, req)}
          env={env}
          subs={d.subs}
          timeline={timeline(d.deliveries, deps.now())}
          failing={mostFailing(d.subs)}
          slow={slowest(attempts.samples)}
          events={events.events}
          sample={{
            perEnvironment: environmentDeliveries,
            environments: 1,
            truncated: d.truncated,
            attemptsOf: attempts.count,
          }}
          credentials={credentials}
          newCredential={extra.newCredential}
          portalLink={extra.portalLink}
          portalLinks={portalLinks}
          notice={notice !== undefined && Object.hasOwn(notices, notice) ? notices[notice] : undefined}
          error={extra.error}
        />,
      ),
      extra.status ?? 200,
    )
  }

  app.get<EnvParams>('/environments/:envId', async (req, reply) => environmentPage(req, reply))

  app.post<EnvParams>('/environments/:envId/credentials', async (req, reply) => {
    const f = formOf(req)
    const role = field(f, 'role', 20)
    if (role !== 'consumer' && role !== 'publisher') {
      return environmentPage(req, reply, { status: 400, error: 'Choose the consumer or the publisher role.' })
    }
    const c = await hookpost.environments.createCredential(req.params.envId, {
      role: role satisfies CredentialRole,
      name: field(f, 'name', 200),
    })
    return environmentPage(req, reply, { newCredential: c })
  })

  /** Revokes what the form's `name` field names, then back to the page with a notice. */
  async function revokeThen(
    req: FastifyRequest<EnvParams>,
    reply: FastifyReply,
    name: string,
    revoke: (id: string) => Promise<void>,
    notice: string,
  ) {
    const id = field(formOf(req), name, 100)
    try {
      if (id === undefined)
        throw new AppError('invalid_request', { message: 'Give the id of what to revoke.' })
      await revoke(id)
      return seeOther(reply, `${base}/environments/${encodeURIComponent(req.params.envId)}?notice=${notice}`)
    } catch (e) {
      if (e instanceof AppError && e.code === 'environment_not_found') throw e
      const r = refusal(e)
      return environmentPage(req, reply, { status: r.status, error: r.message })
    }
  }

  app.post<EnvParams>('/environments/:envId/portal-links', async (req, reply) => {
    const minutes = Number(field(formOf(req), 'ttlMinutes', 10) ?? portalLinkDefaultMs / 60_000)
    const ttlMs = Number.isFinite(minutes) ? minutes * 60_000 : portalLinkDefaultMs
    const { link, token } = await hookpost.portalLinks.issue(req.params.envId, ttlMs)
    const url = `${req.protocol}://${req.host}/dashboard/portal-login?token=${encodeURIComponent(token)}`
    return environmentPage(req, reply, { portalLink: { url, expires: link.expires } })
  })

  const revocations = [
    ['credentials', 'credentialId', hookpost.environments.revokeCredential, 'revoked'],
    ['portal-links', 'linkId', hookpost.portalLinks.revoke, 'link-revoked'],
  ] as const
  for (const [what, name, revoke, notice] of revocations) {
    app.post<EnvParams>(`/environments/:envId/${what}/revoke`, async (req, reply) =>
      revokeThen(req, reply, name, (id) => revoke(req.params.envId, id), notice),
    )
  }
}
