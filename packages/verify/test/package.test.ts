// The published shape: the tarball `npm pack` makes (its prepack builds dist/), then publint
// and attw (are the types wrong?) on that tarball, require() of the CommonJS build, import() of
// the ESM build, and a consumer typecheck with no DOM or Node types, from the unpacked tarball.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { need, npmBin, skipWithout } from '../../../test/support/external-tool.ts'
import { type PackedPackage, packedPackage } from '../../../test/support/packed-package.ts'

const run = promisify(execFile)
const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const repoRoot = join(pkgDir, '..', '..')
const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name)
const publint = npmBin('publint')
const attw = npmBin('attw')
let dir: string
let tarball: string
/** The unpacked tarball. */
let stage: string

async function node(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd: stage, env: { ...process.env, ...env } })
  return stdout.trim()
}

let packed: PackedPackage | undefined

beforeAll(async () => {
  packed = await packedPackage(pkgDir)
  tarball = packed.tarball
  stage = packed.stage
  dir = join(stage, '..')
}, 120_000)

afterAll(() => packed?.remove())

describe('@hookpost/verify as published', () => {
  it('has the files the exports map names, and no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) as Record<string, unknown>
    expect(pkg['dependencies']).toBeUndefined()
    expect(pkg['peerDependencies']).toBeUndefined()
    expect(existsSync(join(stage, 'LICENSE')), 'LICENSE').toBe(true)
    for (const file of ['esm/index.js', 'esm/index.d.ts', 'cjs/index.cjs', 'cjs/index.d.cts', 'zapier.js']) {
      expect(existsSync(join(stage, 'dist', file)), file).toBe(true)
    }
    const cjs = readFileSync(join(stage, 'dist', 'cjs', 'verify.cjs'), 'utf8')
    expect(cjs).toContain('require("./errors.cjs")')
    expect(cjs).not.toMatch(/require\("\.\/[^"]+\.js"\)/)
    expect(readFileSync(join(stage, 'dist', 'cjs', 'index.d.cts'), 'utf8')).not.toMatch(
      /from '\.\/[^']+\.js'/,
    )
  })

  it.skipIf(skipWithout(publint))(
    'passes publint --strict',
    async () => {
      const { stdout } = await run(need(publint), ['run', tarball, '--strict'], { cwd: dir })
      expect(stdout).toContain('All good!')
    },
    30_000,
  )

  it.skipIf(skipWithout(attw))(
    'passes attw (types resolve for node10, node16 CJS/ESM and bundler)',
    async () => {
      const { stdout } = await run(need(attw), [tarball, '--format', 'json', '--no-definitely-typed'], {
        cwd: dir,
      })
      const report = JSON.parse(stdout) as { analysis: { problems: unknown[] } }
      expect(report.analysis.problems).toEqual([])
    },
    30_000,
  )

  it('loads with require() and with import(), and verifies the known answer either way', async () => {
    const check = (load: string) => `
      ${load}
      const headers = {
        'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        'webhook-timestamp': '1614265330',
        'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
      }
      const payload = await lib.verifyWebhook('{"test": 2432232314}', headers, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', {
        now: () => 1614265330000,
      })
      const err = await lib.verifyWebhook('{}', headers, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').catch((e) => e)
      console.log(JSON.stringify({ payload, name: err.name, code: err.code, exports: Object.keys(lib).sort() }))
    `
    const cjs = await node(['-e', `(async () => { ${check("const lib = require('@hookpost/verify')")} })()`])
    const esm = await node([
      '--input-type=module',
      '-e',
      check("const lib = await import('@hookpost/verify')"),
    ])
    for (const out of [cjs, esm]) {
      const parsed = JSON.parse(out) as { payload: unknown; name: string; code: string; exports: string[] }
      expect(parsed).toMatchObject({ payload: { test: 2432232314 }, name: 'WebhookVerificationError' })
      expect(parsed.code).toBe('bad_signature')
      expect(parsed.exports).toEqual(
        expect.arrayContaining([
          'verifyWebhook',
          'verifyWebhookDetailed',
          'verifyWebhookSignature',
          'signWebhook',
        ]),
      )
    }
    expect(JSON.parse(cjs).exports).toEqual(JSON.parse(esm).exports.filter((n: string) => n !== 'default'))
  }, 30_000)

  it('has the dual-package hazard handled: isWebhookVerificationError works across the two copies', async () => {
    const out = await node([
      '--input-type=module',
      '-e',
      `
      import { createRequire } from 'node:module'
      const esm = await import('@hookpost/verify')
      const cjs = createRequire(process.cwd() + '/')('@hookpost/verify')
      const err = await cjs.verifyWebhook('{}', {}, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').catch((e) => e)
      console.log(JSON.stringify([err instanceof esm.WebhookVerificationError, esm.isWebhookVerificationError(err), err.name]))
      `,
    ])
    expect(JSON.parse(out)).toEqual([false, true, 'WebhookVerificationError'])
  }, 30_000)

  it('works without a global crypto (Node 18) when given node:crypto webcrypto', async () => {
    const out = await node([
      '-e',
      `
      delete globalThis.crypto
      const lib = require('@hookpost/verify')
      const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
      ;(async () => {
        const missing = await lib.signWebhook('{}', secret).catch((e) => e.constructor.name + ': ' + e.message)
        const crypto = require('node:crypto').webcrypto
        const headers = await lib.signWebhook('{"a":1}', secret, { crypto })
        const payload = await lib.verifyWebhook('{"a":1}', headers, secret, { crypto })
        console.log(JSON.stringify({ global: typeof globalThis.crypto, missing, payload }))
      })()
      `,
    ])
    const parsed = JSON.parse(out) as { global: string; missing: string; payload: unknown }
    expect(parsed.global).toBe('undefined')
    expect(parsed.missing).toMatch(/^TypeError: .*webcrypto/)
    expect(parsed.payload).toEqual({ a: 1 })
  }, 30_000)

  it('typechecks in a consumer with no DOM and no Node types, as ESM and as CommonJS', async () => {
    const dir = join(stage, 'consumer')
    mkdirSync(dir, { recursive: true })
    const usage = `
      declare const rawBody: Uint8Array
      declare const headers: { [name: string]: string | string[] | undefined }
      declare const subtle: CryptoLike['subtle']
      export async function receive(): Promise<string | null> {
        try {
          const r = await verifyWebhookDetailed<{ eventName: string }>(rawBody, headers, ['whsec_a', 'whsec_b'], {
            scheme: 'standard',
            toleranceSeconds: 60,
            crypto: { subtle },
          })
          return r.id ?? r.payload.eventName
        } catch (err) {
          if (isWebhookVerificationError(err)) {
            const code: WebhookVerificationErrorCode = err.code
            return code
          }
          throw err
        }
      }
    `
    const imports =
      'type CryptoLike, isWebhookVerificationError, verifyWebhookDetailed, type WebhookVerificationErrorCode'
    writeFileSync(join(dir, 'esm.mts'), `import { ${imports} } from '@hookpost/verify'\n${usage}`)
    writeFileSync(join(dir, 'cjs.cts'), `import { ${imports} } from '@hookpost/verify'\n${usage}`)
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2020',
          lib: ['ES2020'],
          types: [],
          module: 'Node16',
          moduleResolution: 'Node16',
          strict: true,
          noEmit: true,
        },
        files: ['esm.mts', 'cjs.cts'],
      }),
    )
    const result = await run(bin('tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch(
      (e: { stdout: string }) => ({ stdout: e.stdout }),
    )
    expect(result.stdout).toBe('')
  }, 30_000)

  it("accepts the DOM's Crypto and Headers in a browser/worker-style consumer", async () => {
    const dir = join(stage, 'consumer-dom')
    mkdirSync(dir, { recursive: true })
    writeFileSync(
      join(dir, 'worker.mts'),
      `import { type CryptoLike, verifyWebhook } from '@hookpost/verify'
      const asLike: CryptoLike = crypto
      export async function handle(request: Request, secret: string): Promise<unknown> {
        const body = await request.arrayBuffer()
        return verifyWebhook(body, request.headers, secret, { crypto: asLike })
      }
      `,
    )
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2020',
          lib: ['ES2020', 'DOM'],
          types: [],
          module: 'Node16',
          moduleResolution: 'Node16',
          strict: true,
          noEmit: true,
        },
        files: ['worker.mts'],
      }),
    )
    const result = await run(bin('tsc'), ['-p', join(dir, 'tsconfig.json')], { cwd: dir }).catch(
      (e: { stdout: string }) => ({ stdout: e.stdout }),
    )
    expect(result.stdout).toBe('')
  }, 30_000)

  it('ships the Zapier code step unchanged', () => {
    expect(readFileSync(join(stage, 'dist', 'zapier.js'), 'utf8')).toBe(
      readFileSync(join(pkgDir, 'snippets', 'zapier.js'), 'utf8'),
    )
  })
})
