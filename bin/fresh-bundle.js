// Whether dist/hookpost.js may run: its build stamp lists every source file that went into it
// with its mtime, and each must still match (an edited, added-to or deleted-from tree runs the
// sources instead). A production copy has no src/ at all (npm pack, the Docker image): there the
// bundle is all there is. Plain JavaScript: it runs before any loader is registered.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** root: the repository; env: the process environment (HOOKPOST_RUN_SOURCES=1 forces the sources). */
export function freshBundle(root, env = process.env) {
  if (env.HOOKPOST_RUN_SOURCES === '1') return false
  try {
    const { inputs, outputs } = JSON.parse(readFileSync(join(root, 'dist/build-stamp.json'), 'utf8'))
    const files = Object.entries(inputs)
    if (files.length === 0) return false
    // Every file the build wrote must be there (the sender thread is a bundle of its own).
    if (!Array.isArray(outputs) || !outputs.every((f) => existsSync(join(root, f)))) return false
    if (!existsSync(join(root, 'src'))) return true
    for (const [file, mtime] of files) {
      if (statSync(join(root, file)).mtimeMs !== mtime) return false
    }
    return true
  } catch {
    return false
  }
}
