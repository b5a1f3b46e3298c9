// The `hookpost` command: argv → Config → the same entry points main.ts and the HTTP API use.
// No logic of its own beyond parsing and printing.
import { Command, CommanderError, Option } from 'commander'
import { type AuditInput, operatorActor } from '../audit/audit-log.ts'
import { loadConfig } from '../config/load.ts'
import { type Config, settings } from '../config/schema.ts'
import type { Hookpost } from '../hookpost.ts'
import type { CredentialRole } from '../store/store.ts'
import { version } from '../version.ts'
import { register as registerDeliveries } from './commands/deliveries.ts'
import { register as registerFeed } from './commands/feed.ts'
import { register as registerListen } from './commands/listen.ts'
import { register as registerOutbox } from './commands/outbox.ts'
import { register as registerPublish } from './commands/publish.ts'
import { register as registerReceive } from './commands/receive.ts'
import { register as registerReplay } from './commands/replay.ts'
import { register as registerSigningKeys } from './commands/signing-keys.ts'
import { register as registerSubscriptions } from './commands/subscriptions.ts'
import { register as registerVerify } from './commands/verify.ts'
import {
  addJsonOption,
  errorText,
  exitCode,
  exitCodeOf,
  fields,
  output,
  rowsOf,
  UsageError,
  wantsJson,
} from './output.ts'

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

/**
 * Only the settings the command has as flags are read from its flags: an operator command's own
 * options (`credentials create --role`) are not settings of the same name (`serve --role`).
 */
function configFrom(flags: Flags, scope: 'all' | 'store' = 'store'): Readonly<Config> {
  const given: Partial<Record<keyof Config, string>> = {}
  for (const s of settings) {
    if (scope === 'store' && !storeSettings.has(s.key)) continue
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
  const core = await openHookpost(configFrom(flags), operatorLogger(flags, createLogger))
  try {
    return await fn(core.hookpost)
  } finally {
    await core.close()
  }
}

/** Operator actions from the command line enter the audit log like those of the API. */
const audit = (h: Hookpost, entry: Omit<AuditInput, 'actor'>) =>
  h.audit.record({ ...entry, actor: operatorActor })

/** An operator command's warnings go to stderr, so that its stdout stays what it prints. */
const operatorLogger = (flags: Flags, createLogger: typeof import('../main.ts')['createLogger']) =>
  createLogger('warn', logTo(2, flags))

/** Readable log lines for a person at a terminal, JSON lines otherwise (and always with --json). */
const logTo = (fd: 1 | 2, flags: Flags) => ({
  fd,
  pretty: (fd === 1 ? process.stdout : process.stderr).isTTY === true && !wantsJson(flags),
  color: !process.env['NO_COLOR'],
})
const iso = (ms: number) => new Date(ms).toISOString()

const program = new Command('hookpost')
  .description('Hookpost: durable, signed, SSRF-safe webhook delivery')
  .version(version)
  .showHelpAfterError()
  // Every command then throws instead of exiting: a wrong command line exits 2 (after commander's
  // message), help and --version exit 0.
  .exitOverride()

withSettings(
  program.command('serve').description('run the API and/or the delivery worker (HOOKPOST_ROLE)'),
  'all',
).action(async (flags: Flags) => {
  const config = configFrom(flags, 'all')
  const { createLogger, start } = await composition()
  // Readable lines for a person at a terminal, JSON for everything else (and with --json).
  const log = createLogger(config.logLevel, logTo(1, flags))
  // Ctrl-C while starting (it logs "listening" before its worker is up) drains once started.
  let early: string | undefined
  const earlyTerm = () => {
    early ??= 'SIGTERM'
  }
  const earlyInt = () => {
    early ??= 'SIGINT'
  }
  process.once('SIGTERM', earlyTerm)
  process.once('SIGINT', earlyInt)
  const running = await start(config, log)
  process.off('SIGTERM', earlyTerm)
  process.off('SIGINT', earlyInt)
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
  if (early) stop(early)
})

withSettings(program.command('migrate').description('apply database migrations and exit')).action(
  async (flags: Flags) => {
    const config = configFrom(flags)
    const { openStore } = await composition()
    const store = await openStore(config)
    await store.migrate()
    await store.close()
    output(flags, { migrated: true }, () => 'migrations applied')
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
    const environment = { id: env.id, name: env.name, created: iso(env.created) }
    output(flags, { environment }, () => fields(environment))
  },
)
withSettings(envs.command('list').description('list environments')).action(async (flags: Flags) => {
  const list = await withCore(flags, (h) => h.environments.list())
  const environments = list.map((e) => ({ id: e.id, name: e.name, created: iso(e.created) }))
  output(flags, { environments }, () =>
    environments.length === 0 ? 'no environments' : rowsOf(environments),
  )
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
  if (role !== 'consumer' && role !== 'publisher')
    throw new UsageError('--role must be consumer or publisher')
  const name = typeof flags['name'] === 'string' ? flags['name'] : undefined
  const { row, secret } = await withCore(flags, async (h) => {
    const c = await h.environments.createCredential(envId, { role: role as CredentialRole, name })
    await audit(h, { action: 'credential.created', envId, target: c.row.id, detail: { role, name } })
    return c
  })
  const credential = { id: row.id, role: row.role, key: row.key, secret, created: iso(row.created) }
  output(flags, { credential }, () => `${fields(credential)}\nthe secret is shown this once: keep it now`)
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
  output(flags, { revoked: credentialId }, () => `revoked ${credentialId}`)
})

const links = program
  .command('portal-links')
  .description("one-time links to an environment's consumer portal (dashboard)")
withSettings(
  links
    .command('create')
    .argument('<envId>')
    .option('--ttl <seconds>', 'how long the link works (60..86400)', '3600')
    .description('issue a link; it is printed this once, and works once'),
).action(async (envId: string, flags: Flags) => {
  const ttl = Number(flags['ttl'])
  if (!Number.isInteger(ttl) || ttl < 60 || ttl > 86_400)
    throw new Error('--ttl must be an integer in 60..86400')
  const { link, token } = await withCore(flags, async (h) => {
    const l = await h.portalLinks.issue(envId, ttl * 1000)
    await audit(h, {
      action: 'portal_link.issued',
      envId,
      target: l.link.id,
      detail: { expires: iso(l.link.expires) },
    })
    return l
  })
  const url = `/dashboard/portal-login?token=${token}`
  const portalLink = { id: link.id, created: iso(link.created), expires: iso(link.expires), url }
  output(flags, { portalLink }, () => `${fields(portalLink)}\nthe link is shown this once and works once`)
})
withSettings(
  links.command('list').argument('<envId>').description('list the links that have not expired, used or not'),
).action(async (envId: string, flags: Flags) => {
  const rows = await withCore(flags, (h) => h.portalLinks.list(envId))
  const at = (ms: number | null) => (ms === null ? null : iso(ms))
  const portalLinks = rows.map((l) => ({
    id: l.id,
    created: iso(l.created),
    expires: iso(l.expires),
    used: at(l.used),
  }))
  output(flags, { portalLinks }, () => (portalLinks.length === 0 ? 'no portal links' : rowsOf(portalLinks)))
})
withSettings(
  links
    .command('revoke')
    .argument('<envId>')
    .argument('<linkId>')
    .description('void a link at once, and end the session it started'),
).action(async (envId: string, linkId: string, flags: Flags) => {
  await withCore(flags, async (h) => {
    await h.portalLinks.revoke(envId, linkId)
    await audit(h, { action: 'portal_link.revoked', envId, target: linkId })
  })
  output(flags, { revoked: linkId }, () => `revoked ${linkId}`)
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
    throw new UsageError('--batch-size must be an integer in 1..10000')
  const { rotateMasterKey, createLogger } = await composition()
  const r = await rotateMasterKey(configFrom(flags), operatorLogger(flags, createLogger), {
    generate: flags['generate'] === true,
    batchSize,
  })
  output(flags, { masterKeyRotation: r }, () => fields(r))
  if (r.unopenableCount > 0) {
    process.stderr.write(
      `hookpost: ${r.unopenableCount} signing secret(s) open under no configured key; keep the previous keys until they are resolved\n`,
    )
    process.exitCode = 1
  }
})

registerSubscriptions(program)
registerSigningKeys(program)
registerPublish(program)
registerDeliveries(program)
registerFeed(program)
registerReplay(program)
registerVerify(program)
registerListen(program)
registerReceive(program)
registerOutbox(program)
addJsonOption(program)

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? exitCode.ok : exitCode.usage)
  process.stderr.write(errorText(e, process.argv.includes('--json')))
  process.exit(exitCodeOf(e))
})
