// The transformation editor in a real browser (chromium, htmx): type a handler, "Test run" swaps
// in what a delivery would send, "Save transformation" keeps it, and the next test event reaches
// the receiver transformed.
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { eventually } from '../support/eventually.ts'
import type { TestReceiver } from '../support/receiver.ts'
import { client, type ServiceProcess } from '../support/service-process.ts'
import { type Credential, createTenant } from '../support/tenant.ts'
import { browserSuite, type Rig, startRig } from './chromium.ts'

browserSuite('transformation editor in a browser', () => {
  let rig: Rig
  let svc: ServiceProcess
  let rx: TestReceiver
  let browser: Browser
  let page: Page
  let cred: Credential
  let subId: string

  beforeAll(async () => {
    rig = await startRig()
    ;({ svc, rx, browser } = rig)
    cred = (await createTenant(svc, 'brand')).consumer
    const consumer = client(svc.url, cred.authorization)
    subId = (
      await consumer('POST', '/webhooks/subscription', {
        event: 'site.publish',
        url: `${rx.url}/t`,
        active: true,
      })
    ).json.subscription.id
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    page.setDefaultTimeout(10_000)
  }, 30_000)
  afterAll(async () => {
    await rig?.stop()
  })

  it('test-runs over htmx, saves, and the next test event arrives transformed', async () => {
    await page.goto(`${svc.url}/dashboard/login`)
    await page.getByLabel('Credential key').fill(cred.key)
    await page.getByLabel('Credential secret').fill(cred.secret)
    await page.getByRole('button', { name: 'Sign in to the portal' }).click()
    await page.getByRole('heading', { name: 'Subscriptions' }).waitFor()
    await page.goto(`${svc.url}/dashboard/portal/subscriptions/${subId}`)

    await page
      .getByLabel('Code')
      .fill(
        "function handler(webhook) {\n  webhook.headers['x-site'] = String(webhook.payload.site.ref)\n  return webhook\n}",
      )
    const url = page.url()
    await page.getByRole('button', { name: 'Test run' }).click()
    await page.locator('#transformation-result').getByText('x-site: 3412').waitFor()
    // htmx swapped the result in: no navigation, nothing saved, nothing sent.
    expect(page.url()).toBe(url)
    expect(rx.received).toHaveLength(0)

    await page.getByRole('button', { name: 'Save transformation' }).click()
    await page.getByText('Changes saved.').waitFor()
    await page.getByRole('button', { name: 'Send test event' }).click()
    await eventually(() => expect(rx.received).toHaveLength(1))
    expect(rx.received[0]!.headers['x-site']).toBe('3412')
  })
})
