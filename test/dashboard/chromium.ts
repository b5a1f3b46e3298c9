// Debian's chromium for the browser tests, driven by playwright-core. Without it a suite is
// skipped (with the reason in its title), except under CI=true, where it fails.
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'
import { describe, it } from 'vitest'
import { TestReceiver } from '../support/receiver.ts'
import { type ServiceProcess, startService } from '../support/service-process.ts'

export const chromiumPath = '/usr/bin/chromium'
export const haveChromium = existsSync(chromiumPath)

/** describe, or describe.skip with the reason when chromium is missing (a failing test under CI). */
export function browserSuite(name: string, fn: () => void): void {
  if (!haveChromium && process.env['CI'] === 'true') {
    describe(name, () => {
      it('needs chromium', () => {
        throw new Error(`${chromiumPath} is missing: CI must install it (bash scripts/ensure-chromium.sh)`)
      })
    })
    return
  }
  if (haveChromium) describe(name, fn)
  else describe.skip(`${name} (skipped: ${chromiumPath} is missing; run bash scripts/ensure-chromium.sh)`, fn)
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export interface Rig {
  svc: ServiceProcess
  rx: TestReceiver
  browser: Browser
  stop(): Promise<void>
}

/**
 * What the browser suites run against: the real service (http to loopback allowed, a retry after
 * 100 ms), a loopback receiver, and chromium.
 */
export async function startRig(): Promise<Rig> {
  const rx = await new TestReceiver().start()
  const svc = await startService({
    HOOKPOST_ALLOW_HTTP: 'true',
    HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8',
    HOOKPOST_RETRY_SCHEDULE: '100ms',
    HOOKPOST_LOG_LEVEL: 'warn',
  })
  const browser = await launchChromium()
  return {
    svc,
    rx,
    browser,
    async stop() {
      await browser.close()
      await svc.stop()
      svc.cleanup()
      await rx.stop()
    },
  }
}
