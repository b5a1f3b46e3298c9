// External checkers the tests run (redocly, openapi-typescript, promtool, npm, publint, attw):
// where each is, or why it is missing. A missing tool skips its test with the reason, except
// under CI=true, where it fails: CI installs every tool (.ci/run), so a skip would hide a check.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

export const toolsRequired = process.env['CI'] === 'true'
const repoRoot = new URL('../../', import.meta.url).pathname

export type Tool = { path: string; missing?: undefined } | { path?: undefined; missing: string }

/** A binary of the repository's node_modules/.bin (a devDependency). */
export function npmBin(name: string): Tool {
  const path = join(repoRoot, 'node_modules', '.bin', name)
  return existsSync(path) ? { path } : { missing: `${name} is not installed (npm install)` }
}

/** A program on PATH; hint says how to install it. */
export function onPath(name: string, hint: string): Tool {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  const path = r.stdout.trim()
  return r.status === 0 && path !== '' ? { path } : { missing: `${name} is not on PATH (${hint})` }
}

/** Whether a test needing these tools is skipped here (never under CI=true). */
export function skipWithout(...tools: Tool[]): boolean {
  return !toolsRequired && tools.some((t) => t.missing !== undefined)
}

/** The tool's path; throws its reason when missing (the CI=true failure). */
export function need(tool: Tool): string {
  if (tool.path === undefined) throw new Error(`${tool.missing}; CI=true requires it`)
  return tool.path
}
