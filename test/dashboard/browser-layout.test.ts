// Every dashboard page in a real browser at desktop (1280 px) and phone (390 px) widths: nothing
// overflows horizontally. Plus what those pages promise: the payload as sent (pretty to read,
// copied byte for byte), the health panel refreshed after "Send test event" without a reload,
// replay presets, copy buttons for secrets and keys, environment names in the operator view.
// Screenshots of every page at both widths go to test-artifacts/dashboard/layout/.
// Browser code is passed to page.evaluate as strings: vitest rewrites functions (pitfall 9).
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { findEventType } from '../../src/events/event-types.ts'
import { eventually } from '../support/eventually.ts'
import type { TestReceiver } from '../support/receiver.ts'
import { client, repoRoot, type ServiceProcess } from '../support/service-process.ts'
import { createTenant } from '../support/tenant.ts'
import { browserSuite, type Rig, startRig } from './chromium.ts'

const artifacts = join(repoRoot, 'test-artifacts/dashboard/layout')
const eventName = 'account_holder.created'
const xss = '<img src=x onerror=alert(1)>'
const widths = [1280, 390] as const

/**
 * A payload whose bytes a re-serialisation would change: CRLF between tokens, a number written
 * 1.50, non-ASCII text, an unbroken 300-character string, and markup.
 */
const sentBody = (() => {
  const example = JSON.stringify(findEventType(eventName)!.example)
  return `{\r\n"note":${JSON.stringify(xss)},"amount":1.50,"city":"Zürich ✓","blob":"${'x'.repeat(300)}",${example.slice(1)}`
})()

/**
 * The page's horizontal overflow: the scrolling element's widths, elements past the right edge of
 * the viewport, and elements sticking out of the card they are in.
 */
const overflowProbe = `(() => {
  const se = document.scrollingElement
  const vw = se.clientWidth
  const wide = []
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '')
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect()
    if (r.width === 0 && r.height === 0) continue
    if (r.right <= 0) continue
    if (r.right > vw + 0.5 || r.width > vw + 0.5) {
      wide.push(name(el) + ' ' + Math.round(r.left) + '..' + Math.round(r.right))
      continue
    }
    const card = el.parentElement && el.parentElement.closest('.card')
    if (card && r.right > card.getBoundingClientRect().right + 0.5) {
      wide.push(name(el) + ' out of its card ' + Math.round(r.right) + ' > ' +
        Math.round(card.getBoundingClientRect().right))
    }
  }
  return { scrollWidth: se.scrollWidth, clientWidth: vw, wide: wide.slice(0, 12) }
})()`

browserSuite('dashboard layout and tools in a browser', () => {
  let rig: Rig
  let svc: ServiceProcess
  let rx: TestReceiver
  let browser: Browser
  let operator: BrowserContext
  let consumer: BrowserContext
  let op: Page
  let page: Page
  /** A consumer of an environment with nothing in it yet. */
  let newcomer: Page
  const ids = { env: '', otherEnv: '', sub: '', delivery: '' }

  const signIn = async (ctx: BrowserContext, how: { token: string } | { key: string; secret: string }) => {
    const p = await ctx.newPage()
    p.setDefaultTimeout(10_000)
    await p.goto(`${svc.url}/dashboard/login`)
    if ('token' in how) {
      await p.getByLabel('Operator token').fill(how.token)
      await p.getByRole('button', { name: 'Sign in as operator' }).click()
    } else {
      await p.getByLabel('Credential key').fill(how.key)
      await p.getByLabel('Credential secret').fill(how.secret)
      await p.getByRole('button', { name: 'Sign in to the portal' }).click()
    }
    await p.waitForURL(/\/dashboard\/(operator|portal)/)
    return p
  }

  const clipboard = (p: Page) => p.evaluate('navigator.clipboard.readText()') as Promise<string>

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true })
    rig = await startRig()
    ;({ svc, rx, browser } = rig)
    rx.respond = (r) => (r.path === '/down' ? { status: 503, body: 'down for maintenance' } : { status: 200 })
    const a = await createTenant(svc, 'BaseKit brand')
    const b = await createTenant(svc, 'Northwind partner')
    const empty = await createTenant(svc, 'Fresh brand')
    ids.env = a.envId
    ids.otherEnv = b.envId
    const subscribe = async (auth: string, path: string) =>
      (
        await client(svc.url, auth)('POST', '/webhooks/subscription', {
          event: eventName,
          url: `${rx.url}${path}`,
          active: true,
        })
      ).json.subscription.id as string
    ids.sub = await subscribe(a.consumer.authorization, '/hook')
    await subscribe(b.consumer.authorization, '/down')
    await client(svc.url, a.publisher.authorization)('POST', '/events', sentBody)
    await client(svc.url, b.publisher.authorization)(
      'POST',
      '/events',
      JSON.stringify(findEventType(eventName)!.example),
    )
    const consumerApi = client(svc.url, a.consumer.authorization)
    await eventually(async () => {
      const list = (await consumerApi('GET', '/webhooks/deliveries')).json.deliveries
      expect(list[0]?.status).toBe('delivered')
      ids.delivery = list[0].id
    })
    await eventually(async () => {
      const list = (await client(svc.url, b.consumer.authorization)('GET', '/webhooks/deliveries')).json
        .deliveries
      expect(list[0]?.status).toBe('failed')
    })

    const options = { permissions: ['clipboard-read', 'clipboard-write'] }
    operator = await browser.newContext(options)
    consumer = await browser.newContext(options)
    op = await signIn(operator, { token: svc.adminToken })
    page = await signIn(consumer, a.consumer)
    newcomer = await signIn(await browser.newContext(), empty.consumer)
  }, 60_000)

  afterAll(async () => {
    await rig?.stop()
  })

  it('fits every page at 1280 px and 390 px: no horizontal scrolling, no element past the edge', async () => {
    const pages: [Page, string, string][] = [
      [op, 'operator-overview', '/dashboard/operator'],
      [op, 'environment', `/dashboard/operator/environments/${ids.env}`],
      [page, 'subscriptions', '/dashboard/portal/subscriptions'],
      [newcomer, 'empty-portal', '/dashboard/portal/subscriptions'],
      [newcomer, 'empty-log', '/dashboard/portal/deliveries'],
      [page, 'subscription-replay', `/dashboard/portal/subscriptions/${ids.sub}`],
      [page, 'delivery-log', '/dashboard/portal/deliveries'],
      [page, 'delivery', `/dashboard/portal/deliveries/${ids.delivery}`],
      [page, 'event-types', '/dashboard/portal/event-types'],
      [page, 'signing-secret', '/dashboard/portal/signing-secret'],
    ]
    const problems: Record<string, unknown> = {}
    for (const width of widths) {
      for (const [p, name, path] of pages) {
        await p.setViewportSize({ width, height: 900 })
        await p.goto(svc.url + path)
        await p.screenshot({ path: join(artifacts, `${name}-${width}.png`), fullPage: true })
        const o = (await p.evaluate(overflowProbe)) as {
          scrollWidth: number
          clientWidth: number
          wide: string[]
        }
        if (o.scrollWidth > o.clientWidth || o.wide.length > 0) problems[`${name} @ ${width}px`] = o
      }
    }
    expect(problems).toEqual({})
  }, 60_000)

  it('shows the payload as sent: pretty-printed and escaped, and "Copy" copies the exact bytes', async () => {
    await page.setViewportSize({ width: 390, height: 900 })
    await page.goto(`${svc.url}/dashboard/portal/deliveries/${ids.delivery}`)
    const payload = page.locator('#payload pre')
    const shown = (await payload.textContent()) ?? ''
    expect(shown).toContain('"amount": 1.50')
    expect(shown).toContain(`"note": ${JSON.stringify(xss)}`)
    expect(shown).toContain('\n  "city": "Zürich ✓"')
    expect(await page.locator('#payload img').count()).toBe(0)
    await page.getByRole('button', { name: 'Copy payload' }).click()
    await page.locator('#copy-status', { hasText: 'Payload copied' }).waitFor({ state: 'attached' })
    const copied = await clipboard(page)
    expect(copied).toBe(sentBody)
    expect(Buffer.from(copied)).toEqual(rx.received.find((r) => r.path === '/hook')!.body)
    await page.screenshot({ path: join(artifacts, 'payload-copied-390.png'), fullPage: true })
  }, 30_000)

  it('updates the health panel after "Send test event", without a reload', async () => {
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.goto(`${svc.url}/dashboard/portal/subscriptions/${ids.sub}`)
    expect(await page.textContent('#health')).toContain('1 succeeded')
    await page.evaluate('window.stillThisPage = true')
    await page.getByRole('button', { name: 'Send test event' }).click()
    await page.getByText('Test event queued as delivery').waitFor()
    await page.locator('#health').getByText('2 succeeded').waitFor({ timeout: 15_000 })
    expect(await page.evaluate('window.stillThisPage')).toBe(true)
  }, 30_000)

  it('starts a replay from a preset range', async () => {
    await page.goto(`${svc.url}/dashboard/portal/subscriptions/${ids.sub}`)
    await page.getByLabel('Last 24 hours').check()
    const before = Date.now()
    await page.getByRole('button', { name: 'Start replay' }).click()
    await page.getByText('Replay started').waitFor()
    const range = page.locator('#replays tbody tr').first().locator('time')
    const since = Date.parse((await range.first().getAttribute('datetime'))!)
    const until = Date.parse((await range.nth(1).getAttribute('datetime'))!)
    expect(until - since).toBe(24 * 3600_000)
    expect(Math.abs(until - before)).toBeLessThan(60_000)
  }, 30_000)

  it('copies a new signing secret, a new credential and a portal link', async () => {
    await page.goto(`${svc.url}/dashboard/portal/signing-secret`)
    await page.getByRole('button', { name: 'Generate a new signing secret' }).click()
    const secret = (await page.locator('[data-secret]').textContent())?.trim()
    expect(secret).toMatch(/^whsec_/)
    await page.getByRole('button', { name: 'Copy signing secret' }).click()
    expect(await clipboard(page)).toBe(secret)

    await op.setViewportSize({ width: 390, height: 900 })
    await op.goto(`${svc.url}/dashboard/operator/environments/${ids.env}`)
    await op.getByRole('button', { name: 'Create credential' }).click()
    for (const what of ['key', 'secret'] as const) {
      const value = (await op.locator(`[data-credential-${what}]`).textContent())?.trim()
      await op.getByRole('button', { name: `Copy credential ${what}` }).click()
      expect(await clipboard(op)).toBe(value)
    }
    await op.screenshot({ path: join(artifacts, 'credential-copy-390.png'), fullPage: true })
  }, 30_000)

  it('names environments in the operator view', async () => {
    await op.setViewportSize({ width: 1280, height: 900 })
    await op.goto(`${svc.url}/dashboard/operator`)
    const failing = op.locator('section[aria-labelledby="failing-h"]')
    expect(await failing.textContent()).toContain('Northwind partner')
    expect(await failing.textContent()).not.toContain(ids.otherEnv)
    const events = op.locator('section[aria-labelledby="oev-h"]')
    expect(await events.textContent()).toContain('Northwind partner')
  }, 30_000)
})
