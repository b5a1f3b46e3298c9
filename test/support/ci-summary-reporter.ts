// Prints the one closing line CI reads: `vitest: N passed, N failed, N skipped`.
import type { Reporter, SerializedError, TestModule } from 'vitest/node'

export default class CiSummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const mod of modules) {
      let failedHere = 0
      for (const t of mod.children.allTests()) {
        const state = t.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') {
          failed++
          failedHere++
        } else skipped++
      }
      // A file that failed to import has no failed test of its own: count it.
      if (mod.state() === 'failed' && failedHere === 0) failed++
    }
    failed += errors.length
    process.stdout.write(`\nvitest: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
