// `hookpost portal-links create|list|revoke`: the operator's commands over the store, run as a
// user runs them.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './cli-harness.ts'

/** The printed answer of a command run with --json (warnings go to stderr). */
const answer = (stdout: string) => JSON.parse(stdout)

describe('hookpost portal-links', () => {
  let dir: string
  let env: Record<string, string>
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hookpost-cli-links-'))
    env = { HOOKPOST_DATABASE_URL: `sqlite:${join(dir, 'hookpost.db')}`, HOOKPOST_DATA_DIR: dir }
  })
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true })
  })

  it('creates a link (shown once), lists the outstanding ones and revokes one', async () => {
    const created = await runCli(['environments', 'create', 'acme', '--json'], env)
    expect(created.code).toBe(0)
    const envId = answer(created.stdout).environment.id as string

    const issued = await runCli(['portal-links', 'create', envId, '--ttl', '600', '--json'], env)
    expect(issued.code).toBe(0)
    const link = answer(issued.stdout).portalLink
    expect(link.url).toMatch(/^\/dashboard\/portal-login\?token=hpl_\w{43}$/)
    expect(Date.parse(link.expires) - Date.parse(link.created)).toBe(600_000)

    const table = await runCli(['portal-links', 'list', envId], env)
    expect(table.stdout).toMatch(/^ID\s+CREATED\s+EXPIRES\s+USED\n/)
    expect(table.stdout).toContain(link.id)
    const listed = await runCli(['portal-links', 'list', envId, '--json'], env)
    expect(answer(listed.stdout).portalLinks).toEqual([
      { id: link.id, created: link.created, expires: link.expires, used: null },
    ])
    expect(listed.stdout).not.toContain('hpl_')

    expect((await runCli(['portal-links', 'revoke', envId, link.id], env)).stdout).toBe(
      `revoked ${link.id}\n`,
    )
    expect(answer((await runCli(['portal-links', 'list', envId, '--json'], env)).stdout).portalLinks).toEqual(
      [],
    )
  }, 90_000)
})
