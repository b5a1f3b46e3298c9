// The one declaration of every setting: its environment variable, CLI flag, default, parser
// and doc line. --help, docs/config.md and load.ts are all derived from this table.
import { parseMasterKey } from '../secrets/secret-box.ts'
import { parseDuration } from './duration.ts'

export type Role = 'all' | 'api' | 'worker'

/** A token bucket: refills at perSecond, holds at most burst. */
export interface RateLimit {
  perSecond: number
  burst: number
}

export interface Config {
  databaseUrl: string
  dataDir: string
  host: string
  port: number
  adminToken: string | undefined
  role: Role
  allowHttp: boolean
  allowedCidrs: string[]
  retryScheduleMs: number[]
  requestTimeoutMs: number
  subscriptionTimeoutMaxMs: number | undefined
  masterKey: string | undefined
  masterKeyPrevious: string[]
  rateLimitPerCredential: RateLimit | null
  rateLimitPerEnvironment: RateLimit | null
  secretGraceMs: number
  logLevel: string
  workerConcurrency: number
  perSubscriptionConcurrency: number
  brokerSubscriptionConcurrency: number
  eventBodyLimitBytes: number
  batchBodyLimitBytes: number
  receiveTimeoutMs: number
  maxConnectionsPerAddress: number
  failpoint: string | undefined
  retentionMs: number
  disableAfterMs: number
  operatorWebhookUrl: string | undefined
  operatorWebhookSecret: string | undefined
  orderingPointers: Record<string, string>
  shutdownGraceMs: number
  databasePoolSize: number
  publicUrl: string | undefined
  metricsToken: string | undefined
  metricsPort: number | undefined
  otel: boolean
  sendThread: boolean
  transformTimeoutMs: number
  transformMemoryBytes: number
  verifyEndpoints: boolean
  extraCaCerts: string | undefined
  egressProxy: string | undefined
}

interface Setting<K extends keyof Config> {
  key: K
  env: string
  flag: string
  default: string | undefined
  doc: string
  secret?: boolean
  parse: (raw: string) => Config[K]
}

function bool(raw: string): boolean {
  const v = raw.trim().toLowerCase()
  if (['true', '1', 'yes', 'on'].includes(v)) return true
  if (['false', '0', 'no', 'off', ''].includes(v)) return false
  throw new Error(`"${raw}" is not a boolean (true or false)`)
}

function int(min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`"${raw}" is not an integer in ${min}..${max}`)
    return n
  }
}

function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

function schedule(raw: string): number[] {
  const parts = list(raw).map(parseDuration)
  if (parts.length === 0) throw new Error('the retry schedule needs at least one delay (e.g. 5s,5m)')
  if (parts.length > 50) throw new Error('the retry schedule has more than 50 delays')
  return parts
}

function byteSize(raw: string): number {
  const m = /^\s*(\d+)\s*(b|kb|kib|mb|mib)?\s*$/i.exec(raw)
  if (!m) throw new Error(`"${raw}" is not a size (e.g. 1mb, 512kb)`)
  const unit = (m[2] ?? 'b').toLowerCase()
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1
  const n = Number(m[1]) * mult
  if (n < 1024 || n > 64 * 1024 * 1024) throw new Error(`"${raw}" must be between 1kb and 64mb`)
  return n
}

function durationBetween(minMs: number, maxMs: number, label: string) {
  return (raw: string): number => {
    const ms = parseDuration(raw)
    if (ms < minMs || ms > maxMs) throw new Error(`must be between ${label}`)
    return ms
  }
}

function pointers(raw: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of list(raw)) {
    const i = pair.indexOf('=')
    const name = pair.slice(0, i).trim()
    const pointer = pair.slice(i + 1).trim()
    if (i <= 0 || !/^(\/[^/]*)+$/.test(pointer)) throw new Error(`"${pair}" is not event.type=/json/pointer`)
    out[name] = pointer
  }
  return out
}

const rateUnits: Record<string, number> = { s: 1, m: 60, h: 3600 }

/** `100/s`, `6000/m,burst=500`, or `off`. The burst defaults to the count given. */
function rateLimit(raw: string): RateLimit | null {
  const v = raw.trim().toLowerCase()
  if (v === 'off') return null
  const m = /^(\d+)\s*\/\s*(s|m|h)(?:\s*,\s*burst\s*=\s*(\d+))?$/.exec(v)
  if (!m) throw new Error(`"${raw}" is not a rate (e.g. 100/s, 6000/m,burst=500, or off)`)
  const count = Number(m[1])
  const burst = m[3] === undefined ? count : Number(m[3])
  if (count < 1 || count > 1_000_000) throw new Error(`"${raw}": the count must be between 1 and 1000000`)
  if (burst < 1 || burst > 1_000_000) throw new Error(`"${raw}": the burst must be between 1 and 1000000`)
  return { perSecond: count / rateUnits[m[2]!]!, burst }
}

function masterKeys(raw: string): string[] {
  const keys = list(raw)
  keys.forEach((k, i) => {
    try {
      parseMasterKey(k)
    } catch {
      throw new Error(`key ${i + 1} is not 32 bytes as base64 or hex`)
    }
  })
  return keys
}

function nonEmpty(raw: string): string {
  if (raw.trim() === '') throw new Error('must not be empty')
  return raw.trim()
}

export const defaultRetrySchedule = '5s,5m,30m,2h,5h,10h,14h,20h,24h'

export const settings = [
  {
    key: 'databaseUrl',
    env: 'HOOKPOST_DATABASE_URL',
    flag: '--database-url',
    default: 'sqlite:./data/hookpost.db',
    doc: '`sqlite:<path>` or `postgres://…`',
    parse: (raw: string) => {
      if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(raw))
        throw new Error(`"${raw}" is neither sqlite:<path> nor postgres://…`)
      return raw
    },
  },
  {
    key: 'dataDir',
    env: 'HOOKPOST_DATA_DIR',
    flag: '--data-dir',
    default: './data',
    doc: 'where the generated admin token and master key are kept',
    parse: nonEmpty,
  },
  {
    key: 'host',
    env: 'HOOKPOST_HOST',
    flag: '--host',
    default: '127.0.0.1',
    doc: 'address the API listens on',
    parse: nonEmpty,
  },
  {
    key: 'port',
    env: 'HOOKPOST_PORT',
    flag: '--port',
    default: '8080',
    doc: 'port the API listens on (0 picks a free one)',
    parse: int(0, 65535),
  },
  {
    key: 'adminToken',
    env: 'HOOKPOST_ADMIN_TOKEN',
    flag: '--admin-token',
    default: undefined,
    doc: 'operator token for `/admin/*`; generated into the data directory on first start when unset',
    secret: true,
    parse: (raw: string) => {
      if (raw.length < 16) throw new Error('must be at least 16 characters')
      return raw
    },
  },
  {
    key: 'role',
    env: 'HOOKPOST_ROLE',
    flag: '--role',
    default: 'all',
    doc: '`all` (API and worker), `api` or `worker`',
    parse: (raw: string): Role => {
      if (raw !== 'all' && raw !== 'api' && raw !== 'worker')
        throw new Error(`"${raw}" is not all, api or worker`)
      return raw
    },
  },
  {
    key: 'allowHttp',
    env: 'HOOKPOST_ALLOW_HTTP',
    flag: '--allow-http',
    default: 'false',
    doc: '`true` lets `http://` URLs be subscribed',
    parse: bool,
  },
  {
    key: 'allowedCidrs',
    env: 'HOOKPOST_ALLOWED_CIDRS',
    flag: '--allowed-cidrs',
    default: '',
    doc: 'comma-separated address ranges exempt from the SSRF guard, e.g. `127.0.0.0/8,::1/128`',
    parse: list,
  },
  {
    key: 'retryScheduleMs',
    env: 'HOOKPOST_RETRY_SCHEDULE',
    flag: '--retry-schedule',
    default: defaultRetrySchedule,
    doc: 'comma-separated delays between attempts (each ±20 % jitter), e.g. `1s,2s,5s`',
    parse: schedule,
  },
  {
    key: 'requestTimeoutMs',
    env: 'HOOKPOST_REQUEST_TIMEOUT',
    flag: '--request-timeout',
    default: '15s',
    doc: 'total deadline of one delivery attempt',
    parse: (raw: string) => {
      const ms = parseDuration(raw)
      if (ms < 100 || ms > 300_000) throw new Error('must be between 100ms and 5m')
      return ms
    },
  },
  {
    key: 'subscriptionTimeoutMaxMs',
    env: 'HOOKPOST_SUBSCRIPTION_TIMEOUT_MAX',
    flag: '--subscription-timeout-max',
    default: undefined,
    doc: "the longest `timeout` a subscription may set (default: `HOOKPOST_REQUEST_TIMEOUT`); a worker's lease lasts twice the longer of the two plus 5 s",
    parse: (raw: string) => {
      const ms = parseDuration(raw)
      if (ms < 100 || ms > 300_000) throw new Error('must be between 100ms and 5m')
      return ms
    },
  },
  {
    key: 'masterKey',
    env: 'HOOKPOST_MASTER_KEY',
    flag: '--master-key',
    default: undefined,
    doc: 'base64 (or hex) of 32 bytes that encrypts signing secrets at rest; generated into the data directory when unset',
    secret: true,
    parse: nonEmpty,
  },
  {
    key: 'masterKeyPrevious',
    env: 'HOOKPOST_MASTER_KEY_PREVIOUS',
    flag: '--master-key-previous',
    default: '',
    doc: 'comma-separated earlier master keys: they only open signing secrets, never seal (master key rotation, see docs/security.md)',
    parse: masterKeys,
  },
  {
    key: 'rateLimitPerCredential',
    env: 'HOOKPOST_RATE_LIMIT_PER_CREDENTIAL',
    flag: '--rate-limit-per-credential',
    default: '1000/s,burst=2000',
    doc: 'token bucket per API credential, per node (`N/s`, `N/m` or `N/h`, optional `,burst=M`, or `off`); over it: 429 with `Retry-After`',
    parse: rateLimit,
  },
  {
    key: 'rateLimitPerEnvironment',
    env: 'HOOKPOST_RATE_LIMIT_PER_ENVIRONMENT',
    flag: '--rate-limit-per-environment',
    default: '2000/s,burst=4000',
    doc: 'token bucket per environment (all its credentials together), per node; same syntax',
    parse: rateLimit,
  },
  {
    key: 'secretGraceMs',
    env: 'HOOKPOST_SECRET_GRACE',
    flag: '--secret-grace',
    default: '24h',
    doc: 'how long the previous signing secret keeps signing after a rotation (0s to 7d)',
    parse: (raw: string) => {
      const ms = parseDuration(raw)
      if (ms > 7 * 86_400_000) throw new Error('must be at most 7d')
      return ms
    },
  },
  {
    key: 'logLevel',
    env: 'HOOKPOST_LOG_LEVEL',
    flag: '--log-level',
    default: 'info',
    doc: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`',
    parse: (raw: string) => {
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(raw))
        throw new Error(`"${raw}" is not a log level`)
      return raw
    },
  },
  {
    key: 'workerConcurrency',
    env: 'HOOKPOST_WORKER_CONCURRENCY',
    flag: '--worker-concurrency',
    default: '512',
    doc: 'attempts in flight at once in one worker process',
    parse: int(1, 10_000),
  },
  {
    key: 'perSubscriptionConcurrency',
    env: 'HOOKPOST_SUBSCRIPTION_CONCURRENCY',
    flag: '--subscription-concurrency',
    default: '32',
    doc: 'attempts in flight at once to one subscription, per worker process',
    parse: int(1, 1000),
  },
  {
    key: 'brokerSubscriptionConcurrency',
    env: 'HOOKPOST_BROKER_SUBSCRIPTION_CONCURRENCY',
    flag: '--broker-subscription-concurrency',
    default: '64',
    doc: "the same for a subscription with a broker destination (its publishes are pipelined on one connection and wait for the broker's confirms, not for a receiver's server)",
    parse: int(1, 1000),
  },
  {
    key: 'eventBodyLimitBytes',
    env: 'HOOKPOST_EVENT_BODY_LIMIT',
    flag: '--event-body-limit',
    default: '1mb',
    doc: 'largest accepted event payload (larger: 413)',
    parse: byteSize,
  },
  {
    key: 'batchBodyLimitBytes',
    env: 'HOOKPOST_BATCH_BODY_LIMIT',
    flag: '--batch-body-limit',
    default: '10mb',
    doc: 'largest accepted `POST /events/batch` body (larger: 413); each payload in it is also held to the event limit',
    parse: byteSize,
  },
  {
    key: 'receiveTimeoutMs',
    env: 'HOOKPOST_RECEIVE_TIMEOUT',
    flag: '--receive-timeout',
    default: '30s',
    doc: 'time a client has to send a whole request to the API (request line, headers and body), from its first byte or from connecting; past it: 408 and the connection is closed',
    parse: durationBetween(1000, 600_000, '1s and 10m'),
  },
  {
    key: 'maxConnectionsPerAddress',
    env: 'HOOKPOST_MAX_CONNECTIONS_PER_ADDRESS',
    flag: '--max-connections-per-address',
    default: '512',
    doc: 'connections open at once to the API from one client address (an IPv6 client: its /64); past it: 429 `too_many_connections` and closed. Behind a reverse proxy every connection comes from the proxy: size it for the proxy',
    parse: int(1, 1_000_000),
  },
  {
    key: 'failpoint',
    env: 'HOOKPOST_FAILPOINT',
    flag: '--failpoint',
    default: undefined,
    doc: 'crash tests only: the process kills itself (SIGKILL) at this named point, as `name` or `name@N` for the Nth time',
    parse: (raw: string) => {
      if (!/^[a-z_]+\.[a-z_]+(@[1-9][0-9]*)?$/.test(raw))
        throw new Error(`"${raw}" is not a failpoint (name or name@N)`)
      return raw
    },
  },
  {
    key: 'retentionMs',
    env: 'HOOKPOST_RETENTION',
    flag: '--retention',
    default: '30d',
    doc: 'finished deliveries, their attempts and events older than this are swept (pending ones never are)',
    parse: durationBetween(3_600_000, 3650 * 86_400_000, '1h and 3650d'),
  },
  {
    key: 'disableAfterMs',
    env: 'HOOKPOST_DISABLE_AFTER',
    flag: '--disable-after',
    default: '5d',
    doc: 'a subscription failing this long with no success is deactivated',
    parse: durationBetween(1000, 365 * 86_400_000, '1s and 365d'),
  },
  {
    key: 'operatorWebhookUrl',
    env: 'HOOKPOST_OPERATOR_WEBHOOK_URL',
    flag: '--operator-webhook-url',
    default: undefined,
    doc: 'where operational events (`delivery.failed`, `subscription.deactivated`, …) are POSTed, signed; off when unset',
    parse: (raw: string) => {
      try {
        const u = new URL(raw)
        if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error()
      } catch {
        throw new Error(`"${raw}" is not an http(s) URL`)
      }
      return raw
    },
  },
  {
    key: 'operatorWebhookSecret',
    env: 'HOOKPOST_OPERATOR_WEBHOOK_SECRET',
    flag: '--operator-webhook-secret',
    default: undefined,
    doc: 'the `whsec_…` secret operational events are signed with; generated into the data directory when unset',
    secret: true,
    parse: (raw: string) => {
      if (!raw.startsWith('whsec_') || Buffer.from(raw.slice(6), 'base64').length < 24) {
        throw new Error('must be whsec_ followed by the base64 of at least 24 bytes')
      }
      return raw
    },
  },
  {
    key: 'orderingPointers',
    env: 'HOOKPOST_ORDERING_KEYS',
    flag: '--ordering-keys',
    default:
      'account_holder.created=/accountHolder/ref,account_holder.package_change=/accountHolder/ref,booking.updated=/booking/ref,site.first_publish=/site/ref,site.publish=/site/ref,store.order_updated=/order/ref',
    doc: 'per event type, the JSON pointer to the ordering key of ordered subscriptions (`X-Ordering-Key` at publish overrides it)',
    parse: pointers,
  },
  {
    key: 'shutdownGraceMs',
    env: 'HOOKPOST_SHUTDOWN_GRACE',
    flag: '--shutdown-grace',
    default: '10s',
    doc: 'on SIGTERM, how long attempts in flight may finish before the rest is left to lease expiry',
    parse: durationBetween(0, 600_000, '0s and 10m'),
  },
  {
    key: 'databasePoolSize',
    env: 'HOOKPOST_DATABASE_POOL',
    flag: '--database-pool',
    default: '10',
    doc: 'PostgreSQL connections per process (plus one for NOTIFY once work is announced, and a worker one for LISTEN)',
    parse: int(1, 200),
  },
  {
    key: 'publicUrl',
    env: 'HOOKPOST_PUBLIC_URL',
    flag: '--public-url',
    default: undefined,
    doc: 'the origin the API is reached at (e.g. `https://hooks.example.com`), used to build the relay URLs of `hookpost listen`; when unset, `http://<host>:<port>` of the API',
    parse: (raw: string) => {
      let u: URL
      try {
        u = new URL(raw)
      } catch {
        throw new Error(`"${raw}" is not an http(s) URL`)
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`"${raw}" is not an http(s) URL`)
      if (u.pathname !== '/' || u.search || u.hash || u.username || u.password)
        throw new Error(`"${raw}" must be an origin only (scheme, host, port), with no path`)
      return u.origin
    },
  },
  {
    key: 'metricsToken',
    env: 'HOOKPOST_METRICS_TOKEN',
    flag: '--metrics-token',
    default: undefined,
    doc: 'when set, `GET /metrics` needs `Authorization: Bearer <token>`; when unset, `/metrics` is open to whoever reaches the port (docs/observability.md)',
    parse: (raw: string) => {
      if (raw.length < 16) throw new Error('must be at least 16 characters')
      return raw
    },
  },
  {
    key: 'metricsPort',
    env: 'HOOKPOST_METRICS_PORT',
    flag: '--metrics-port',
    default: undefined,
    doc: 'also serve `/metrics` alone on this port (on the API host); the way to scrape a `worker`-only process',
    parse: int(1, 65535),
  },
  {
    key: 'otel',
    env: 'HOOKPOST_OTEL',
    flag: '--otel',
    default: 'false',
    doc: '`true` wraps publishes and delivery attempts in OpenTelemetry spans when `@opentelemetry/api` is installed (docs/observability.md)',
    parse: bool,
  },
  {
    key: 'sendThread',
    env: 'HOOKPOST_SEND_THREAD',
    flag: '--send-thread',
    default: 'true',
    doc: '`true` makes a worker send its HTTP requests and broker messages from a thread of its own (a second core for sockets, response parsing and the broker clients); `false` sends from the main thread',
    parse: bool,
  },
  {
    key: 'transformTimeoutMs',
    env: 'HOOKPOST_TRANSFORM_TIMEOUT',
    flag: '--transform-timeout',
    default: '50ms',
    doc: "time limit of one run of a subscription's transformation (docs/transformations.md); past it the delivery fails with `transformation_error`",
    parse: durationBetween(1, 5000, '1ms and 5s'),
  },
  {
    key: 'transformMemoryBytes',
    env: 'HOOKPOST_TRANSFORM_MEMORY',
    flag: '--transform-memory',
    default: '16mb',
    doc: "memory limit of one subscription's transformation sandbox (its QuickJS heap); past it the delivery fails with `transformation_error`",
    parse: (raw: string) => {
      const n = byteSize(raw)
      if (n < 1024 * 1024) throw new Error(`"${raw}" must be between 1mb and 64mb`)
      return n
    },
  },
  {
    key: 'verifyEndpoints',
    env: 'HOOKPOST_VERIFY_ENDPOINTS',
    flag: '--verify-endpoints',
    default: 'false',
    doc: '`true`: a new HTTP subscription (or a changed URL) gets nothing until its endpoint echoes a signed challenge (`verification: "pending"` → `"verified"`; docs/security.md)',
    parse: bool,
  },
  {
    key: 'extraCaCerts',
    env: 'HOOKPOST_EXTRA_CA_CERTS',
    flag: '--extra-ca-certs',
    default: undefined,
    doc: 'a PEM file of certificate authorities trusted for deliveries (HTTP endpoints and `amqps://`, `tls://`, `rediss://` brokers) and OAuth2 token URLs beside the system ones (receivers behind a private CA; docs/security.md)',
    parse: (raw: string) => {
      if (raw.trim() === '') throw new Error('must name a PEM file')
      return raw
    },
  },
  {
    key: 'egressProxy',
    env: 'HOOKPOST_EGRESS_PROXY',
    flag: '--egress-proxy',
    default: undefined,
    doc: '`http://host:port`: every HTTP delivery and token request leaves through this proxy (CONNECT for https, absolute-form for http), given the address the sending policy checked (docs/security.md)',
    parse: (raw: string) => {
      let u: URL
      try {
        u = new URL(raw)
      } catch {
        throw new Error(`"${raw}" is not a URL`)
      }
      if (u.protocol !== 'http:' || u.username || u.password || (u.pathname !== '/' && u.pathname !== ''))
        throw new Error('must be http://host:port (no credentials, no path)')
      return u.origin
    },
  },
] as const satisfies readonly Setting<keyof Config>[]
