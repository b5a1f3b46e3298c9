// A tenant of the running service, set up the way an operator does it over the real API: the
// admin creates an environment, then a consumer and a publisher credential in it.
import { basic } from './basic-auth.ts'
import { client, type ServiceProcess } from './service-process.ts'

export interface Credential {
  key: string
  secret: string
  /** The Basic authorization the API takes for this credential. */
  authorization: string
}

export interface Tenant {
  envId: string
  consumer: Credential
  publisher: Credential
}

export interface TenantOptions {
  /** Rotate the signing secret once (POST /webhooks/hmac-secret) so the test knows it. */
  signingSecret?: boolean
}

export async function createTenant(
  svc: ServiceProcess,
  name: string,
  opts: { signingSecret: true },
): Promise<Tenant & { signingSecret: string }>
export async function createTenant(svc: ServiceProcess, name: string, opts?: TenantOptions): Promise<Tenant>
export async function createTenant(
  svc: ServiceProcess,
  name: string,
  opts: TenantOptions = {},
): Promise<Tenant & { signingSecret?: string }> {
  const admin = client(svc.url, `Bearer ${svc.adminToken}`)
  const env = (await admin('POST', '/admin/environments', { name })).json.environment
  const credential = async (role: string): Promise<Credential> => {
    const c = (await admin('POST', `/admin/environments/${env.id}/credentials`, { role })).json.credential
    return { key: c.key, secret: c.secret, authorization: basic(c.key, c.secret) }
  }
  const consumer = await credential('consumer')
  const publisher = await credential('publisher')
  const tenant = { envId: env.id as string, consumer, publisher }
  if (!opts.signingSecret) return tenant
  const rotated = await client(svc.url, consumer.authorization)('POST', '/webhooks/hmac-secret')
  return { ...tenant, signingSecret: rotated.json.hmacSecret.secret as string }
}
