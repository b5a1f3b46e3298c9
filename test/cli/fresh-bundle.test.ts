// bin/hookpost.js runs the bundle only while it matches the sources it was built from.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { freshBundle } from '../../bin/fresh-bundle.js'

const roots: string[] = []
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true })
})

/** A tree with two sources, two built files and a stamp that matches them. */
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
  const outputs = ['dist/hookpost.js', 'dist/sender-thread.js']
  for (const f of outputs) writeFileSync(join(root, f), `// ${f}\n`)
  writeFileSync(join(root, 'dist/build-stamp.json'), JSON.stringify({ inputs, outputs }))
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

  it('runs the bundle of a production copy, which has no src/ at all (npm pack, the Docker image)', () => {
    const packed = tree()
    rmSync(join(packed, 'src'), { recursive: true })
    expect(freshBundle(packed, {})).toBe(true)
    rmSync(join(packed, 'dist/sender-thread.js'))
    expect(freshBundle(packed, {})).toBe(false)
  })

  it('runs the sources when a built file is missing, or the stamp does not list them', () => {
    const missing = tree()
    rmSync(join(missing, 'dist/sender-thread.js'))
    expect(freshBundle(missing, {})).toBe(false)

    const older = tree()
    const { inputs } = JSON.parse(readFileSync(join(older, 'dist/build-stamp.json'), 'utf8'))
    writeFileSync(join(older, 'dist/build-stamp.json'), JSON.stringify({ inputs }))
    expect(freshBundle(older, {})).toBe(false)
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
