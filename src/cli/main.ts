// The `hookpost` command: argv → Config → the same entry points main.ts and the HTTP API use.
// No logic of its own beyond parsing and printing.
import { Command, Option } from 'commander'
import { ConfigError, loadConfig } from '../config/load.ts'
import { type Config, settings } from '../config/schema.ts'
import type { Hookpost } from '../hookpost.ts'
import { createLogger, openHookpost, openStore, start } from '../main.ts'
import type { CredentialRole } from '../store/store.ts'
import { version } from '../version.ts'
import { receive } from './receive.ts'

type Flags = Record<string, string | boolean | undefined>

/** Store-level settings: what one-off operator commands need. */
const storeSettings = new Set([
  'databaseUrl',
  'dataDir',
  'masterKey',
  'allowHttp',
  'allowedCidrs',
  'host',
  'port',
])

/** Adds the settings as flags: all of them for serve, the store-level ones for operator commands. */
function withSettings(cmd: Command, scope: 'all' | 'store' = 'store'): Command {
  for (const s of settings) {
    if (scope === 'store' && !storeSettings.has(s.key)) continue
    const def =
      s.default === undefined
        ? ''
        : ` (default: ${'secret' in s && s.secret ? 'generated' : s.default || 'empty'})`
    cmd.addOption(new Option(`${s.flag} <value>`, `${s.doc}; env ${s.env}${def}`))
  }
  return cmd
}

function configFrom(flags: Flags): Readonly<Config> {
  const given: Partial<Record<keyof Config, string>> = {}
  for (const s of settings) {
    const name = s.flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
    const v = flags[name]
    if (typeof v === 'string') given[s.key] = v
  }
  return loadConfig(process.env, given)
}

/** Runs an operator action against the configured store, then closes it. */
async function withCore<T>(flags: Flags, fn: (h: Hookpost) => Promise<T>): Promise<T> {
  const core = await openHookpost(configFrom(flags), createLogger('warn'))
  try {
    return await fn(core.hookpost)
  } finally {
    await core.close()
  }
}

const print = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`)
const iso = (ms: number) => new Date(ms).toISOString()

const program = new Command('hookpost')
  .description('Hookpost: durable, signed, SSRF-safe webhook delivery')
  .version(version)
  .showHelpAfterError()

withSettings(
  program.command('serve').description('run the API and/or the delivery worker (HOOKPOST_ROLE)'),
).action(async (flags: Flags) => {
  const config = configFrom(flags)
  const log = createLogger(config.logLevel)
  const running = await start(config, log)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'draining: no new claims, finishing attempts in flight')
    running.close().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
})

withSettings(program.command('migrate').description('apply database migrations and exit')).action(
  async (flags: Flags) => {
    const config = configFrom(flags)
    const store = await openStore(config)
    await store.migrate()
    await store.close()
    process.stdout.write('migrations applied\n')
  },
)

const envs = program.command('environments').description('manage environments (tenants)')
withSettings(envs.command('create').argument('<name>').description('create an environment')).action(
  async (name: string, flags: Flags) => {
    const env = await withCore(flags, (h) => h.environments.create({ name }))
    print({ environment: { id: env.id, name: env.name, created: iso(env.created) } })
  },
)
withSettings(envs.command('list').description('list environments')).action(async (flags: Flags) => {
  const list = await withCore(flags, (h) => h.environments.list())
  print({ environments: list.map((e) => ({ id: e.id, name: e.name, created: iso(e.created) })) })
})

const creds = program.command('credentials').description('manage API credentials')
withSettings(
  creds
    .command('create')
    .argument('<envId>')
    .requiredOption('--role <role>', 'consumer or publisher')
    .option('--name <name>', 'a label')
    .description('create a credential; its secret is printed this once'),
).action(async (envId: string, flags: Flags) => {
  const role = flags['role']
  if (role !== 'consumer' && role !== 'publisher') throw new Error('--role must be consumer or publisher')
  const name = typeof flags['name'] === 'string' ? flags['name'] : undefined
  const { row, secret } = await withCore(flags, (h) =>
    h.environments.createCredential(envId, { role: role as CredentialRole, name }),
  )
  print({ credential: { id: row.id, role: row.role, key: row.key, secret, created: iso(row.created) } })
})
withSettings(
  creds
    .command('revoke')
    .argument('<envId>')
    .argument('<credentialId>')
    .description('revoke a credential at once'),
).action(async (envId: string, credentialId: string, flags: Flags) => {
  await withCore(flags, (h) => h.environments.revokeCredential(envId, credentialId))
  process.stdout.write('revoked\n')
})

program
  .command('receive')
  .description('run a development receiver that prints deliveries and checks their signatures')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on', '9000')
  .option('--secret <whsec>', 'the signing secret to check both signatures with (POST /webhooks/hmac-secret)')
  .option('--status <code>', 'always answer with this HTTP status (to watch retries)')
  .option('--print-body', 'print each body too')
  .action(async (flags: Flags) => {
    const port = Number(flags['port'])
    const status = flags['status'] === undefined ? undefined : Number(flags['status'])
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a port number')
    if (status !== undefined && !(Number.isInteger(status) && status >= 100 && status <= 599)) {
      throw new Error('--status must be an HTTP status code')
    }
    await receive({
      host: String(flags['host']),
      port,
      secret: typeof flags['secret'] === 'string' ? flags['secret'] : undefined,
      status,
      printBody: flags['printBody'] === true,
      out: (l) => process.stdout.write(`${l}\n`),
    })
  })

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof ConfigError) process.stderr.write(`${e.message}\n`)
  else process.stderr.write(`hookpost: ${(e as Error).message ?? String(e)}\n`)
  process.exit(1)
})
