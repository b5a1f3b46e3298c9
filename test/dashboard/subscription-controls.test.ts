// The portal's pause/resume, endpoint verification and filter editor (with its "does this
// example match" check), through the real app and the same use cases as the API.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Browser, type DashHarness, dashHarness } from './harness.ts'

describe('portal: subscription controls', () => {
  let h: DashHarness
  let b: Browser
  let id: string
  let page: string
  beforeEach(async () => {
    h = await dashHarness()
    b = new Browser(h.app)
    await b.signIn(h.consumer)
    const sub = await h.hookpost.subscriptions.create(h.envId, {
      event: 'store.order_updated',
      url: 'https://example.com/orders',
      active: true,
    })
    id = sub.id
    page = `/dashboard/portal/subscriptions/${id}`
    await b.get(page)
  })
  afterEach(async () => {
    await h.close()
  })

  it('shows the controls with the event type example to try a filter on', async () => {
    const r = await b.get(page)
    expect(r.body).toContain('id="controls"')
    expect(r.body).toContain('id="pause-button"')
    expect(r.body).toContain('Verify the endpoint')
    // The example payload of store.order_updated is in the check's payload field.
    expect(r.body).toContain('&quot;order&quot;')
    expect(r.body).toContain(`hx-post="${page}/filter/check"`)
  })

  it('pauses and resumes', async () => {
    const paused = await b.post(`${page}/pause`)
    expect(paused.location).toContain('notice=paused')
    expect((await h.hookpost.subscriptions.get(h.envId, id)).paused).toBe(true)
    const shown = await b.get(paused.location!)
    expect(shown.body).toContain('none is sent until you resume')
    expect(shown.body).toContain(`action="${page}/resume"`)
    expect((await b.post(`${page}/resume`)).location).toContain('notice=resumed')
    expect((await h.hookpost.subscriptions.get(h.envId, id)).paused).toBe(false)
  })

  it('sends a challenge and shows the verification state', async () => {
    const r = await b.post(`${page}/verify`)
    expect(r.location).toContain('notice=verification-started')
    const shown = await b.get(r.location!)
    expect(shown.body).toContain('data-state="pending"')
    expect(shown.body).toContain('Send the challenge again')
  })

  it('saves a filter, refuses a bad one naming the bad part, and clears it', async () => {
    const saved = await b.post(`${page}/filter`, { filter: '{"order.price": {"$gte": 50}}' })
    expect(saved.location).toContain('notice=filter-saved')
    expect((await h.hookpost.subscriptions.get(h.envId, id)).filter).toBe('{"order.price":{"$gte":50}}')
    const bad = await b.post(`${page}/filter`, { filter: '{"order.price": {"$between": [1, 2]}}' })
    expect(bad.status).toBe(400)
    expect(bad.body).toContain('/filter/order.price/$between')
    const notJson = await b.post(`${page}/filter`, { filter: '{nope' })
    expect(notJson.status).toBe(400)
    expect(notJson.body).toContain('not valid JSON')
    expect((await b.post(`${page}/filter`, { filter: '' })).status).toBe(303)
    expect((await h.hookpost.subscriptions.get(h.envId, id)).filter).toBeNull()
  })

  it('answers "does this example match" in place with htmx, and as a page without', async () => {
    const payload = JSON.stringify({ order: { price: 54.97, status: 'pending' } })
    const hx = { headers: { 'hx-request': 'true' } }
    const yes = await b.post(`${page}/filter/check`, { filter: '{"order.price": {"$gt": 50}}', payload }, hx)
    expect(yes.body).toContain('data-matches="true"')
    expect(yes.body).not.toContain('<html')
    const no = await b.post(`${page}/filter/check`, { filter: '{"order.status": "paid"}', payload }, hx)
    expect(no.body).toContain('data-matches="false"')
    const bad = await b.post(`${page}/filter/check`, { filter: '{"order.status": {"$x": 1}}', payload }, hx)
    expect(bad.body).toContain('/filter/order.status/$x')
    const plain = await b.post(`${page}/filter/check`, { filter: '{"order.price": {"$gt": 50}}', payload })
    expect(plain.body).toContain('<html')
    expect(plain.body).toContain('data-matches="true"')
    // Nothing was saved by a check.
    expect((await h.hookpost.subscriptions.get(h.envId, id)).filter).toBeNull()
  })

  it("another environment's subscription is not found", async () => {
    const other = await h.hookpost.subscriptions.create(h.other.envId, {
      event: 'site.publish',
      url: 'https://example.com/x',
      active: true,
    })
    for (const action of ['pause', 'resume', 'verify', 'filter', 'filter/check']) {
      expect((await b.post(`/dashboard/portal/subscriptions/${other.id}/${action}`)).status).toBe(404)
    }
  })
})
