#!/usr/bin/env node
// Runs dist/hookpost.js (built by `npm install` and before `npm start`) while it is fresh, and
// the TypeScript sources through tsx otherwise, so that a fresh clone or an edited source tree
// never needs a manual build step. HOOKPOST_RUN_SOURCES=1 forces the sources.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freshBundle } from './fresh-bundle.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

if (freshBundle(root)) {
  await import('../dist/hookpost.js')
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
