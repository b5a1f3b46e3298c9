#!/usr/bin/env node
// Bundles the service (src/cli/main.ts and everything it imports from src/) into
// dist/hookpost.js with esbuild, and the worker threads' modules beside it (dist/sender-thread.js,
// dist/checkpoint-thread.js);
// packages stay external. Run by `npm install` (prepare) and
// before `npm start` (prestart). bin/hookpost.js runs the bundle while it is fresh and the
// TypeScript sources through tsx otherwise.
//   node scripts/build.js [--out <dir>]   writes <dir>/dist (default: the repository's dist)
//
// esbuild and tsx are devDependencies: a production install (npm ci --omit=dev) has neither,
// and runs the dist/ built beforehand (docs/deploy.md).
//
// Why a bundle: the tsx loader costs ~50 MB of RSS (its own loader thread) and CPU for every
// module it transforms; the bundle starts faster and runs leaner. The code is the same: a
// bundle, not a rewrite, and the tests exercise both ways.
import { mkdirSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outFlag = process.argv.indexOf('--out')
// The package root the bundle is for: its stamp names the outputs relative to it.
const outRoot = outFlag > 0 ? resolve(process.argv[outFlag + 1] ?? '') : root
const outDir = join(outRoot, 'dist')

let esbuild
try {
  esbuild = await import('esbuild')
} catch (e) {
  // A production install (npm ci --omit=dev) runs the prepare script too: it has no build tools.
  console.warn(
    `hookpost build skipped (esbuild, a devDependency, is not installed: ${e.code ?? e.message}); bin/hookpost.js runs an existing dist/, or the sources when tsx is installed`,
  )
  process.exit(0)
}

try {
  mkdirSync(outDir, { recursive: true })
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: {
      hookpost: 'src/cli/main.ts',
      'sender-thread': 'src/outbound/sender-thread.ts',
      'checkpoint-thread': 'src/store/sqlite/checkpoint-thread.ts',
    },
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  })
  // The stamp lists every source file that went in with its mtime: bin/hookpost.js compares them
  // so that an edited source is never served from a stale bundle.
  const inputs = {}
  for (const file of Object.keys(result.metafile.inputs)) {
    if (file.includes('node_modules')) continue
    inputs[relative(root, join(root, file))] = statSync(join(root, file)).mtimeMs
  }
  const outputs = Object.keys(result.metafile.outputs)
    .filter((f) => f.endsWith('.js'))
    .map((f) => relative(outRoot, join(root, f)))
  writeFileSync(join(outDir, 'build-stamp.json'), `${JSON.stringify({ inputs, outputs }, null, 1)}\n`)
} catch (e) {
  console.warn(`hookpost build failed (${e.message}); bin/hookpost.js will run the sources through tsx`)
  process.exit(0)
}
