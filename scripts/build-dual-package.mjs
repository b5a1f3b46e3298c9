// Builds a publishable package of packages/ into dist/esm (ESM .js + .d.ts) and dist/cjs
// (CommonJS .cjs + .d.cts) with tsc alone; each package's scripts/build.mjs calls it (and its
// prepack runs that, so `npm pack` never ships an empty package).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  )
}

// Relative specifiers './x.js' become './x.cjs' in the CommonJS build (code and declarations).
function toCjsSpecifiers(text) {
  return text
    .replace(/(require\(\s*['"])(\.{1,2}\/[^'"]+?)\.js(['"]\s*\))/g, '$1$2.cjs$3')
    .replace(/(from\s+['"])(\.{1,2}\/[^'"]+?)\.js(['"])/g, '$1$2.cjs$3')
    .replace(/(import\(\s*['"])(\.{1,2}\/[^'"]+?)\.js(['"]\s*\))/g, '$1$2.cjs$3')
}

/**
 * Builds the package at `root` (tsconfig.esm.json and tsconfig.cjs.json beside its package.json)
 * into `--out-dir <dir>` from argv, or dist/ beside package.json. Returns the output directory.
 */
export function buildDualPackage(root, argv = process.argv.slice(2)) {
  const outFlag = argv.indexOf('--out-dir')
  const outDir = outFlag >= 0 ? resolve(argv[outFlag + 1] ?? '') : join(root, 'dist')
  const run = (project, out) =>
    execFileSync(process.execPath, [tsc, '-p', join(root, project), '--outDir', out], {
      cwd: root,
      stdio: 'inherit',
    })
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  run('tsconfig.esm.json', join(outDir, 'esm'))
  const cjsDir = join(outDir, 'cjs')
  run('tsconfig.cjs.json', cjsDir)
  for (const file of filesUnder(cjsDir)) {
    let target
    if (file.endsWith('.d.ts')) target = `${file.slice(0, -'.d.ts'.length)}.d.cts`
    else if (file.endsWith('.js')) target = `${file.slice(0, -'.js'.length)}.cjs`
    else continue
    writeFileSync(file, toCjsSpecifiers(readFileSync(file, 'utf8')))
    renameSync(file, target)
  }
  return outDir
}
