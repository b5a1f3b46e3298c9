// The README's curl tour, run verbatim with bash against a service started the way the README
// starts it, in a temporary directory whose data/ is the service's. Only the example ports (8080,
// 9000) are replaced by free ones. The promised output must show on attempt 1: the receiver is
// listening before the event is published.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { basic } from '../support/basic-auth.ts'
import { eventually } from '../support/eventually.ts'
import { client, freePort, repoRoot, type ServiceProcess, startService } from '../support/service-process.ts'
import { npxShim, readmeTour, runShell, type ShellRun } from './doc-commands.ts'
import { requireJq } from './jq.ts'

/** The environment the README starts the service with (`HOOKPOST_…=… npm start`). */
function readmeServiceEnv(): Record<string, string> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
  const line = readme.split('\n').find((l) => /^(HOOKPOST_\w+=\S+ )+npm start$/.test(l))
  if (!line) throw new Error('README.md no longer starts the service with HOOKPOST_… npm start')
  return Object.fromEntries(line.split(' ').flatMap((w) => (w.includes('=') ? [w.split('=', 2)] : [])))
}

describe.skipIf(!requireJq())('the README tour', () => {
  let svc: ServiceProcess | undefined
  let run: ShellRun | undefined
  let dir: string | undefined
  let shimDir: string | undefined

  afterAll(async () => {
    // The receiver goes on in the background, as in a reader's terminal: stop it.
    const pid = run?.output().match(/receiving in the background: pid (\d+)/)?.[1]
    if (pid) {
      try {
        process.kill(Number(pid), 'SIGTERM')
      } catch {
        // already gone
      }
    }
    run?.signal('SIGKILL')
    await svc?.stop()
    for (const d of [dir, shimDir]) if (d) rmSync(d, { recursive: true, force: true })
  })

  it('runs verbatim and the receiver prints the promised line on attempt 1', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-tour-'))
    mkdirSync(join(dir, 'data'))
    shimDir = npxShim()
    const env = readmeServiceEnv()
    expect(env).toMatchObject({ HOOKPOST_ALLOW_HTTP: 'true' })
    svc = await startService(env, { dataDir: join(dir, 'data') })
    const receiverPort = await freePort()
    const script = readmeTour()
      .body.replaceAll('127.0.0.1:8080', new URL(svc.url).host)
      .replaceAll('127.0.0.1:9000', `127.0.0.1:${receiverPort}`)
      .replaceAll('--port 9000', `--port ${receiverPort}`)
    run = runShell(`set -e -o pipefail\n${script}`, { cwd: dir, env: {}, shimDir })
    expect(await run.exited, run.output()).toBe(0)
    const out = run.output()
    // Step 4: the publish answer.
    expect(out).toMatch(/\{"event":\{"id":"evt_\w+","eventName":"account_holder.created","deliveries":1/)
    // Step 5 waited for the attempt: the retry was accepted (no error answer anywhere).
    expect(out).not.toMatch(/"error": \{/)
    // The receiver's line for the first attempt, both signatures checked.
    const promised =
      /POST \/hook account_holder.created (dlv_\w+) attempt 1: X-Delivery-Hmac-SHA256 ok, webhook-signature ok/
    await eventually(() => expect(run!.output()).toMatch(promised), 10_000)
    const deliveryId = run.output().match(promised)![1]!
    // And attempt 1 is the one that reached it (not refused, then delivered on attempt 2).
    const token = readFileSync(join(dir, 'data', 'admin-token'), 'utf8').trim()
    const admin = client(svc.url, `Bearer ${token}`)
    const envId = (await admin('GET', '/admin/environments')).json.environments[0].id
    const c = (await admin('POST', `/admin/environments/${envId}/credentials`, { role: 'consumer' })).json
      .credential
    const consumer = client(svc.url, basic(c.key, c.secret))
    const d = (await consumer('GET', `/webhooks/deliveries/${deliveryId}`)).json.delivery
    expect(d.attemptLog.find((a: { number: number }) => a.number === 1)).toMatchObject({ statusCode: 200 })
  })
})
