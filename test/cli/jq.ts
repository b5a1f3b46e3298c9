// The README's tour and one documented command pipe answers through jq. Without jq these tests
// are skipped on a developer's machine, and fail clearly under CI=true.
import { spawnSync } from 'node:child_process'

export function requireJq(): boolean {
  const found = spawnSync('jq', ['--version']).status === 0
  if (!found && process.env['CI'] === 'true') {
    throw new Error('jq is needed by the README tour tests (apt-get install jq); CI must have it')
  }
  return found
}
