// A package of packages/ as `npm pack` publishes it (its prepack builds dist/), unpacked into a
// temporary directory: what the package tests check with publint, attw and real imports.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { need, onPath } from './external-tool.ts'

const run = promisify(execFile)
const npm = onPath('npm', 'it comes with Node')

export interface PackedPackage {
  /** The .tgz npm pack made. */
  tarball: string
  /** The unpacked tarball (its `package/` folder). */
  stage: string
  remove(): void
}

export async function packedPackage(pkgDir: string): Promise<PackedPackage> {
  const dir = mkdtempSync(join(tmpdir(), 'hookpost-pack-'))
  await run(need(npm), ['pack', '--pack-destination', dir], { cwd: pkgDir })
  const packed = readdirSync(dir).filter((f) => f.endsWith('.tgz'))
  if (packed.length !== 1) throw new Error(`npm pack made ${packed.length} tarballs in ${dir}`)
  const tarball = join(dir, packed[0]!)
  await run('tar', ['-xzf', tarball, '-C', dir])
  return { tarball, stage: join(dir, 'package'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}
