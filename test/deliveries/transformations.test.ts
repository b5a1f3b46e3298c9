// Transformations in the worker against real receivers on loopback: the handler's output is what
// is signed and sent, a cancel ends the delivery cancelled, and a hostile or broken handler fails
// its own delivery at once (transformation_error, no retry) while a plain subscription beside it
// keeps receiving correctly signed deliveries.
import { createHmac } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { UrlCheck } from '../../src/subscriptions/subscriptions.ts'
import { QuickJsTransformer } from '../../src/transformations/quickjs-transformer.ts'
import { eventually } from '../support/eventually.ts'
import { standardHeadersValid } from '../support/independent-verify.ts'
import { TestReceiver } from '../support/receiver.ts'
import { type WorkerHarness, workerHarness } from '../support/worker-harness.ts'

const handler = (body: string) => `function handler(webhook) {\n${body}\n}`
let marker = 0
const event = () =>
  Buffer.from(`{"eventName":"site.publish", "site":{"ref":${++marker}},"accountHolder":{"ref":42}}`)

describe('transformations in the worker', () => {
  let h: WorkerHarness
  let rx: TestReceiver
  const sandbox = new QuickJsTransformer({ timeoutMs: 50, memoryBytes: 8 * 1024 * 1024 })
  // The sending policy of these tests: loopback http, except any path under /forbidden.
  const checkUrl: UrlCheck = (u) =>
    new URL(u).pathname.startsWith('/forbidden')
      ? { ok: false, code: 'url_not_allowed', reason: 'the address is not public' }
      : { ok: true }

  beforeAll(async () => {
    rx = await new TestReceiver().start()
    h = await workerHarness({
      transformer: sandbox,
      checkUrl,
      scheduleMs: [20, 20],
      // Not a test of timeouts: a loaded machine must not turn a slow answer into a second attempt.
      timeoutMs: 15_000,
      worker: { maxTransformedBytes: 64 * 1024 },
    })
  })
  afterAll(async () => {
    await h?.close()
    await rx?.stop()
    sandbox.close()
  })

  const subscribe = (path: string, code?: string) =>
    h.hookpost.subscriptions.create(h.envId, {
      event: 'site.publish',
      url: rx.url + path,
      active: true,
      ...(code !== undefined ? { transformation: { code } } : {}),
    })

  const deliveryOf = async (subscriptionId: string) => {
    const page = await h.hookpost.deliveries.list(h.envId, { subscriptionId })
    expect(page.deliveries).toHaveLength(1)
    return h.hookpost.deliveries.get(h.envId, page.deliveries[0]!.id)
  }

  /** The one request received on path, its HMAC checked with node:crypto alone. */
  const receivedOn = (path: string) => {
    const got = rx.received.filter((r) => r.path === path)
    expect(got).toHaveLength(1)
    const r = got[0]!
    const hmac = createHmac('sha256', Buffer.from(h.secret, 'utf8')).update(r.body).digest('hex')
    expect(r.headers['x-delivery-hmac-sha256']).toBe(hmac)
    expect(standardHeadersValid(h.secret, r.body, r.headers)).toBe(true)
    return r
  }

  it('signs and sends the transformed bytes (verified with an independent HMAC)', async () => {
    const sub = await subscribe(
      '/transformed',
      handler(`
        webhook.payload = { site: webhook.payload.site.ref, name: 'Zoë' }
        webhook.headers['x-tenant'] = 'acme'
        return webhook`),
    )
    await h.hookpost.publisher.publish(h.envId, event())
    await eventually(() => expect(rx.received.filter((r) => r.path === '/transformed')).toHaveLength(1))
    const r = receivedOn('/transformed')
    expect(r.body.toString('utf8')).toBe(`{"site":${marker},"name":"Zoë"}`)
    expect(r.headers['x-tenant']).toBe('acme')
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.headers['x-delivery-event']).toBe('site.publish')
    await eventually(async () => {
      const d = await deliveryOf(sub.id)
      expect(d.delivery.status).toBe('delivered')
      expect(d.attempts[0]!.requestHeaders['x-tenant']).toBe('acme')
    })
  })

  it('with no transformation, sends the published bytes byte for byte', async () => {
    await subscribe('/plain-bytes')
    const raw = event()
    await h.hookpost.publisher.publish(h.envId, raw)
    await eventually(() => expect(rx.received.filter((r) => r.path === '/plain-bytes')).toHaveLength(1))
    expect(Buffer.compare(receivedOn('/plain-bytes').body, raw)).toBe(0)
  })

  it('cancel: the delivery ends cancelled, recorded in its log, nothing sent', async () => {
    const sub = await subscribe('/cancelled', handler('return { cancel: webhook.payload.site.ref > 0 }'))
    await h.hookpost.publisher.publish(h.envId, event())
    await eventually(async () => {
      const d = await deliveryOf(sub.id)
      expect(d.delivery).toMatchObject({
        status: 'cancelled',
        attempts: 1,
        lastError: 'transformation_cancelled',
      })
      expect(d.attempts).toHaveLength(1)
      expect(d.attempts[0]).toMatchObject({
        statusCode: null,
        error: expect.stringMatching(/^transformation_cancelled: /),
      })
    })
    expect(rx.received.filter((r) => r.path === '/cancelled')).toHaveLength(0)
    // A cancel is not a failure of the endpoint.
    expect((await h.hookpost.subscriptions.get(h.envId, sub.id)).health.failureCount).toBe(0)
  })

  it('a new URL the sending policy accepts is where it goes; one it refuses fails the delivery', async () => {
    await subscribe(
      '/before-move',
      handler(`webhook.url = ${JSON.stringify(`${rx.url}/moved`)}; return webhook`),
    )
    const refused = await subscribe(
      '/before-refusal',
      handler(`webhook.url = ${JSON.stringify(`${rx.url}/forbidden`)}; return webhook`),
    )
    await h.hookpost.publisher.publish(h.envId, event())
    await eventually(() => expect(rx.received.filter((r) => r.path === '/moved')).toHaveLength(1))
    receivedOn('/moved')
    await eventually(async () => {
      const d = await deliveryOf(refused.id)
      expect(d.delivery).toMatchObject({ status: 'failed', attempts: 1, lastError: 'transformation_error' })
      expect(d.attempts[0]!.error).toBe(
        'transformation_error: url refused by the sending policy: the address is not public',
      )
    })
    expect(
      rx.received.filter((r) => r.path.startsWith('/forbidden') || r.path.startsWith('/before')),
    ).toEqual([])
  })

  describe('a hostile or broken handler fails its own delivery at once; a plain one beside it is delivered', () => {
    const hostile: [what: string, code: string, message: RegExp][] = [
      ['an infinite loop', handler('for (;;) {}'), /time limit \(50 ms\)/],
      [
        'a huge allocation',
        handler('return { payload: new ArrayBuffer(512 * 1024 * 1024) }'),
        /out of memory/,
      ],
      ['deep recursion', handler('const f = (n) => f(n + 1) + 1\nreturn f(0)'), /stack overflow/],
      ['a throw', handler("throw new TypeError('no site')"), /TypeError: no site at line 2/],
      ['a syntax error (saved before validation)', 'function handler(w) { return w +', /SyntaxError/],
      ['a non-object result', handler("return 'text'"), /must return an object/],
      ['a cycle', handler('webhook.payload.self = webhook.payload; return webhook'), /circular/i],
      ['a huge result', handler("return { payload: 'x'.repeat(100 * 1024) }"), /over the limit of 65536/],
      ['process', handler('return { payload: process.env }'), /'process' is not defined/],
      ['require', handler("return require('child_process').execSync('id')"), /'require' is not defined/],
      ['fetch', handler("fetch('http://169.254.169.254/'); return webhook"), /'fetch' is not defined/],
      ['import()', handler("import('node:fs'); return webhook"), /asynchronous work pending/],
      [
        'a reserved header',
        handler("webhook.headers['webhook-signature'] = 'v1,forged'; return webhook"),
        /Hookpost's own/,
      ],
    ]
    let plain: string
    beforeAll(async () => {
      plain = (await subscribe('/plain')).id
    })

    for (const [i, [what, code, message]] of hostile.entries()) {
      it(what, async () => {
        const path = `/hostile-${i}`
        let sub = await subscribe(path, handler('return webhook'))
        if (code.startsWith('function handler(w) { return w +')) {
          // Code that never compiles cannot be saved: plant it as an older version might have.
          await h.store.subscriptions.update({ ...sub, transformation: code, updated: sub.updated + 1 })
        } else
          sub = await h.hookpost.subscriptions.update(h.envId, sub.id, {
            ...sub,
            destination: null,
            transformation: { code },
          })
        const before = rx.received.filter((r) => r.path === '/plain').length
        const raw = event()
        await h.hookpost.publisher.publish(h.envId, raw)
        await eventually(async () => {
          const page = await h.hookpost.deliveries.list(h.envId, { subscriptionId: sub.id })
          const d = await h.hookpost.deliveries.get(h.envId, page.deliveries[0]!.id)
          expect(d.delivery).toMatchObject({
            status: 'failed',
            attempts: 1,
            lastError: 'transformation_error',
          })
          expect(d.attempts).toHaveLength(1)
          expect(d.attempts[0]!.error).toMatch(/^transformation_error: /)
          expect(d.attempts[0]!.error).toMatch(message)
        })
        await eventually(() =>
          expect(rx.received.filter((r) => r.path === '/plain')).toHaveLength(before + 1),
        )
        const last = rx.received.filter((r) => r.path === '/plain').at(-1)!
        expect(Buffer.compare(last.body, raw)).toBe(0)
        const hmac = createHmac('sha256', Buffer.from(h.secret, 'utf8')).update(last.body).digest('hex')
        expect(last.headers['x-delivery-hmac-sha256']).toBe(hmac)
        expect(standardHeadersValid(h.secret, last.body, last.headers)).toBe(true)
        expect(rx.received.filter((r) => r.path === path)).toEqual([])
        await h.hookpost.subscriptions.delete(h.envId, sub.id)
      })
    }

    it('the plain subscription got every delivery, each once', async () => {
      const page = await h.hookpost.deliveries.list(h.envId, { subscriptionId: plain })
      expect(page.deliveries.length).toBe(hostile.length)
      expect(page.deliveries.map((d) => [d.status, d.attempts, d.lastError])).toEqual(
        hostile.map(() => ['delivered', 1, null]),
      )
    })
  })
})
