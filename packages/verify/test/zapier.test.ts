// The Zapier code step (snippets/zapier.js) run as Zapier runs it: the file's text is the body of
// an async function, in a fresh context with `inputData` (strings only), `output`, `callback` and a
// `require` limited to Node's built-ins: no global crypto, Buffer, TextEncoder or process. The
// delivery is real: signed as the service signs it, POSTed over HTTP to a stand-in for Zapier's
// "Catch Raw Hook", which records the raw body and names headers as Zapier does.
import { readFileSync } from 'node:fs'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { builtinModules, createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import vm from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { deliveryId, newSecret, nodeSign, nowSeconds } from './helpers.js'

const snippetPath = new URL('../snippets/zapier.js', import.meta.url)
const docPath = new URL('../../../docs/zapier.md', import.meta.url)
const snippet = readFileSync(snippetPath, 'utf8')
const nodeRequire = createRequire(import.meta.url)

interface StepResult {
  output?: unknown
  error?: { message: string; code?: string }
}

/** Runs code the way a Code by Zapier (JavaScript) step does. */
async function runCodeStep(code: string, inputData: Record<string, string>): Promise<StepResult> {
  const sandboxRequire = (name: string): unknown => {
    const bare = name.startsWith('node:') ? name.slice('node:'.length) : name
    if (!builtinModules.includes(bare)) throw new Error(`Cannot find module '${name}'`)
    return nodeRequire(name)
  }
  let callbackResult: unknown
  const context = vm.createContext({
    inputData: Object.freeze({ ...inputData }),
    require: sandboxRequire,
    callback: (err: unknown, out: unknown) => {
      if (err) throw err
      callbackResult = out
    },
  })
  const probe = vm.runInContext(
    '[typeof crypto, typeof Buffer, typeof TextEncoder, typeof process, typeof fetch].join()',
    context,
  )
  expect(probe).toBe('undefined,undefined,undefined,undefined,undefined')
  const wrapped = `(async function zapierCodeStep() {\nlet output;\n${code}\n;return output;\n})()`
  try {
    const returned = await vm.runInContext(wrapped, context, {
      filename: 'zapier-code-step.js',
      timeout: 2000,
    })
    return { output: JSON.parse(JSON.stringify(returned ?? callbackResult)) }
  } catch (err) {
    const e = err as { message: string; code?: string }
    return { error: { message: e.message, ...(e.code === undefined ? {} : { code: e.code }) } }
  }
}

/** "Http-X-Delivery-Hmac-Sha256": how Zapier names a caught request's headers (zapier-platform#290). */
function zapierHeaderName(name: string): string {
  const title = name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1).toLowerCase())
    .join('-')
  return name === 'content-type' || name === 'content-length' ? title : `Http-${title}`
}

interface Caught {
  raw_body: string
  headers: Record<string, string>
}

/** A stand-in for "Webhooks by Zapier → Catch Raw Hook": the raw body as text and renamed headers. */
class CatchRawHook {
  caught: Caught[] = []
  url = ''
  #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      this.caught.push({
        raw_body: Buffer.concat(chunks).toString('utf8'),
        headers: this.#rename(req.headers),
      })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success"}')
    })
  })

  #rename(headers: IncomingHttpHeaders): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(headers)) {
      if (v !== undefined) out[zapierHeaderName(k)] = Array.isArray(v) ? v.join(', ') : v
    }
    return out
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/hooks/catch/123/abc/`
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }
}

const hook = new CatchRawHook()
const secret = newSecret()
const body =
  '{"eventName":"account_holder.created","accountHolder":{"ref":199,"firstName":"Zoë","price":1.0}}'

/** Sends a delivery signed as the service signs it and returns what the trigger caught. */
async function deliver(options: { body?: string; timestamp?: number; id?: string } = {}): Promise<Caught> {
  const sent = options.body ?? body
  const headers = nodeSign({
    secrets: [secret],
    id: options.id ?? deliveryId(),
    timestamp: options.timestamp ?? nowSeconds(),
    body: sent,
    eventName: 'account_holder.created',
  })
  const res = await fetch(hook.url, { method: 'POST', headers, body: sent })
  expect(res.status).toBe(200)
  return hook.caught.at(-1)!
}

/** The Input Data mapping docs/zapier.md tells users to set up. */
function documentedMapping(c: Caught): Record<string, string> {
  return {
    secret,
    raw_body: c.raw_body,
    webhook_id: c.headers['Http-Webhook-Id']!,
    webhook_timestamp: c.headers['Http-Webhook-Timestamp']!,
    webhook_signature: c.headers['Http-Webhook-Signature']!,
    hmac: c.headers['Http-X-Delivery-Hmac-Sha256']!,
  }
}

beforeAll(async () => {
  await hook.start()
})
afterAll(async () => {
  await hook.stop()
})

describe('Zapier code step (snippets/zapier.js)', () => {
  it('accepts a real delivery and outputs the payload and the delivery id', async () => {
    const id = deliveryId()
    const caught = await deliver({ id })
    expect(caught.headers['Http-X-Delivery-Hmac-Sha256']).toMatch(/^[0-9a-f]{64}$/)
    const result = await runCodeStep(snippet, documentedMapping(caught))
    expect(result.error).toBeUndefined()
    expect(result.output).toEqual({
      verified: true,
      scheme: 'standard',
      webhook_id: id,
      timestamp: Number(caught.headers['Http-Webhook-Timestamp']),
      event_name: 'account_holder.created',
      attempt: null,
      payload: JSON.parse(body),
    })
  })

  it('tolerates the key spellings users will type or paste', async () => {
    const c = await deliver()
    const spellings: Record<string, string>[] = [
      {
        Secret: secret,
        'Raw Body': c.raw_body,
        'Headers Http Webhook Id': c.headers['Http-Webhook-Id']!,
        'Headers Http Webhook Timestamp': c.headers['Http-Webhook-Timestamp']!,
        'Headers Http Webhook Signature': c.headers['Http-Webhook-Signature']!,
        'Headers Http X Delivery Attempt': c.headers['Http-X-Delivery-Attempt']!,
      },
      { secret, body: c.raw_body, ...c.headers },
      { secret, raw_body: c.raw_body, headers: JSON.stringify(c.headers) },
      {
        signing_secret: secret,
        RAW_BODY: c.raw_body,
        headers__http_webhook_id: c.headers['Http-Webhook-Id']!,
        headers__http_webhook_timestamp: c.headers['Http-Webhook-Timestamp']!,
        signature: c.headers['Http-Webhook-Signature']!,
      },
    ]
    for (const inputData of spellings) {
      const result = await runCodeStep(snippet, inputData)
      expect(result.error, Object.keys(inputData).join()).toBeUndefined()
      expect(result.output).toMatchObject({ verified: true, scheme: 'standard', payload: JSON.parse(body) })
    }
  })

  it('accepts the BaseKit header alone, as hex or base64', async () => {
    const c = await deliver()
    const hex = c.headers['Http-X-Delivery-Hmac-Sha256']!
    for (const value of [hex, Buffer.from(hex, 'hex').toString('base64')]) {
      const result = await runCodeStep(snippet, {
        secret,
        raw_body: c.raw_body,
        'Http X Delivery Hmac Sha256': value,
      })
      expect(result.output).toMatchObject({
        verified: true,
        scheme: 'basekit',
        webhook_id: null,
        timestamp: null,
      })
    }
  })

  it('refuses a tampered delivery, and stops the Zap with an error', async () => {
    const c = await deliver()
    const tamperedInputs: Record<string, string>[] = [
      { ...documentedMapping(c), raw_body: c.raw_body.replace('199', '200') },
      { ...documentedMapping(c), raw_body: JSON.stringify(JSON.parse(c.raw_body)) },
      { ...documentedMapping(c), webhook_id: 'dlv_other' },
      { secret, raw_body: c.raw_body.replace('199', '200'), hmac: c.headers['Http-X-Delivery-Hmac-Sha256']! },
      { ...documentedMapping(c), secret: newSecret() },
    ]
    for (const tampered of tamperedInputs) {
      const result = await runCodeStep(snippet, tampered)
      expect(result.output).toBeUndefined()
      expect(result.error).toMatchObject({ code: 'bad_signature' })
    }
  })

  it('refuses a genuine delivery older than the tolerance, and one with no signature', async () => {
    const old = await deliver({ timestamp: nowSeconds() - 301 })
    expect((await runCodeStep(snippet, documentedMapping(old))).error).toMatchObject({
      code: 'timestamp_too_old',
    })
    const c = await deliver()
    expect((await runCodeStep(snippet, { secret, raw_body: c.raw_body })).error).toMatchObject({
      code: 'missing_signature',
    })
    expect((await runCodeStep(snippet, { raw_body: c.raw_body })).error).toMatchObject({
      code: 'missing_secret',
    })
  })

  it('with STOP_ON_FAILURE = false, outputs verified: false for a Filter step instead', async () => {
    const c = await deliver()
    const lenient = snippet.replace('const STOP_ON_FAILURE = true', 'const STOP_ON_FAILURE = false')
    expect(lenient).not.toBe(snippet)
    const tampered = { ...documentedMapping(c), raw_body: `${c.raw_body} ` }
    expect((await runCodeStep(lenient, tampered)).output).toMatchObject({
      verified: false,
      error_code: 'bad_signature',
    })
    expect((await runCodeStep(lenient, documentedMapping(c))).output).toMatchObject({ verified: true })
  })

  it('is the exact code shown in docs/zapier.md', () => {
    const doc = readFileSync(docPath, 'utf8')
    const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
    expect(blocks).toContain(snippet)
  })
})
