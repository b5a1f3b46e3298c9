// The dashboard in a real browser: Debian's chromium driven by playwright-core, against the real
// service process and a loopback receiver. Sign in with a consumer credential, subscribe the
// receiver, send a test event and see it delivered, make the receiver fail, retry and see the
// new attempt; then the operator's charts; then a portal link opened from another site, once.
// Screenshots go to test-artifacts/dashboard/.
// Browser code is passed to page.evaluate as strings: vitest rewrites functions (pitfall 9).
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { findEventType } from '../../src/events/event-types.ts'
import type { TestReceiver } from '../support/receiver.ts'
import { client, repoRoot, type ServiceProcess } from '../support/service-process.ts'
import { type Credential, createTenant } from '../support/tenant.ts'
import { browserSuite, type Rig, startRig } from './chromium.ts'

const artifacts = join(repoRoot, 'test-artifacts/dashboard')
const eventName = 'account_holder.created'

browserSuite('dashboard in a browser', () => {
  let rig: Rig
  let svc: ServiceProcess
  let rx: TestReceiver
  let browser: Browser
  let page: Page
  let consumerCred: Credential

  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true })

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true })
    rig = await startRig()
    ;({ svc, rx, browser } = rig)
    consumerCred = (await createTenant(svc, 'BaseKit brand')).consumer
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    page.setDefaultTimeout(10_000)
  }, 30_000)

  afterAll(async () => {
    await rig?.stop()
  })

  it('does the consumer flow: sign in, subscribe, test event delivered, failure retried', async () => {
    await page.goto(`${svc.url}/dashboard`)
    expect(new URL(page.url()).pathname).toBe('/dashboard/login')

    // Keyboard: the first Tab reaches the skip link.
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe(
      'Skip to content',
    )

    await page.getByLabel('Credential key').fill(consumerCred.key)
    await page.getByLabel('Credential secret').fill(consumerCred.secret)
    await shot('01-sign-in')
    await page.getByRole('button', { name: 'Sign in to the portal' }).click()
    await page.getByRole('heading', { name: 'Subscriptions' }).waitFor()
    expect(await page.textContent('header')).toContain('BaseKit brand')

    // Subscribe the receiver.
    await page.getByRole('link', { name: 'New subscription' }).click()
    await page.getByLabel('Event type').selectOption(eventName)
    await page.getByLabel('URL', { exact: true }).fill(`${rx.url}/hook`)
    await page.getByRole('button', { name: 'Create subscription' }).click()
    await page.getByText('Subscription created.').waitFor()
    await shot('02-subscription')

    // Send a test event: the subscription's recent deliveries refresh themselves until it is in.
    const sendTestEvent = page.getByRole('button', { name: 'Send test event' })
    await sendTestEvent.click()
    await page.getByText('Test event queued as delivery').waitFor()
    await page.locator('#recent tr[data-status="delivered"]').waitFor()
    expect(rx.received).toHaveLength(1)
    expect(rx.received[0]!.headers['x-delivery-event']).toBe(eventName)
    expect(JSON.parse(rx.received[0]!.body.toString())).toEqual(findEventType(eventName)!.example)
    await shot('03-test-event')

    // The receiver fails: one attempt and one retry (HOOKPOST_RETRY_SCHEDULE=100ms), then failed.
    rx.respond = () => ({ status: 500, body: 'receiver down' })
    await sendTestEvent.click()
    await page.locator('#recent tr[data-status="failed"]').waitFor({ timeout: 15_000 })
    expect(rx.received).toHaveLength(3)

    // The delivery log shows both.
    await page.getByRole('link', { name: 'Delivery log' }).click()
    await page.locator('tr[data-status="delivered"]').waitFor()
    const failedRow = page.locator('tr[data-status="failed"]').first()
    await failedRow.waitFor()
    await shot('04-log')

    // Filter the log to failures (an htmx swap), open the failed delivery and retry it.
    await page.getByLabel('Status').selectOption('failed')
    await page.getByRole('button', { name: 'Filter' }).click()
    await page.waitForURL(/status=failed/)
    expect(await page.locator('tr[data-status]').count()).toBe(1)
    await failedRow.getByRole('link').first().click()
    await page.locator('[data-attempt="2"]').waitFor()
    expect(await page.textContent('[data-attempt="2"]')).toContain('HTTP 500')
    expect(await page.textContent('[data-attempt="2"]')).toContain('receiver down')
    expect(await page.textContent('[data-attempt="2"]')).toContain('x-delivery-hmac-sha256')
    await shot('05-failed')

    rx.respond = () => ({ status: 200, body: 'ok' })
    await page.getByRole('button', { name: 'Retry now' }).click()
    await page.getByText('Retry queued').waitFor()
    // The state region polls until the new attempt is in.
    await page.locator('[data-attempt="3"]').waitFor({ timeout: 15_000 })
    await page.locator('#delivery-state .badge.s-delivered').waitFor({ timeout: 15_000 })
    expect(await page.textContent('[data-attempt="3"]')).toContain('HTTP 200')
    expect(rx.received).toHaveLength(4)
    await shot('06-retried')
  }, 60_000)

  it("shows the subscription's health, toggles it, and shows the operator's charts", async () => {
    await page.getByRole('link', { name: 'Subscriptions' }).click()
    await page.getByRole('link', { name: eventName }).click()
    await page.getByRole('heading', { name: 'Health' }).waitFor()
    expect(await page.textContent('#health-h + dl')).toContain('Last failure')
    await shot('07-health')

    // Deactivate and activate again: htmx swaps the settings region in place.
    await page.getByRole('button', { name: 'Deactivate' }).click()
    await page.getByText('Subscription deactivated').waitFor()
    expect(await page.textContent('#subscription .badge')).toBe('inactive')
    await page.getByRole('button', { name: 'Activate' }).click()
    await page.getByText('Subscription activated.').waitFor()
    expect(await page.textContent('#subscription .badge')).toBe('active')

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.waitForURL(/\/dashboard\/login$/)
    await page.getByLabel('Operator token').fill(svc.adminToken)
    await page.getByRole('button', { name: 'Sign in as operator' }).click()
    await page.getByRole('heading', { name: 'Operator overview' }).waitFor()
    expect(await page.locator('svg[role="img"]').count()).toBeGreaterThanOrEqual(2)
    expect(await page.textContent('main')).toContain(`${rx.url}/hook`)
    await shot('08-operator')
  }, 30_000)

  it('opens a portal link from another site once, with a button press; a second opening is refused', async () => {
    const admin = client(svc.url, `Bearer ${svc.adminToken}`)
    const envId = (await admin('GET', '/admin/environments')).json.environments[0].id as string
    const link = (await admin('POST', `/admin/environments/${envId}/portal-links`, {})).json.portalLink
    const url = `${svc.url}${link.url}`
    for (const [n, expected] of [
      [1, 'Subscriptions'],
      [2, 'Portal link not valid'],
    ] as const) {
      // A mail client's page: the navigation to the link is cross-site (SameSite=Strict cookies).
      const context = await browser.newContext()
      const mail = await context.newPage()
      mail.setDefaultTimeout(10_000)
      await mail.setContent(`<a href="${url}">Open your webhook portal</a>`)
      await mail.getByRole('link', { name: 'Open your webhook portal' }).click()
      await mail.getByRole('button', { name: 'Continue to the portal' }).click()
      await mail.getByRole('heading', { name: expected }).waitFor()
      if (n === 1) await mail.screenshot({ path: join(artifacts, '09-portal-link.png'), fullPage: true })
      await context.close()
    }
  }, 30_000)
})
