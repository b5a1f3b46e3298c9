// The portal's transformation editor: save, remove, refuse code that does not compile, and a
// test run (plain form post and htmx) through the same use cases as the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { QuickJsTransformer } from '../../src/transformations/quickjs-transformer.ts'
import { Browser, type DashHarness, dashHarness } from './harness.ts'

const code =
  "function handler(webhook) {\n  webhook.headers['x-brand'] = 'acme'\n  webhook.payload = { ref: webhook.payload.site.ref }\n  return webhook\n}"

describe('portal transformation editor', () => {
  let h: DashHarness
  let b: Browser
  let subId: string
  const sandbox = new QuickJsTransformer({ timeoutMs: 50, memoryBytes: 8 * 1024 * 1024 })
  beforeAll(async () => {
    h = await dashHarness({}, { transformer: sandbox })
    b = new Browser(h.app)
    await b.signIn(h.consumer)
    subId = (
      await h.hookpost.subscriptions.create(h.envId, {
        event: 'site.publish',
        url: 'https://example.com/hook',
        active: true,
      })
    ).id
  })
  afterAll(async () => {
    await h.close()
    sandbox.close()
  })
  const page = '/dashboard/portal/subscriptions/'

  it('shows the editor with the example payload, saves code and removes it', async () => {
    const r = await b.get(`${page}${subId}`)
    expect(r.status).toBe(200)
    expect(r.body).toContain('id="transformation-code"')
    expect(r.body).toContain('&quot;eventName&quot;: &quot;site.publish&quot;')
    const saved = await b.post(`${page}${subId}/transformation`, { code, payload: '{}' })
    expect(saved.status).toBe(303)
    expect((await h.hookpost.subscriptions.get(h.envId, subId)).transformation).toBe(code)
    const removed = await b.post(`${page}${subId}/transformation`, { code: '  ', payload: '{}' })
    expect(removed.status).toBe(303)
    expect((await h.hookpost.subscriptions.get(h.envId, subId)).transformation).toBeNull()
  })

  it('refuses code that does not compile, keeping what was typed', async () => {
    const r = await b.post(`${page}${subId}/transformation`, { code: 'function handler(w) {', payload: '{}' })
    expect(r.status).toBe(400)
    expect(r.body).toMatch(/SyntaxError/)
    expect(r.body).toContain('function handler(w) {')
  })

  it('test run with htmx: the result region shows what would be sent, nothing saved', async () => {
    const r = await b.post(
      `${page}${subId}/transformation/test`,
      { code, payload: JSON.stringify({ eventName: 'site.publish', site: { ref: 77 } }) },
      { headers: { 'hx-request': 'true' } },
    )
    expect(r.status).toBe(200)
    expect(r.body).toContain('id="transformation-result"')
    expect(r.body).toContain('x-brand: acme')
    expect(r.body).toMatch(/&quot;ref&quot;: 77/)
    expect((await h.hookpost.subscriptions.get(h.envId, subId)).transformation).toBeNull()
  })

  it('test run shows a transformation_error, a cancel, and a payload that is not JSON', async () => {
    const err = await b.post(`${page}${subId}/transformation/test`, {
      code: 'function handler(w) { throw new Error("nope") }',
      payload: '{}',
    })
    expect(err.body).toMatch(/transformation_error<\/code>: Error: nope/)
    const cancel = await b.post(`${page}${subId}/transformation/test`, {
      code: 'function handler(w) { return { cancel: true } }',
      payload: '{}',
    })
    expect(cancel.body).toContain('would end <code>cancelled</code>')
    const bad = await b.post(`${page}${subId}/transformation/test`, { code, payload: '{not json' })
    expect(bad.body).toContain('The test payload is not JSON.')
  })

  it("another environment's subscription is not found", async () => {
    const other = new Browser(h.app)
    await other.signIn(h.other.consumer)
    await other.get('/dashboard/portal/subscriptions')
    const r = await other.post(`${page}${subId}/transformation/test`, { code, payload: '{}' })
    expect(r.status).toBe(404)
  })
})
