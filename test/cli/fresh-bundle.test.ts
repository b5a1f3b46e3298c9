// bin/hookpost.js runs the bundle only while it matches the sources it was built from.
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freshBundle } from '../../bin/fresh-bundle.js'

const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true })
})

/** A tree with two sources and a stamp that matches them. */
function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'hookpost-bundle-'))
  roots.push(root)
  mkdirSync(join(root, 'src'), { recursive: true })
  mkdirSync(join(root, 'dist'), { recursive: true })
  const inputs: Record<string, number> = {}
  for (const f of ['src/a.ts', 'src/b.ts']) {
    writeFileSync(join(root, f), `// ${f}\n`)
    inputs[f] = statSync(join(root, f)).mtimeMs
  }
  writeFileSync(join(root, 'dist/build-stamp.json'), JSON.stringify({ inputs }))
  return root
}

describe('freshBundle', () => {
  it('accepts the bundle while every source keeps the mtime it was built from', () => {
    expect(freshBundle(tree(), {})).toBe(true)
  })

  it('runs the sources once a source is edited, deleted, or when asked to', () => {
    const edited = tree()
    const later = new Date(Date.now() + 5000)
    utimesSync(join(edited, 'src/b.ts'), later, later)
    expect(freshBundle(edited, {})).toBe(false)

    const deleted = tree()
    rmSync(join(deleted, 'src/a.ts'))
    expect(freshBundle(deleted, {})).toBe(false)

    expect(freshBundle(tree(), { HOOKPOST_RUN_SOURCES: '1' })).toBe(false)
  })

  it('runs the sources without a stamp, with an empty one, or with a broken one', () => {
    const none = tree()
    rmSync(join(none, 'dist/build-stamp.json'))
    expect(freshBundle(none, {})).toBe(false)

    const empty = tree()
    writeFileSync(join(empty, 'dist/build-stamp.json'), JSON.stringify({ inputs: {} }))
    expect(freshBundle(empty, {})).toBe(false)

    const broken = tree()
    writeFileSync(join(broken, 'dist/build-stamp.json'), '{not json')
    expect(freshBundle(broken, {})).toBe(false)
  })
})
