// The operator's pages: environments, their credentials and portal links, throughput and
// failure charts, and the most failing and slowest endpoints.
import type {
  CredentialRow,
  EnvironmentRow,
  OperationalEventRow,
  PortalLinkRow,
  SubscriptionRow,
} from '../../store/store.ts'
import type { EndpointFailure, EndpointLatency, Timeline } from '../stats.ts'
import { PortalLinkTable, RevokeForm } from './access-views.tsx'
import { FailureChart, ThroughputChart } from './charts.tsx'
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
  percent,
  Time,
} from './layout.tsx'

const base = '/dashboard/operator'

export interface EnvSummary {
  env: EnvironmentRow
  subscriptions: number
  active: number
  sampled: number
  failing: number
}

/** Environment names by id: the operator reads names, not ids. */
export type EnvNames = ReadonlyMap<string, string>

function EnvLink({ envId, names }: { envId: string; names: EnvNames }) {
  const name = names.get(envId)
  return <a href={`${base}/environments/${envId}`}>{name ?? <Id id={envId} />}</a>
}

export interface Sample {
  /** Deliveries read per environment (newest first), and whether an environment had more. */
  perEnvironment: number
  environments: number
  truncated: boolean
  attemptsOf: number
}

function SampleNote({ sample }: { sample: Sample }) {
  return (
    <p class="hint">
      {`From the newest ${sample.perEnvironment} deliveries of ${sample.environments} environment${
        sample.environments === 1 ? '' : 's'
      }${sample.truncated ? ' (older ones are not counted)' : ''}; response times from the attempts of the newest ${
        sample.attemptsOf
      } finished deliveries.`}
    </p>
  )
}

function FailingTable({ rows, envNames }: { rows: EndpointFailure[]; envNames?: EnvNames | undefined }) {
  if (rows.length === 0) return <p>No endpoint has failed.</p>
  const showEnv = envNames !== undefined
  return (
    <table class="stack">
      <caption class="visually-hidden">Most failing endpoints</caption>
      <thead>
        <tr>
          <th scope="col">URL</th>
          <th scope="col">Event</th>
          {showEnv ? <th scope="col">Environment</th> : null}
          <th scope="col">Failed attempts</th>
          <th scope="col">Success rate</th>
          <th scope="col">Failing since</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.subscriptionId}>
            <td data-label="URL">
              <code>{r.url}</code>
            </td>
            <td data-label="Event">{r.event}</td>
            {envNames !== undefined ? (
              <td data-label="Environment">
                <EnvLink envId={r.envId} names={envNames} />
              </td>
            ) : null}
            <td data-label="Failed attempts">{r.failureCount}</td>
            <td data-label="Success rate">{percent(r.successRate)}</td>
            <td data-label="Failing since">
              <Time ms={r.failingSince} empty="not failing" />
            </td>
            <td data-label="State">
              <ActiveBadge active={r.active} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function SlowTable({ rows }: { rows: EndpointLatency[] }) {
  if (rows.length === 0) return <p>No attempts recorded yet.</p>
  return (
    <table class="stack">
      <caption class="visually-hidden">Slowest endpoints</caption>
      <thead>
        <tr>
          <th scope="col">URL</th>
          <th scope="col">Attempts</th>
          <th scope="col">Mean</th>
          <th scope="col">p95</th>
          <th scope="col">Max</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.subscriptionId}>
            <td data-label="URL">
              <code>{r.url}</code>
            </td>
            <td data-label="Attempts">{r.attempts}</td>
            <td data-label="Mean">{r.meanMs} ms</td>
            <td data-label="p95">{r.p95Ms} ms</td>
            <td data-label="Max">{r.maxMs} ms</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function Charts({ t, idp }: { t: Timeline; idp: string }) {
  return (
    <div class="grid">
      <section class="card" aria-labelledby={`${idp}-tp-h`}>
        <h2 id={`${idp}-tp-h`}>Throughput</h2>
        <ThroughputChart t={t} id={`${idp}-tp`} />
      </section>
      <section class="card" aria-labelledby={`${idp}-fail-h`}>
        <h2 id={`${idp}-fail-h`}>Failures</h2>
        <FailureChart t={t} id={`${idp}-fail`} />
      </section>
    </div>
  )
}

export function OperatorHome(props: {
  ctx: PageCtx
  envs: EnvSummary[]
  envNames: EnvNames
  totalEnvironments: number
  timeline: Timeline
  failing: EndpointFailure[]
  slow: EndpointLatency[]
  events: OperationalEventRow[]
  sample: Sample
  notice?: string | undefined
  error?: string | undefined
}) {
  const { ctx } = props
  return (
    <Page ctx={{ ...ctx, current: 'overview' }} title="Operator overview">
      <h1>Operator overview</h1>
      <Notice text={props.notice} />
      <ErrorBox text={props.error} />
      <Charts t={props.timeline} idp="all" />
      <SampleNote sample={props.sample} />
      <div>
        <section aria-labelledby="failing-h">
          <h2 id="failing-h">Most failing endpoints</h2>
          <FailingTable rows={props.failing} envNames={props.envNames} />
        </section>
        <section aria-labelledby="slow-h">
          <h2 id="slow-h">Slowest endpoints</h2>
          <SlowTable rows={props.slow} />
        </section>
      </div>
      <section aria-labelledby="envs-h">
        <h2 id="envs-h">Environments</h2>
        {props.envs.length === 0 ? (
          <p>No environments yet.</p>
        ) : (
          <table class="stack">
            <caption class="visually-hidden">Environments</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Id</th>
                <th scope="col">Subscriptions (active)</th>
                <th scope="col">Recent deliveries</th>
                <th scope="col">Latest attempt failed</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {props.envs.map((e) => (
                <tr key={e.env.id}>
                  <td data-label="Name">
                    <a href={`${base}/environments/${e.env.id}`}>{e.env.name}</a>
                  </td>
                  <td data-label="Id">
                    <Id id={e.env.id} />
                  </td>
                  <td data-label="Subscriptions (active)">{`${e.subscriptions} (${e.active})`}</td>
                  <td data-label="Recent deliveries">{e.sampled}</td>
                  <td data-label="Latest attempt failed">{e.failing}</td>
                  <td data-label="Created">
                    <Time ms={e.env.created} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {props.totalEnvironments > props.envs.length ? (
          <p class="hint">{`Showing ${props.envs.length} of ${props.totalEnvironments} environments.`}</p>
        ) : null}
        <form method="post" action={`${base}/environments`} class="card">
          <CsrfField ctx={ctx} />
          <h3>New environment</h3>
          <label for="env-name">Name</label>
          <input type="text" id="env-name" name="name" required maxLength={200} />
          <div class="actions">
            <button type="submit">Create environment</button>
          </div>
        </form>
      </section>
      <OperationalEvents events={props.events} envNames={props.envNames} />
    </Page>
  )
}

/** An operational event's data as "key value" pairs (ids, counts, codes), not raw JSON. */
function EventData({ data }: { data: Record<string, unknown> }) {
  const entries = Object.entries(data).filter(([, v]) => v !== null && v !== undefined)
  if (entries.length === 0) return <span class="data">—</span>
  return (
    <span class="data">
      {entries.map(([k, v], i) => (
        <span key={k}>
          {i > 0 ? ' · ' : ''}
          {`${k} `}
          <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
        </span>
      ))}
    </span>
  )
}

function OperationalEvents({ events, envNames }: { events: OperationalEventRow[]; envNames: EnvNames }) {
  return (
    <section aria-labelledby="oev-h">
      <h2 id="oev-h">Recent operational events</h2>
      {events.length === 0 ? (
        <p>None.</p>
      ) : (
        <table class="stack">
          <caption class="visually-hidden">Operational events, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Type</th>
              <th scope="col">Environment</th>
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td data-label="When">
                  <Time ms={e.created} />
                </td>
                <td data-label="Type">{e.type}</td>
                <td data-label="Environment">
                  {e.envId === null ? '—' : <EnvLink envId={e.envId} names={envNames} />}
                </td>
                <td data-label="Data">
                  <EventData data={e.data} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

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
        <section class="card" aria-labelledby="cred-h">
          <h2 id="cred-h">Credentials</h2>
          {props.credentials === undefined ? (
            <p class="hint">This server cannot list credentials yet; revoke one by its id.</p>
          ) : (
            <CredentialTable ctx={ctx} rows={props.credentials} self={self} />
          )}
          <form method="post" action={`${self}/credentials`}>
            <CsrfField ctx={ctx} />
            <h3>New credential</h3>
            <label for="cred-role">Role</label>
            <select id="cred-role" name="role">
              <option value="consumer">consumer (subscriptions, delivery log, portal)</option>
              <option value="publisher">publisher (POST /events)</option>
            </select>
            <label for="cred-name">Name (optional)</label>
            <input type="text" id="cred-name" name="name" maxLength={200} />
            <div class="actions">
              <button type="submit">Create credential</button>
            </div>
          </form>
          <form method="post" action={`${self}/credentials/revoke`}>
            <CsrfField ctx={ctx} />
            <h3>Revoke a credential</h3>
            <label for="cred-id">Credential id</label>
            <input
              type="text"
              id="cred-id"
              name="credentialId"
              required
              spellcheck={false}
              placeholder="key_…"
            />
            <div class="actions">
              <button type="submit" class="danger">
                Revoke
              </button>
            </div>
          </form>
        </section>
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

      <Charts t={props.timeline} idp="env" />
      <SampleNote sample={props.sample} />
      <div>
        <section aria-labelledby="failing-h">
          <h2 id="failing-h">Most failing endpoints</h2>
          <FailingTable rows={props.failing} />
        </section>
        <section aria-labelledby="slow-h">
          <h2 id="slow-h">Slowest endpoints</h2>
          <SlowTable rows={props.slow} />
        </section>
      </div>
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
      <OperationalEvents events={props.events} envNames={new Map([[env.id, env.name]])} />
    </Page>
  )
}

function CredentialTable({ ctx, rows, self }: { ctx: PageCtx; rows: CredentialRow[]; self: string }) {
  if (rows.length === 0) return <p>No credentials.</p>
  return (
    <table class="stack">
      <caption class="visually-hidden">Credentials</caption>
      <thead>
        <tr>
          <th scope="col">Key</th>
          <th scope="col">Role</th>
          <th scope="col">Name</th>
          <th scope="col">Created</th>
          <th scope="col">Revoked</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((c) => (
          <tr key={c.id}>
            <td data-label="Key">
              <Id id={c.key} />
            </td>
            <td data-label="Role">{c.role}</td>
            <td data-label="Name">{c.name ?? '—'}</td>
            <td data-label="Created">
              <Time ms={c.created} />
            </td>
            <td data-label="Revoked">
              <Time ms={c.revoked} empty="no" />
            </td>
            <td data-label="">
              {c.revoked === null ? (
                <RevokeForm
                  ctx={ctx}
                  action={`${self}/credentials/revoke`}
                  field={['credentialId', c.id]}
                  label={c.key}
                />
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
