// Request ids: a caller's `X-Request-Id` is kept when it is a sane token (so ids follow a request
// across a proxy or a client's own logs), otherwise one is generated. Fastify binds it to every
// log line of the request as `reqId`, and the answer carries it back in `x-request-id`.
import { pooledRandomBytes } from '../shared/random-pool.ts'

export const requestIdHeader = 'x-request-id'
const acceptable = /^[A-Za-z0-9._:@/+=-]{1,128}$/

export function newRequestId(): string {
  return `req_${Date.now().toString(36)}${pooledRandomBytes(4).toString('hex')}`
}

/** The incoming header when acceptable (one value, 1 to 128 safe characters), else a new id. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && acceptable.test(header) ? header : newRequestId()
}
