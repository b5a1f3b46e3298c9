// The filters docs/subscriptions.md shows on BaseKit's payloads compile, and match (or not) the
// catalogue example as the text says.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { findEventType } from '../../src/events/event-types.ts'
import { compileFilter } from '../../src/subscriptions/filter.ts'
import { repoRoot } from '../support/service-process.ts'

const doc = readFileSync(`${repoRoot}docs/subscriptions.md`, 'utf8')
const examples = [
  ...doc.matchAll(/^`([a-z_.]+)`: [^\n]*\((?:[^()]*?)(matches|no match)\):\n\n```json\n([\s\S]*?)```/gm),
]

describe("docs/subscriptions.md's filter examples", () => {
  it('cover the six event types', () => {
    expect(examples.map((m) => m[1]).sort()).toEqual([
      'account_holder.created',
      'account_holder.package_change',
      'booking.updated',
      'site.first_publish',
      'site.publish',
      'store.order_updated',
    ])
  })

  for (const [, event, verdict, json] of examples) {
    it(`${event}: the example ${verdict === 'matches' ? 'matches' : 'does not match'}`, () => {
      const test = compileFilter(JSON.parse(json!))
      expect(test(findEventType(event!)!.example)).toBe(verdict === 'matches')
    })
  }
})
