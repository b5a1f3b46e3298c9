// The transformation field of the subscription API and POST …/transformation/test, through the
// real app (inject) with the real sandbox.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventTypes } from '../../src/events/event-types.ts'
import { QuickJsTransformer } from '../../src/transformations/quickjs-transformer.ts'
import { type AppHarness, appHarness } from '../support/app-harness.ts'

const code = `function handler(webhook) {
  webhook.payload = { ref: webhook.payload.accountHolder.ref, via: 'hookpost' }
  webhook.headers['x-source'] = 'basekit'
  return webhook
}`

describe('transformation API', () => {
  let h: AppHarness
  const sandbox = new QuickJsTransformer({ timeoutMs: 50, memoryBytes: 8 * 1024 * 1024 })
  beforeAll(async () => {
    h = await appHarness({ transformer: sandbox })
  })
  afterAll(async () => {
    await h.close()
    sandbox.close()
  })

  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, auth = h.consumer) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: auth },
      ...(payload !== undefined ? { payload } : {}),
    })
  const create = (extra: Record<string, unknown> = {}) =>
    call('POST', '/webhooks/subscription', {
      event: 'account_holder.created',
      url: 'https://example.com/hook',
      active: true,
      ...extra,
    })

  it('saves, shows, keeps on PUT without it, and removes with null', async () => {
    const r = await create({ transformation: { code } })
    expect(r.statusCode).toBe(201)
    const sub = r.json().subscription
    expect(sub.transformation).toEqual({ code })
    const base = { event: sub.event, url: sub.url, active: true }
    const kept = await call('PUT', `/webhooks/subscription/${sub.id}`, base)
    expect(kept.json().subscription.transformation).toEqual({ code })
    const removed = await call('PUT', `/webhooks/subscription/${sub.id}`, { ...base, transformation: null })
    expect(removed.json().subscription.transformation).toBeNull()
    expect(
      (await call('GET', `/webhooks/subscription/${sub.id}`)).json().subscription.transformation,
    ).toBeNull()
  })

  it("BaseKit's form is unchanged: no transformation, shown as null", async () => {
    const r = await create()
    expect(r.statusCode).toBe(201)
    expect(r.json().subscription.transformation).toBeNull()
  })

  it.each([
    [
      'a syntax error, with its line and column',
      'function handler(w) {\n  return w +\n}',
      /SyntaxError: .* at line 3, column \d+/,
    ],
    ['no handler', 'const x = 1', /must define a function named handler/],
    ['a top level that never ends', 'for (;;) {}', /time limit/],
    ['empty code', '   ', /non-empty string/],
    [
      'code over 32 KiB',
      `${'//'.padEnd(33 * 1024, 'x')}\nfunction handler(w) { return w }`,
      /over the limit of 32768/,
    ],
  ])('refuses %s: 400 invalid_transformation', async (_what, bad, message) => {
    const r = await create({ transformation: { code: bad } })
    expect(r.statusCode).toBe(400)
    expect(r.json().error).toMatchObject({
      code: 'invalid_transformation',
      message: expect.stringMatching(message),
      details: [{ path: '/transformation/code', message: expect.stringMatching(message) }],
    })
  })

  describe('POST /webhooks/subscription/{id}/transformation/test', () => {
    let id: string
    beforeAll(async () => {
      id = (await create({ transformation: { code } })).json().subscription.id
    })
    const test = (body: object, auth = h.consumer) =>
      call('POST', `/webhooks/subscription/${id}/transformation/test`, body, auth)

    it("runs the saved code on the event type's example by default", async () => {
      const example = eventTypes.find((t) => t.name === 'account_holder.created')!.example as {
        accountHolder: { ref: unknown }
      }
      const r = await test({})
      expect(r.statusCode).toBe(200)
      expect(r.json()).toEqual({
        result: {
          eventName: 'account_holder.created',
          payload: { ref: example.accountHolder.ref, via: 'hookpost' },
          url: 'https://example.com/hook',
          headers: { 'x-source': 'basekit' },
        },
      })
    })

    it('runs code not saved on a given payload, and saves nothing', async () => {
      const r = await test({
        code: 'function handler(w) { return { cancel: w.payload.skip === true } }',
        payload: { skip: true },
      })
      expect(r.json()).toEqual({ result: { cancel: true } })
      expect((await call('GET', `/webhooks/subscription/${id}`)).json().subscription.transformation).toEqual({
        code,
      })
    })

    it('answers a run-time error as transformation_error with its message', async () => {
      const r = await test({ code: 'function handler(w) { return w.payload.missing.field }', payload: {} })
      expect(r.statusCode).toBe(200)
      expect(r.json()).toEqual({
        error: {
          code: 'transformation_error',
          message: expect.stringMatching(/^TypeError: .* at line 1, column \d+$/),
        },
      })
      const url = await test({ code: "function handler(w) { w.url = 'http://example.com/'; return w }" })
      expect(url.json().error.message).toBe(
        'url refused by the sending policy: only https:// URLs are allowed',
      )
    })

    it('refuses code that does not compile: 400 invalid_transformation at /code', async () => {
      const r = await test({ code: 'function handler(' })
      expect(r.statusCode).toBe(400)
      expect(r.json().error).toMatchObject({ code: 'invalid_transformation', details: [{ path: '/code' }] })
    })

    it('without saved code or code given: 400', async () => {
      const plain = (await create()).json().subscription.id
      const r = await call('POST', `/webhooks/subscription/${plain}/transformation/test`, {})
      expect(r.statusCode).toBe(400)
      expect(r.json().error.code).toBe('invalid_transformation')
    })

    it("is the consumer's, in its own environment: another environment's id is 404, a publisher 403", async () => {
      expect((await test({}, h.other.consumer)).statusCode).toBe(404)
      expect((await test({}, h.publisher)).statusCode).toBe(403)
      expect((await test({}, 'Basic eDp5')).statusCode).toBe(401)
    })

    it('is in /openapi.json', async () => {
      const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json()
      expect(doc.paths['/webhooks/subscription/{subscriptionId}/transformation/test'].post.operationId).toBe(
        'testTransformation',
      )
    })
  })
})
