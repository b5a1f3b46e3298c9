// The layering of ARCHITECTURE.md holds on src/ (a violation fails the build), and the checker
// does catch each kind of violation planted in a copy of src/.
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { appHarness } from '../support/app-harness.ts'
import { checkLayering, usesOf } from './layering.ts'

const root = join(import.meta.dirname, '../..')

describe('layering', () => {
  it('holds on src/', () => {
    expect(checkLayering(root).map((v) => v.message)).toEqual([])
  })

  describe('a planted violation fails with the file and the rule', () => {
    const copy = mkdtempSync(join(tmpdir(), 'hookpost-layering-'))
    cpSync(join(root, 'src'), join(copy, 'src'), { recursive: true })
    afterAll(() => rmSync(copy, { recursive: true, force: true }))

    const plants: [file: string, text: string, what: string, rule: string][] = [
      ['src/events/planted.ts', "import { Pool } from 'pg'\n", 'imports pg', 'core-is-pure'],
      [
        'src/deliveries/planted.ts',
        "import '../store/sql/sql-store.ts'\n",
        'imports src/store/sql/sql-store.ts',
        'core-is-pure',
      ],
      [
        'src/subscriptions/planted.ts',
        "export const l = () => import('undici')\n",
        'imports undici',
        'core-is-pure',
      ],
      ['src/signing/planted.ts', "const http = require('node:http')\n", 'imports node:http', 'core-is-pure'],
      ['src/secrets/planted.ts', 'export const k = process.env.KEY\n', 'reads process.env', 'core-is-pure'],
      [
        'src/shared/planted.ts',
        "export const k = process['env']\n",
        'reads process.env',
        'settings-from-config',
      ],
      [
        'src/observability/planted.ts',
        'const { env } = process\n',
        'reads process.env',
        'settings-from-config',
      ],
      [
        'src/http/planted.ts',
        "export type { DashboardPorts } from '../dashboard/ports.ts'\n",
        'imports src/dashboard/ports.ts',
        'http-not-dashboard',
      ],
      [
        'src/dashboard/planted.ts',
        "import { sendError } from '../http/error-response.ts'\n",
        'imports src/http/error-response.ts',
        'dashboard-not-http',
      ],
      [
        'src/relay/planted.ts',
        "import { openSqliteStore } from '../store/sqlite/sqlite-store.ts'\n",
        'imports src/store/sqlite/sqlite-store.ts',
        'transports-call-use-cases',
      ],
      [
        'src/cli/commands/planted.ts',
        "type D = import('kysely').Kysely<unknown>\n",
        'imports kysely',
        'transports-call-use-cases',
      ],
      [
        'src/http/planted-sandbox.ts',
        "import { newQuickJSWASMModuleFromVariant } from 'quickjs-emscripten-core'\n",
        'imports quickjs-emscripten-core',
        'sandbox-in-its-adapter',
      ],
      [
        'src/transformations/planted.ts',
        "import { buildApp } from '../http/build-app.ts'\n",
        'imports src/http/build-app.ts',
        'transformations-are-an-adapter',
      ],
      [
        'src/operations/planted.ts',
        "import '../store/postgres/postgres-store.ts'\n",
        'imports src/store/postgres/postgres-store.ts',
        'adapters-picked-by-the-root',
      ],
    ]
    // One scan of the copy with every plant in it (parsing src/ is the slow part).
    for (const [file, text] of plants) writeFileSync(join(copy, file), text)
    const found = checkLayering(copy).map((v) => v.message)

    it('reports nothing else', () => {
      expect(found.filter((m) => !plants.some(([file]) => m.startsWith(`${file}:`)))).toEqual([])
    })

    it.each(plants)('%s: %s', (file, _text, what, rule) => {
      expect(found).toContainEqual(
        expect.stringMatching(new RegExp(`^${file}:\\d+ ${what}: breaks rule "${rule}"`)),
      )
    })
  })

  it('reads every form of import', () => {
    const text = [
      "import a from './a.ts'",
      "export * from '../b.ts'",
      "import type { C } from 'c/deep'",
      "import d = require('@scope/d/x')",
      "const e = await import('node:fs/promises')",
      "const f = require.resolve('fs')",
      "let g: typeof import('./g.ts')",
      'const h = import(name)',
      'const i = globalThis.process.env',
    ].join('\n')
    expect(usesOf('src/x/y.ts', text).map((u) => u.target)).toEqual([
      'src/x/a.ts',
      'src/b.ts',
      'c',
      '@scope/d',
      'node:fs',
      'node:fs',
      'src/x/g.ts',
      '(computed)',
      'process.env',
    ])
  })
})

describe('what transports get', () => {
  it('holds the use cases, not the store', async () => {
    const h = await appHarness()
    try {
      expect(Object.keys(h.hookpost)).not.toContain('store')
      expect(Object.keys(h.hookpost)).toEqual(expect.arrayContaining(['audit', 'readiness', 'deliveries']))
    } finally {
      await h.close()
    }
  })
})
