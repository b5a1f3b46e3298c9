import { describe, expect, it } from 'vitest'
import { controlsOf } from '../../src/cli/commands/subscription-controls.ts'
import { UsageError } from '../../src/cli/output.ts'

describe('subscriptions create/update --filter and --paused', () => {
  it('sends only the options given', () => {
    expect(controlsOf({})).toEqual({})
    expect(controlsOf({ filter: '{"site.ref": {"$gt": 1}}' })).toEqual({ filter: { 'site.ref': { $gt: 1 } } })
    expect(controlsOf({ filter: 'null' })).toEqual({ filter: null })
    expect(controlsOf({ paused: true })).toEqual({ paused: true })
    expect(controlsOf({ paused: 'true' })).toEqual({ paused: true })
    expect(controlsOf({ paused: 'false' })).toEqual({ paused: false })
  })

  it('refuses a filter that is not JSON and a paused that is not a boolean (usage errors, exit 2)', () => {
    expect(() => controlsOf({ filter: '{site.ref: 1}' })).toThrow(UsageError)
    expect(() => controlsOf({ paused: 'yes' })).toThrow(UsageError)
  })
})
