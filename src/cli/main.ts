// The `hookpost` command: argv → Config → the same entry points main.ts and the HTTP API use.
// No logic of its own beyond parsing and printing.
import { Command, Option } from 'commander'
import { type AuditInput, auditLog, operatorActor } from '../audit/audit-log.ts'
import { ConfigError, loadConfig } from '../config/load.ts'
import { type Config, settings } from '../config/schema.ts'
import type { Hookpost } from '../hookpost.ts'
import type { CredentialRole } from '../store/store.ts'
import { version } from '../version.ts'
import { register as registerDeliveries } from './commands/deliveries.ts'
import { register as registerListen } from './commands/listen.ts'
import { register as registerOutbox } from './commands/outbox.ts'
import { register as registerPublish } from './commands/publish.ts'
import { register as registerReplay } from './commands/replay.ts'
import { register as registerSubscriptions } from './commands/subscriptions.ts'
import { register as registerVerify } from './commands/verify.ts'
import { receive } from './receive.ts'

type Flags = Record<string, string | boolean | undefined>

/** Store-level settings: what one-off operator commands need. */
const storeSettings = new Set([
  'databaseUrl',
  'dataDir',
  'masterKey',
  'masterKeyPrevious',
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

/**
 * The composition root loads Fastify, the dashboard and the database drivers: only commands
 * that run the service or touch the store load it, so client commands start fast.
 */
const composition = () => import('../main.ts')

/** Runs an operator action against the configured store, then closes it. */
async function withCore<T>(flags: Flags, fn: (h: Hookpost) => Promise<T>): Promise<T> {
  const { openHookpost, createLogger } = await composition()
  const core = await openHookpost(configFrom(flags), createLogger('warn'))
  try {
    return await fn(core.hookpost)
  } finally {
    await core.close()
  }
}

/** Operator actions from the command line enter the audit log like those of the API. */
const audit = (h: Hookpost, entry: Omit<AuditInput, 'actor'>) =>
  auditLog({ store: h.store }).record({ ...entry, actor: operatorActor })

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
  const { createLogger, start } = await composition()
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
    const { openStore } = await composition()
    const store = await openStore(config)
    await store.migrate()
    await store.close()
    process.stdout.write('migrations applied\n')
  },
)

const envs = program.command('environments').description('manage environments (tenants)')
withSettings(envs.command('create').argument('<name>').description('create an environment')).action(
  async (name: string, flags: Flags) => {
    const env = await withCore(flags, async (h) => {
      const env = await h.environments.create({ name })
      await audit(h, { action: 'environment.created', envId: env.id, target: env.id, detail: { name } })
      return env
    })
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
  const { row, secret } = await withCore(flags, async (h) => {
    const c = await h.environments.createCredential(envId, { role: role as CredentialRole, name })
    await audit(h, { action: 'credential.created', envId, target: c.row.id, detail: { role, name } })
    return c
  })
  print({ credential: { id: row.id, role: row.role, key: row.key, secret, created: iso(row.created) } })
})
withSettings(
  creds
    .command('revoke')
    .argument('<envId>')
    .argument('<credentialId>')
    .description('revoke a credential at once'),
).action(async (envId: string, credentialId: string, flags: Flags) => {
  await withCore(flags, async (h) => {
    await h.environments.revokeCredential(envId, credentialId)
    await audit(h, { action: 'credential.revoked', envId, target: credentialId })
  })
  process.stdout.write('revoked\n')
})

const secrets = program.command('secrets').description('signing secrets at rest')
withSettings(
  secrets
    .command('rotate-master-key')
    .option(
      '--generate',
      'first generate a new key into the data directory (the old one moves to master.key.previous)',
    )
    .option('--batch-size <n>', 'rows sealed again per batch', '200')
    .description(
      'seal every signing secret again under the current master key, while the service runs (docs/security.md)',
    ),
).action(async (flags: Flags) => {
  const batchSize = Number(flags['batchSize'])
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new Error('--batch-size must be an integer in 1..10000')
  const { rotateMasterKey, createLogger } = await composition()
  const r = await rotateMasterKey(configFrom(flags), createLogger('warn'), {
    generate: flags['generate'] === true,
    batchSize,
  })
  print({ masterKeyRotation: r })
  if (r.unopenableCount > 0) {
    process.stderr.write(
      `hookpost: ${r.unopenableCount} signing secret(s) open under no configured key; keep the previous keys until they are resolved\n`,
    )
    process.exitCode = 1
  }
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

registerSubscriptions(program)
registerPublish(program)
registerDeliveries(program)
registerReplay(program)
registerVerify(program)
registerListen(program)
registerOutbox(program)

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof ConfigError) process.stderr.write(`${e.message}\n`)
  else process.stderr.write(`hookpost: ${(e as Error).message ?? String(e)}\n`)
  process.exit(1)
})
