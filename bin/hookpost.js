#!/usr/bin/env node
// Runs dist/hookpost.js (built by `npm install` and before `npm start`) while it is fresh, and
// the TypeScript sources through tsx otherwise, so that a fresh clone or an edited source tree
// never needs a manual build step. HOOKPOST_RUN_SOURCES=1 forces the sources. tsx is a
// devDependency: a production install runs the bundle only.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freshBundle } from './fresh-bundle.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

if (freshBundle(root)) {
  await import('../dist/hookpost.js')
} else {
  let tsx
  try {
    tsx = await import('tsx/esm/api')
  } catch {
    // A production install (npm ci --omit=dev) has no tsx: it needs dist/ built beforehand.
    process.stderr.write(
      'hookpost: dist/hookpost.js is missing or older than the sources, and tsx (a devDependency) is not installed.\n' +
        'Run `npm install` (installs the build tools and builds dist/), or build with `npm run build` before `npm prune --omit=dev` (docs/deploy.md).\n',
    )
    process.exit(1)
  }
  tsx.register()
  await import('../src/cli/main.ts')
}
