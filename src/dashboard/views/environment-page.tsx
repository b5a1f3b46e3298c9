// An environment's operator page (/dashboard/operator/environments/:id): its credentials and
// consumer portal links (a new secret or link shown once), its delivery statistics, its
// subscriptions' health and its recent operational events.
import type {
  CredentialRow,
  EnvironmentRow,
  OperationalEventRow,
  PortalLinkRow,
  SubscriptionRow,
} from '../../store/store.ts'
import type { EndpointFailure, EndpointLatency, Timeline } from '../stats.ts'
import { PortalLinkTable } from './access-views.tsx'
import { CredentialsSection } from './credentials-section.tsx'
import { DeliveryStats, type Sample } from './delivery-stats.tsx'
import { HealthFacts } from './health-facts.tsx'
import {
  ActiveBadge,
  Copyable,
  CopyButton,
  CsrfField,
  ErrorBox,
  Id,
  Notice,
  Page,
  type PageCtx,
  Pre,
  Time,
} from './layout.tsx'
import { OperationalEventsSection } from './operational-events-section.tsx'

const base = '/dashboard/operator'

export function EnvironmentPage(props: {
  ctx: PageCtx
  env: EnvironmentRow
  subs: SubscriptionRow[]
  timeline: Timeline
  failing: EndpointFailure[]
  slow: EndpointLatency[]
  events: OperationalEventRow[]
  sample: Sample
  credentials: CredentialRow[] | undefined
  newCredential?: { row: CredentialRow; secret: string } | undefined
  portalLink?: { url: string; expires: number } | undefined
  portalLinks: PortalLinkRow[]
  notice?: string | undefined
  error?: string | undefined
}) {
  const { ctx, env } = props
  const self = `${base}/environments/${env.id}`
  return (
    <Page ctx={{ ...ctx, current: 'overview' }} title={`Environment ${env.name}`}>
      <p>
        <a href={base}>Operator overview</a>
      </p>
      <h1>
        Environment <q>{env.name}</q>
      </h1>
      <p>
        <Id id={env.id} /> <CopyButton label="Copy environment id" value={env.id} /> · signatures in{' '}
        {env.signatureEncoding} · created <Time ms={env.created} />
      </p>
      <Notice text={props.notice} />
      <ErrorBox text={props.error} />
      {props.newCredential ? (
        <div class="secret" role="status">
          <p>
            <strong>{`New ${props.newCredential.row.role} credential, the secret shown this once:`}</strong>
          </p>
          <dl class="facts">
            <dt>Key</dt>
            <dd>
              <Copyable
                value={props.newCredential.row.key}
                label="Copy credential key"
                attrs={{ 'data-credential-key': '' }}
              />
            </dd>
            <dt>Secret</dt>
            <dd>
              <Copyable
                value={props.newCredential.secret}
                label="Copy credential secret"
                attrs={{ 'data-credential-secret': '' }}
              />
            </dd>
            <dt>Id</dt>
            <dd>
              <Copyable value={props.newCredential.row.id} label="Copy credential id" />
            </dd>
          </dl>
        </div>
      ) : null}
      {props.portalLink ? (
        <div class="secret" role="status">
          <p>
            <strong>Portal link</strong> (the first to open it acts as a consumer of this environment until{' '}
            <Time ms={props.portalLink.expires} />
            ):
          </p>
          <div class="copyable">
            <Pre label="Portal link">{props.portalLink.url}</Pre>
            <CopyButton label="Copy portal link" value={props.portalLink.url} />
          </div>
        </div>
      ) : null}

      <div>
        <CredentialsSection ctx={ctx} credentials={props.credentials} self={self} />
        <section class="card" aria-labelledby="link-h">
          <h2 id="link-h">Consumer portal link</h2>
          <p class="hint">
            A one-time link that opens this environment's portal with consumer rights, without a credential,
            until it expires.
          </p>
          <PortalLinkTable ctx={ctx} rows={props.portalLinks} self={self} />
          <form method="post" action={`${self}/portal-links`}>
            <CsrfField ctx={ctx} />
            <label for="link-ttl">Valid for</label>
            <select id="link-ttl" name="ttlMinutes">
              <option value="15">15 minutes</option>
              <option value="60" selected>
                1 hour
              </option>
              <option value="480">8 hours</option>
              <option value="1440">24 hours</option>
            </select>
            <div class="actions">
              <button type="submit">Create portal link</button>
            </div>
          </form>
        </section>
      </div>

      <DeliveryStats
        timeline={props.timeline}
        idp="env"
        sample={props.sample}
        failing={props.failing}
        slow={props.slow}
      />
      <section aria-labelledby="subs-h">
        <h2 id="subs-h">Subscriptions</h2>
        {props.subs.length === 0 ? (
          <p>None.</p>
        ) : (
          props.subs.map((s) => (
            <details class="card" key={s.id}>
              <summary>
                <code>{s.event}</code> → <code>{s.url}</code>{' '}
                <ActiveBadge active={s.active} reason={s.deactivatedReason} />
              </summary>
              <HealthFacts sub={s} />
            </details>
          ))
        )}
      </section>
      <OperationalEventsSection events={props.events} envNames={new Map([[env.id, env.name]])} />
    </Page>
  )
}
