// Builds dist/esm and dist/cjs (../../../scripts/build-dual-package.mjs).
//   node scripts/build.mjs [--out-dir <dir>]   (default: dist next to package.json)
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildDualPackage } from '../../../scripts/build-dual-package.mjs'

console.log(`built ${buildDualPackage(resolve(dirname(fileURLToPath(import.meta.url)), '..'))}`)
