// Builds dist/esm and dist/cjs (../../../scripts/build-dual-package.mjs), and copies the Zapier
// code step to dist/zapier.js.
//   node scripts/build.mjs [--out-dir <dir>]   (default: dist next to package.json)
import { copyFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildDualPackage } from '../../../scripts/build-dual-package.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const outDir = buildDualPackage(root)
copyFileSync(join(root, 'snippets', 'zapier.js'), join(outDir, 'zapier.js'))
console.log(`built ${outDir}`)
