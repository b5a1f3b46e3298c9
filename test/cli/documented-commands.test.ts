// Every `npx hookpost …` command that README.md and docs/*.md print runs, as printed, against a
// real service: a documented command that does not work fails here. Only placeholders are
// substituted (ids such as `env_…` or `<envId>`, secrets, the example ports 8080 and 9000, which
// may be taken on the machine running the tests, and the example database URLs: Hookpost's
// PostgreSQL URL a fresh database, the application's `…://app@db/shop` of the outbox commands a
// PostgreSQL or MariaDB database of this run holding the outbox table). Lines that use shell
// variables belong to the README tour, which readme-tour.test.ts runs whole.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import { freshDatabase, postgresAvailable, postgresRequired } from '../support/postgres.ts'
import { TestReceiver } from '../support/receiver.ts'
import { client, freePort, type ServiceProcess } from '../support/service-process.ts'
import { makeTestPki } from '../support/test-pki.ts'
import { type CliTenant, createCliTenant, loopbackService, runCli } from './cli-harness.ts'
import { type DocCommand, documentedCommands, npxShim, runShell } from './doc-commands.ts'
import { requireJq } from './jq.ts'
import { type OutboxDatabases, outboxDatabases } from './outbox-databases.ts'

const commands = documentedCommands()

/** Commands that keep running until Ctrl-C, and what they print once up (as text or --json). */
const longRunning: [RegExp, RegExp][] = [
  [/hookpost serve\b/, /hookpost is listening/],
  [/hookpost deliveries tail\b/, /following/],
  [/hookpost feed\b.*--follow/, /following the feed/],
  [/hookpost listen\b/, /listening: \S+ deliveries/],
  [/hookpost receive\b(?!.*--background)/, /listening on http|"listening":"http/],
  [/hookpost outbox relay\b/, /relaying \S+|"msg":"outbox relay started"/],
]

/** Documented to exit 1. */
const refused = [/hookpost subscriptions check-url http:\/\/10\./]

describe.skipIf(!requireJq())('every hookpost command the documentation prints runs as printed', () => {
  let svc: ServiceProcess
  let rx: TestReceiver
  let t: CliTenant
  let cwd: string
  let shimDir: string
  let subId: string
  let deliveryId: string
  const scratch: string[] = []
  const databases: { drop(): Promise<void> }[] = []
  let outbox: OutboxDatabases | undefined
  /** Why the outbox commands are skipped (no PostgreSQL or MariaDB here, outside CI). */
  let noOutbox = ''

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'hookpost-docs-'))
    shimDir = npxShim()
    try {
      outbox = await outboxDatabases()
      databases.push(outbox)
    } catch (e) {
      if (postgresRequired) throw e
      noOutbox = `outbox commands skipped: ${(e as Error).message}`
    }
    rx = await new TestReceiver().start()
    svc = await loopbackService()
    t = await createCliTenant(svc, 'docs')
    const consumer = client(svc.url, t.consumer.authorization)
    subId = (
      await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: `${rx.url}/hook`,
        active: true,
      })
    ).json.subscription.id
    const example = eventTypes.find((e) => e.name === 'site.publish')!.example
    writeFileSync(join(cwd, 'event.json'), JSON.stringify(example))
    // `--transformation-file handler.js` (docs/transformations.md).
    writeFileSync(
      join(cwd, 'handler.js'),
      "function handler(webhook) {\n  webhook.headers['x-source'] = 'docs'\n  return webhook\n}\n",
    )
    // `publish --file events.ndjson`: two payloads, one a line.
    writeFileSync(join(cwd, 'events.ndjson'), `${JSON.stringify(example)}\n${JSON.stringify(example)}\n`)
    // The endpoint-auth examples of docs/cli.md: secret files and a client certificate.
    writeFileSync(join(cwd, 'token.txt'), 'doc-bearer-token\n')
    writeFileSync(join(cwd, 'client-secret.txt'), 'doc-client-secret\n')
    const pki = makeTestPki()
    writeFileSync(join(cwd, 'client.crt'), pki.client.cert)
    writeFileSync(join(cwd, 'client.key'), pki.client.key)
    pki.cleanup()
    writeFileSync(
      join(cwd, 'catalogue.json'),
      JSON.stringify((await consumer('GET', '/webhooks/event-types')).json),
    )
    deliveryId = await saveFreshDelivery()
  })
  afterAll(async () => {
    await svc?.stop()
    svc?.cleanup()
    await rx?.stop()
    for (const d of [cwd, shimDir, ...scratch]) if (d) rmSync(d, { recursive: true, force: true })
    for (const db of databases) await db.drop()
  })

  /**
   * Publishes the example and saves the delivery as received, the way `verify` reads it
   * (body.bin, headers.txt): fresh for each verify command, whose signature timestamp must be
   * within the 5 minutes a receiver tolerates however slowly the suite runs.
   */
  async function saveFreshDelivery(): Promise<string> {
    const before = rx.received.length
    const example = eventTypes.find((e) => e.name === 'site.publish')!.example
    await client(svc.url, t.publisher.authorization)('POST', '/events', example)
    await eventually(() => expect(rx.received.length).toBeGreaterThan(before), 10_000)
    const saved = rx.received[before]!
    writeFileSync(join(cwd, 'body.bin'), saved.body)
    const headerLines = Object.entries(saved.headers).map(
      ([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`,
    )
    writeFileSync(join(cwd, 'headers.txt'), `POST /hook HTTP/1.1\n${headerLines.join('\n')}\n`)
    return String(saved.headers['webhook-id'])
  }

  /** A documented PostgreSQL URL → a fresh database here (SQLite where there is no PostgreSQL). */
  async function databaseFor(dir: string): Promise<string> {
    const pg = await postgresAvailable()
    if (!pg.ok && postgresRequired) throw new Error(pg.reason)
    if (!pg.ok) return `sqlite:${join(dir, 'migrated.db')}`
    const db = await freshDatabase()
    databases.push(db)
    return db.url
  }

  /** Placeholders → real values; a destructive command gets a subscription or credential of its own. */
  async function substitute(c: DocCommand): Promise<{ text: string; env: Record<string, string> }> {
    const consumer = client(svc.url, t.consumer.authorization)
    const admin = client(svc.url, `Bearer ${svc.adminToken}`)
    let text = c.text
    if (/hookpost verify\b.*--headers headers\.txt/.test(text)) await saveFreshDelivery()
    if (text.includes('sub_…') && /subscriptions (delete|update|pause|resume|verify)/.test(text)) {
      const own = await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: `${rx.url}/scratch`,
        active: true,
      })
      text = text.replaceAll('sub_…', own.json.subscription.id)
    }
    if (text.includes('plk_…')) {
      const own = await admin('POST', `/admin/environments/${t.envId}/portal-links`, {})
      text = text.replaceAll('plk_…', own.json.portalLink.id)
    }
    if (text.includes('spk_…')) {
      const own = await consumer('POST', '/webhooks/signing-keys', { type: 'ed25519' })
      text = text.replaceAll('spk_…', own.json.signingKey.id)
    }
    if (text.includes('key_…')) {
      const own = await admin('POST', `/admin/environments/${t.envId}/credentials`, { role: 'consumer' })
      text = text.replaceAll('key_…', own.json.credential.id)
    }
    const serveDir = mkdtempSync(join(tmpdir(), 'hookpost-docs-serve-'))
    scratch.push(serveDir)
    text = text
      .replaceAll('<envId>', t.envId)
      .replaceAll('env_…', t.envId)
      .replaceAll('sub_…', subId)
      .replaceAll('dlv_…', deliveryId)
      .replaceAll('whsec_…', t.signingSecret)
      .replaceAll('hpk_…', t.consumer.key)
      .replaceAll('hps_…', t.consumer.secret)
      .replaceAll('<command>', 'publish')
      .replaceAll('http://127.0.0.1:8080', svc.url)
      .replace(/--port (8080|9000)\b/g, `--port ${await freePort()}`)
      .replace(/\b(postgres|mysql|mariadb):\/\/app@db\/shop\b/g, (_, d: string) =>
        d === 'postgres' ? outbox!.postgres : outbox!.mysql,
      )
    if (/postgres:\/\/\S+/.test(text) && !/hookpost outbox\b/.test(text)) {
      text = text.replace(/postgres:\/\/\S+/, await databaseFor(serveDir))
    }
    const left = text.match(/\S*…\S*|<[a-zA-Z]+>/)
    if (left) throw new Error(`${c.file}:${c.line}: no value for the placeholder ${left[0]} in: ${c.text}`)
    const credential = /hookpost (publish|outbox relay)\b/.test(text) ? t.publisher : t.consumer
    const store = /hookpost serve\b/.test(text)
      ? { HOOKPOST_DATA_DIR: serveDir, HOOKPOST_DATABASE_URL: `sqlite:${join(serveDir, 'hookpost.db')}` }
      : { HOOKPOST_DATA_DIR: svc.dataDir, HOOKPOST_DATABASE_URL: svc.env['HOOKPOST_DATABASE_URL']! }
    return {
      text,
      env: {
        ...store,
        HOOKPOST_URL: svc.url,
        HOOKPOST_KEY: credential.key,
        HOOKPOST_SECRET: credential.secret,
      },
    }
  }

  it('has an example for every command of hookpost --help', async () => {
    // Breadth first, a few CLI processes at a time (all at once overloads a small machine).
    const leaves: string[] = []
    let level: string[][] = [[]]
    while (level.length > 0) {
      const next: string[][] = []
      for (let i = 0; i < level.length; i += 4) {
        await Promise.all(
          level.slice(i, i + 4).map(async (path) => {
            const help = (await runCli([...path, '--help'], {})).stdout
            const section = help.split('Commands:\n')[1]
            if (!section) return void leaves.push(path.join(' '))
            for (const m of section.matchAll(/^ {2}([a-z][\w-]*)/gm))
              if (m[1] !== 'help') next.push([...path, m[1]!])
          }),
        )
      }
      level = next
    }
    expect(leaves).toContain('credentials create')
    const documented = commands.map((c) => c.text)
    for (const leaf of leaves) {
      expect(
        documented.some((d) => d.includes(`npx hookpost ${leaf}`)),
        `no example of hookpost ${leaf} in README.md or docs/`,
      ).toBe(true)
    }
  })

  it('finds the commands of README.md and docs/cli.md', () => {
    expect(
      commands.some((c) => c.file === 'README.md' && c.text.includes('credentials create <envId>')),
    ).toBe(true)
    expect(commands.filter((c) => c.file === 'docs/cli.md').length).toBeGreaterThan(25)
  })

  /** Runs it; a long-running command until it is up, then Ctrl-C. Resolves with its exit code. */
  async function run(text: string, env: Record<string, string>) {
    const shell = runShell(text, { cwd, env, shimDir })
    const ready = longRunning.find(([cmd]) => cmd.test(text))?.[1]
    if (ready) {
      try {
        await shell.waitFor(ready)
      } finally {
        shell.signal('SIGINT')
      }
    }
    return { code: await shell.exited, shell }
  }

  const expectedCode = (text: string) => (refused.some((r) => r.test(text)) ? 1 : 0)

  for (const c of commands) {
    it(`${c.file}:${c.line}  ${c.text}`, async (ctx) => {
      if (/hookpost outbox\b/.test(c.text) && !outbox) ctx.skip(noOutbox)
      const { text, env } = await substitute(c)
      const { code, shell } = await run(text, env)
      expect(code, `${text}\n${shell.output()}`).toBe(expectedCode(text))
      // For people: tables and lines, never JSON (the service's own log lines aside).
      if (!/hookpost serve\b/.test(text)) expect(shell.stdout(), text).not.toMatch(/^\s*[[{]/)
    })
  }

  // The same commands for scripts: with --json, stdout is one JSON value, or JSON lines for a
  // command that follows something (serve's lines are its logs).
  const forScripts = [
    ...new Map(commands.filter((c) => !/--help|--json/.test(c.text)).map((c) => [c.text, c])).values(),
  ]
  for (const c of forScripts) {
    it(`--json: ${c.text}`, async (ctx) => {
      if (/hookpost outbox\b/.test(c.text) && !outbox) ctx.skip(noOutbox)
      const { text, env } = await substitute(c)
      const { code, shell } = await run(`${text} --json`, env)
      expect(code, `${text} --json\n${shell.output()}`).toBe(expectedCode(text))
      const out = shell.stdout().trim()
      expect(out, text).not.toBe('')
      if (longRunning.some(([cmd]) => cmd.test(text)) || /hookpost replay\b/.test(text)) {
        for (const line of out.split('\n')) expect(() => JSON.parse(line), line).not.toThrow()
      } else expect(() => JSON.parse(out), out).not.toThrow()
    })
  }
})
