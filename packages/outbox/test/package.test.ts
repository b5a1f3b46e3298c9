// The published shape: the tarball `npm pack` makes (its prepack builds dist/), then publint, attw (are the
// types wrong?), require() and import() of both builds without a driver loaded, and a consumer
// typecheck in which a payload that breaks its event's schema is a compile error.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PackedPackage, packedPackage } from '../../../test/support/packed-package.ts'

const run = promisify(execFile)
const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const repoRoot = join(pkgDir, '..', '..')
const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name)
let stage: string

async function node(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, args, { cwd: stage })
  return stdout.trim()
}

let packed: PackedPackage | undefined

beforeAll(async () => {
  packed = await packedPackage(pkgDir)
  stage = packed.stage
}, 120_000)

afterAll(() => packed?.remove())

describe('@hookpost/outbox as published', () => {
  it('has the files the exports map names; the drivers are optional peers, nothing else', () => {
    const pkg = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) as Record<string, unknown>
    expect(pkg['dependencies']).toBeUndefined()
    expect(Object.keys(pkg['peerDependencies'] as object).sort()).toEqual(['mysql2', 'pg'])
    expect(pkg['peerDependenciesMeta']).toEqual({ mysql2: { optional: true }, pg: { optional: true } })
    expect(existsSync(join(stage, 'LICENSE')), 'LICENSE').toBe(true)
    for (const file of ['esm/index.js', 'esm/index.d.ts', 'cjs/index.cjs', 'cjs/index.d.cts']) {
      expect(existsSync(join(stage, 'dist', file)), file).toBe(true)
    }
  })

  it('passes publint --strict', async () => {
    const { stdout } = await run(bin('publint'), ['run', stage, '--strict'], { cwd: stage })
    expect(stdout).not.toMatch(/Errors:|Warnings:/)
  }, 30_000)

  it('passes attw on the tarball (types resolve for node10, node16 CJS/ESM and bundler)', async () => {
    const { stdout } = await run(bin('attw'), [packed!.tarball, '--format', 'json'], { cwd: stage })
    const report = JSON.parse(stdout) as { analysis: { problems: unknown[] } }
    expect(report.analysis.problems).toEqual([])
  }, 60_000)

  it('loads with require() and with import() without loading pg or mysql2', async () => {
    const check = (load: string) => `
      ${load}
      const outbox = lib.createOutbox({ dialect: 'mysql' })
      const s = outbox.insert({ eventName: 'site.publish' }, { orderingKey: 'k' })
      const loaded = Object.keys(require.cache ?? {}).filter((f) => /node_modules\\/(pg|mysql2)\\//.test(f))
      console.log(JSON.stringify({ s, loaded, exports: Object.keys(lib).sort() }))
    `
    const cjs = await node(['-e', `(async () => { ${check("const lib = require('@hookpost/outbox')")} })()`])
    const esm = await node([
      '--input-type=module',
      '-e',
      `import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/');
      ${check("const lib = await import('@hookpost/outbox')")}`,
    ])
    for (const out of [cjs, esm]) {
      const parsed = JSON.parse(out) as {
        s: { sql: string; params: unknown[] }
        loaded: string[]
        exports: string[]
      }
      expect(parsed.s).toEqual({
        sql: 'insert into `hookpost_outbox` (event_name, payload, ordering_key) values (?, ?, ?)',
        params: ['site.publish', '{"eventName":"site.publish"}', 'k'],
      })
      expect(parsed.loaded).toEqual([])
      expect(parsed.exports).toEqual(
        expect.arrayContaining(['createOutbox', 'createRelay', 'outboxMigration']),
      )
    }
    expect(JSON.parse(cjs).exports).toEqual(JSON.parse(esm).exports.filter((n: string) => n !== 'default'))
  }, 30_000)

  it('types payloads from the catalogue in a consumer (ESM and CommonJS): a wrong payload does not compile', async () => {
    const dir = join(stage, 'consumer')
    mkdirSync(dir, { recursive: true })
    const usage = `
      declare const client: Queryable
      const outbox = createOutbox({ dialect: 'postgres' })
      export async function ok(): Promise<void> {
        await outbox.write(client, { eventName: 'site.publish', site: { ref: 1 } } as HookpostEventOf<'site.publish'>)
        await outbox.write(client, {
          eventName: 'store.order_updated',
          order: { ref: 1, status: 'paid' },
        } as HookpostEvent)
      }
      export async function wrong(): Promise<void> {
        // @ts-expect-error an event name outside the catalogue
        await outbox.write(client, { eventName: 'site.deleted' })
        // @ts-expect-error site.first_publish requires its site
        await outbox.write(client, { eventName: 'site.first_publish' })
      }
      type Mine = { eventName: 'thing.done'; thing: { id: string } }
      const mine = createOutbox<Mine>({ dialect: 'mysql', table: 'app.outbox' })
      export const row = mine.row({ eventName: 'thing.done', thing: { id: 'a' } })
      // @ts-expect-error thing.id is a string
      export const bad = mine.row({ eventName: 'thing.done', thing: { id: 1 } })
    `
    const imports = 'createOutbox, type HookpostEvent, type HookpostEventOf, type Queryable'
    writeFileSync(join(dir, 'esm.mts'), `import { ${imports} } from '@hookpost/outbox'\n${usage}`)
    writeFileSync(join(dir, 'cjs.cts'), `import { ${imports} } from '@hookpost/outbox'\n${usage}`)
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          types: ['node'],
          typeRoots: [join(repoRoot, 'node_modules', '@types')],
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
  }, 60_000)
})
