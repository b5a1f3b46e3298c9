// The portal's endpoint authentication form (views/endpoint-auth-views.tsx) as the use case's
// input: an empty secret field keeps the stored secret ("****"), header lines `name: value`.
import { AppError } from '../shared/errors.ts'
import { type EndpointInput, masked } from '../subscriptions/endpoint-auth.ts'
import { type Form, field } from './web.ts'

const pem = 16_384

export function endpointInputOf(f: Form): EndpointInput {
  const keep = (name: string, max: number) => field(f, name, max) ?? masked
  const type = field(f, 'authType', 20) ?? 'none'
  let auth: EndpointInput['auth']
  switch (type) {
    case 'none':
      auth = null
      break
    case 'basic':
      auth = { type, username: field(f, 'username', 200) ?? '', password: keep('password', 1024) }
      break
    case 'bearer':
      auth = { type, token: keep('token', 4096) }
      break
    case 'oauth2': {
      const scope = field(f, 'scope', 1024)
      auth = {
        type,
        tokenUrl: field(f, 'tokenUrl', 2048) ?? '',
        clientId: field(f, 'clientId', 500) ?? '',
        clientSecret: keep('clientSecret', 1024),
        ...(scope ? { scope } : {}),
      }
      break
    }
    case 'mtls':
      auth = { type, certificate: field(f, 'certificate', pem) ?? '', privateKey: keep('privateKey', pem) }
      break
    default:
      throw new AppError('endpoint_auth_invalid', { message: 'Choose an authentication type.' })
  }
  const headers: Record<string, string> = {}
  const raw = typeof f['headers'] === 'string' ? f['headers'] : ''
  for (const line of raw.split(/\r?\n/)) {
    if (line.trim() === '') continue
    const i = line.indexOf(':')
    if (i <= 0)
      // The line is not echoed back: it may hold a secret.
      throw new AppError('header_invalid', { message: 'Each header line must be "name: value".' })
    headers[line.slice(0, i).trim()] = line.slice(i + 1).trim()
  }
  return { auth, headers }
}
