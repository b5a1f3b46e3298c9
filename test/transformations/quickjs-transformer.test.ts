// The sandbox on its own: what a handler can do, what it cannot reach, and that every way of
// breaking it ends in an error for that call only, the runtime replaced when it may be damaged.
import { afterAll, describe, expect, it } from 'vitest'
import type { UrlCheck } from '../../src/subscriptions/subscriptions.ts'
import type { TransformationInput } from '../../src/subscriptions/transformation.ts'
import { transform } from '../../src/subscriptions/transformation.ts'
import { QuickJsTransformer } from '../../src/transformations/quickjs-transformer.ts'

const sandbox = new QuickJsTransformer({ timeoutMs: 50, memoryBytes: 8 * 1024 * 1024 })
afterAll(() => sandbox.close())

const input: TransformationInput = {
  eventName: 'site.publish',
  payloadJson: '{"eventName":"site.publish",  "site":{"ref":7}}',
  url: 'https://example.com/hook',
  headers: {},
}
const handler = (body: string) => `function handler(webhook) {\n${body}\n}`
const allowAll: UrlCheck = () => ({ ok: true })
const rules = { transformer: sandbox, checkUrl: allowAll, maxBodyBytes: 1024 * 1024 }

describe('QuickJS transformer', () => {
  it('gives the handler the webhook and returns its changes', async () => {
    const code = handler(`
      webhook.payload.site.ref += 1
      webhook.payload.note = 'é ✓'
      webhook.headers['x-tenant'] = 'acme'
      webhook.url = webhook.url + '?v=2'
      return webhook`)
    const r = await transform(rules, code, input, 'sub_1')
    expect(r).toEqual({
      kind: 'send',
      eventName: 'site.publish',
      url: 'https://example.com/hook?v=2',
      headers: { 'x-tenant': 'acme' },
      body: Buffer.from('{"eventName":"site.publish","site":{"ref":8},"note":"é ✓"}'),
    })
  })

  it('keeps the published bytes when the result has no payload', async () => {
    const r = await transform(rules, handler('return { headers: { "x-a": "1" } }'), input)
    expect(r.kind === 'send' && r.body.toString()).toBe(input.payloadJson)
  })

  it('takes handler declared with const, let or function', async () => {
    for (const code of [
      'const handler = (w) => ({ headers: { "x-a": "1" } })',
      'let handler = function (w) { return { headers: { "x-a": "1" } } }',
      'function handler(w) { return { headers: { "x-a": "1" } } }',
    ]) {
      expect(await transform(rules, code, input)).toMatchObject({ kind: 'send', headers: { 'x-a': '1' } })
    }
  })

  it('cancels on { cancel: true }', async () => {
    expect(await transform(rules, handler('return { cancel: true }'), input)).toEqual({ kind: 'cancel' })
  })

  it('compiles once per key and recompiles when the code changes', async () => {
    const counter = 'let n = 0\nfunction handler(w) { n++; w.payload = n; return w }'
    const a = await sandbox.run(counter, input, 'sub_counter')
    const b = await sandbox.run(counter, input, 'sub_counter')
    expect([a, b].map((r) => r.kind === 'result' && r.payloadJson)).toEqual(['1', '2'])
    const c = await sandbox.run(`${counter}\n`, input, 'sub_counter')
    expect(c.kind === 'result' && c.payloadJson).toBe('1')
  })

  it('reaches no clock, randomness, I/O, timers or modules', async () => {
    const probe = handler(`
      return { payload: [typeof Date, typeof require, typeof process, typeof fetch, typeof setTimeout,
        typeof setInterval, typeof XMLHttpRequest, typeof WebAssembly, typeof performance, typeof console] }`)
    const r = await sandbox.run(probe, input)
    expect(r.kind === 'result' && JSON.parse(r.payloadJson!)).toEqual([
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'undefined',
      'object',
    ])
    const random = await sandbox.run(handler('return { payload: Math.random() }'), input)
    expect(random).toEqual({
      kind: 'error',
      message: expect.stringContaining('Math.random is not available'),
    })
  })

  describe('a hostile or broken handler is an error for that call', () => {
    const cases: [what: string, code: string, message: RegExp][] = [
      ['an infinite loop', handler('while (true) {}'), /time limit \(50 ms\)/],
      [
        'an infinite loop at the top level',
        'while (true) {}\nfunction handler(w) { return w }',
        /time limit/,
      ],
      [
        'a huge allocation',
        handler('return { payload: new ArrayBuffer(256 * 1024 * 1024) }'),
        /out of memory/,
      ],
      // Whichever limit it reaches first.
      [
        'memory growing without end',
        handler('const a = []; for (;;) a.push(new Uint8Array(1 << 20))'),
        /out of memory|time limit/,
      ],
      [
        'a slow built-in call',
        handler(
          'const a = []; for (let i = 0; i < 60; i++) a.push(new Array(100000).fill(i)); return webhook',
        ),
        /time limit/,
      ],
      ['a huge string', handler('return { payload: "x".repeat(64 * 1024 * 1024) }'), /out of memory/],
      [
        'catastrophic regex backtracking',
        handler("/(a+)+$/.test('a'.repeat(40) + 'b'); return webhook"),
        /time limit/,
      ],
      // Usually the stack limit; on a loaded machine (a cold WebAssembly tier) the clock may
      // stop it first. Either way it is that call's error and the runtime is replaced.
      [
        'deep recursion',
        handler('function f(n) { return f(n + 1) + 1 }\nreturn f(0)'),
        /stack overflow|ran past its time limit/,
      ],
      ['a throw', handler("throw new Error('boom')"), /^Error: boom at line 2, column \d+$/],
      ['a thrown string', handler("throw 'just a string'"), /uncaught "just a string"/],
      ['a syntax error', handler('return {'), /^SyntaxError: .* at line \d+, column \d+$/],
      [
        'no handler',
        'function notHandler() {}',
        /must define a function named handler \(handler is undefined\)/,
      ],
      ['a non-object result', handler('return 42'), /must return an object .* not number/],
      ['null', handler('return null'), /not null/],
      ['an array', handler('return [webhook]'), /not an array/],
      ['a cycle', handler('const p = {}; p.self = p; webhook.payload = p; return webhook'), /circular/i],
      ['a BigInt', handler('webhook.payload = 1n; return webhook'), /BigInt/i],
      ['a Promise', handler('return Promise.resolve(webhook)'), /Promise: handlers are synchronous/],
      ['an async handler', 'async function handler(w) { return w }', /Promise: handlers are synchronous/],
      ['process', handler('return process.env'), /ReferenceError: 'process' is not defined/],
      ['require', handler("return require('fs')"), /ReferenceError: 'require' is not defined/],
      [
        'fetch',
        handler("fetch('https://example.com'); return webhook"),
        /ReferenceError: 'fetch' is not defined/,
      ],
      ['import()', handler("import('fs'); return webhook"), /asynchronous work pending/],
      ['import() then a throw', handler("import('fs'); throw new Error('after import')"), /after import/],
      ['a static import', "import fs from 'fs'\nfunction handler(w) { return w }", /SyntaxError/],
      ['eval of a clock', handler("return { payload: eval('Date.now()') }"), /'Date' is not defined/],
    ]
    for (const [what, code, message] of cases) {
      it(what, async () => {
        const r = await sandbox.run(code, input, `sub_${what}`)
        expect(r.kind).toBe('error')
        expect(r.kind === 'error' && r.message).toMatch(message)
        // The next call on the same key works again when given working code.
        const ok = await sandbox.run(handler('return webhook'), input, `sub_${what}`)
        expect(ok.kind).toBe('result')
      })
    }
  })

  it('a call that throws with async work queued does not leave it to the next call', async () => {
    const code = handler("if (webhook.payload.bad) { import('fs'); throw new Error('bad') }\nreturn webhook")
    const bad = await sandbox.run(code, { ...input, payloadJson: '{"bad":true}' }, 'sub_async_then_ok')
    expect(bad).toMatchObject({ kind: 'error', message: expect.stringMatching(/^Error: bad/) })
    expect((await sandbox.run(code, input, 'sub_async_then_ok')).kind).toBe('result')
  })

  it('a result over the size limit is refused', async () => {
    const small = new QuickJsTransformer({
      timeoutMs: 50,
      memoryBytes: 8 * 1024 * 1024,
      maxResultChars: 1000,
    })
    const r = await small.run(handler('return { payload: "x".repeat(2000) }'), input)
    expect(r.kind === 'error' && r.message).toMatch(/larger than 1000 characters/)
    small.close()
  })

  it('check() names the line and column of a syntax error', async () => {
    expect(await sandbox.check('function handler(w) {\n  return w +\n}')).toMatchObject({
      ok: false,
      line: 3,
      column: expect.any(Number),
    })
    expect(await sandbox.check(handler('return webhook'))).toEqual({ ok: true })
  })

  it('replaces the WebAssembly instance when handlers keep too much memory, and goes on working', async () => {
    const hoarder = new QuickJsTransformer({
      timeoutMs: 1000,
      memoryBytes: 8 * 1024 * 1024,
      maxInstanceBytes: 48 * 1024 * 1024,
    })
    // Each keeps ~6 MiB in a global between calls: a few of them outgrow the instance's budget.
    const keep =
      'const kept = []\nfunction handler(w) { kept.push(new Uint8Array(6 * 1024 * 1024)); return w }'
    for (let i = 0; i < 12; i++) {
      const r = await hoarder.run(keep, input, `sub_${i}`)
      expect(r.kind).toBe('result')
    }
    expect(hoarder.resets).toBeGreaterThan(0)
    expect(hoarder.size).toBeLessThan(12)
    hoarder.close()
  })

  it('keeps at most maxRuntimes compiled handlers', async () => {
    const few = new QuickJsTransformer({ timeoutMs: 50, memoryBytes: 2 * 1024 * 1024, maxRuntimes: 3 })
    for (let i = 0; i < 10; i++) await few.run(handler('return webhook'), input, `sub_${i}`)
    expect(few.size).toBe(3)
    few.close()
    expect(few.size).toBe(0)
  })
})

describe('transformation rules', () => {
  const run = (body: string, checkUrl = allowAll) =>
    transform({ transformer: sandbox, checkUrl, maxBodyBytes: 100 }, handler(body), input)

  it.each([
    'webhook-signature',
    'Webhook-Id',
    'x-delivery-hmac-sha256',
    'X-Delivery-Attempt',
    'content-type',
    'user-agent',
    'traceparent',
    'host',
    'transfer-encoding',
    'connection',
  ])('refuses the reserved header %s', async (name) => {
    const r = await run(`webhook.headers[${JSON.stringify(name)}] = 'x'; return webhook`)
    expect(r).toEqual({
      kind: 'error',
      message: expect.stringContaining(`"${name.toLowerCase()}" is Hookpost's own`),
    })
  })

  it('refuses bad header names and values', async () => {
    expect(await run("return { headers: { 'bad name': 'x' } }")).toMatchObject({ kind: 'error' })
    expect(await run("return { headers: { 'x-a': 'line\\r\\nbreak' } }")).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('no CR, LF or NUL'),
    })
    expect(await run("return { headers: { 'x-a': 5 } }")).toMatchObject({
      kind: 'error',
      message: 'header "x-a" must be a string, not number',
    })
  })

  it('refuses a URL the sending policy refuses, and a changed eventName', async () => {
    const policy: UrlCheck = (u) =>
      u.startsWith('https://')
        ? { ok: true }
        : { ok: false, code: 'url_not_allowed', reason: 'only https:// URLs are allowed' }
    expect(await run("webhook.url = 'http://10.0.0.1/'; return webhook", policy)).toEqual({
      kind: 'error',
      message: 'url refused by the sending policy: only https:// URLs are allowed',
    })
    expect(await run("webhook.url = 'https://other.example/'; return webhook", policy)).toMatchObject({
      kind: 'send',
      url: 'https://other.example/',
    })
    expect(await run("webhook.eventName = 'other'; return webhook")).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('eventName cannot be changed'),
    })
  })

  it('refuses a body over the limit', async () => {
    expect(await run("return { payload: 'x'.repeat(200) }")).toMatchObject({
      kind: 'error',
      message: 'the payload is 202 bytes, over the limit of 100',
    })
  })
})
