#!/usr/bin/env node
// Runs dist/hookpost.js (built by `npm install` and before `npm start`) while it is fresh, and
// the TypeScript sources through tsx otherwise, so that a fresh clone or an edited source tree
// never needs a manual build step. HOOKPOST_RUN_SOURCES=1 forces the sources.
import { readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function freshBundle() {
  if (process.env.HOOKPOST_RUN_SOURCES === '1') return false
  try {
    const { inputs } = JSON.parse(readFileSync(join(root, 'dist/build-stamp.json'), 'utf8'))
    for (const [file, mtime] of Object.entries(inputs)) {
      if (statSync(join(root, file)).mtimeMs !== mtime) return false
    }
    return Object.keys(inputs).length > 0
  } catch {
    return false
  }
}

if (freshBundle()) {
  await import('../dist/hookpost.js')
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli/main.ts')
}
