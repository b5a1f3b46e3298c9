// The one declaration of every setting: its environment variable, CLI flag, default, parser
// and doc line. --help, docs/config.md and load.ts are all derived from this table.
import { parseDuration } from './duration.ts'

export type Role = 'all' | 'api' | 'worker'

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
  masterKey: string | undefined
  secretGraceMs: number
  logLevel: string
  workerConcurrency: number
  perSubscriptionConcurrency: number
  eventBodyLimitBytes: number
  failpoint: string | undefined
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
    key: 'masterKey',
    env: 'HOOKPOST_MASTER_KEY',
    flag: '--master-key',
    default: undefined,
    doc: 'base64 (or hex) of 32 bytes that encrypts signing secrets at rest; generated into the data directory when unset',
    secret: true,
    parse: nonEmpty,
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
    key: 'eventBodyLimitBytes',
    env: 'HOOKPOST_EVENT_BODY_LIMIT',
    flag: '--event-body-limit',
    default: '1mb',
    doc: 'largest accepted event payload (larger: 413)',
    parse: byteSize,
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
] as const satisfies readonly Setting<keyof Config>[]
