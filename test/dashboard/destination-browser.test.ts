// The destination form in a real browser (chromium): only the chosen type's fields show, and a
// Redis stream subscription made through it receives the test event.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { brokersRequired, portOpen, unique } from '../support/brokers.ts'
import { eventually } from '../support/eventually.ts'
import { repoRoot, type ServiceProcess } from '../support/service-process.ts'
import { type Credential, createTenant } from '../support/tenant.ts'
import { browserSuite, type Rig, startRig } from './chromium.ts'

const artifacts = join(repoRoot, 'test-artifacts/dashboard')
const redisUp = await portOpen(6379)

browserSuite('the destination form in a browser', () => {
  let rig: Rig
  let svc: ServiceProcess
  let browser: Browser
  let page: Page
  let cred: Credential
  const stream = unique('browser_stream')

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true })
    rig = await startRig()
    ;({ svc, browser } = rig)
    cred = (await createTenant(svc, 'brokers')).consumer
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    page.setDefaultTimeout(10_000)
  }, 30_000)
  afterAll(async () => {
    await rig?.stop()
  })

  it('shows the chosen type’s fields only, and delivers a test event to a Redis stream', async () => {
    if (!redisUp) {
      if (brokersRequired) throw new Error('redis is not listening on 127.0.0.1:6379')
      return
    }
    await page.goto(`${svc.url}/dashboard/login`)
    await page.getByLabel('Credential key').fill(cred.key)
    await page.getByLabel('Credential secret').fill(cred.secret)
    await page.getByRole('button', { name: 'Sign in to the portal' }).click()
    await page.getByRole('link', { name: 'New subscription' }).click()
    const visible = async () =>
      JSON.parse(
        String(
          await page.evaluate(
            'JSON.stringify([...document.querySelectorAll(".dest-fields")].filter((f) => getComputedStyle(f).display !== "none").map((f) => f.dataset.type))',
          ),
        ),
      ) as string[]
    expect(await visible()).toEqual([])
    await page.getByLabel('Destination').selectOption('amqp')
    expect(await visible()).toEqual(['amqp'])
    await page.getByLabel('Destination').selectOption('redis')
    expect(await visible()).toEqual(['redis'])
    await page.getByLabel('URL', { exact: true }).fill('redis://127.0.0.1:6379/0')
    await page.getByLabel('stream').fill(stream)
    await page.screenshot({ path: join(artifacts, 'destination-form.png'), fullPage: true })
    await page.getByRole('button', { name: 'Create subscription' }).click()
    await page.getByText('Subscription created.').waitFor()
    await page.getByRole('button', { name: 'Send test event' }).click()
    await page.getByText('Test event queued as delivery').waitFor()
    const r = new Redis({ host: '127.0.0.1', port: 6379 })
    try {
      await eventually(async () => expect(await r.xlen(stream)).toBe(1), 15_000)
    } finally {
      await r.del(stream)
      r.disconnect()
    }
    await page.locator('#recent tr[data-status="delivered"]').waitFor()
    await page.screenshot({ path: join(artifacts, 'destination-subscription.png'), fullPage: true })
  })
})
