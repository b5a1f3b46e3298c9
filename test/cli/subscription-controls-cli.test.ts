import { describe, expect, it } from 'vitest'
import { settingsOf } from '../../src/cli/commands/subscription-controls.ts'
import { UsageError } from '../../src/cli/output.ts'

describe('subscriptions create/update --filter and --paused', () => {
  it('sends only the options given', () => {
    expect(settingsOf({})).toEqual({})
    expect(settingsOf({ filter: '{"site.ref": {"$gt": 1}}' })).toEqual({ filter: { 'site.ref': { $gt: 1 } } })
    expect(settingsOf({ filter: 'null' })).toEqual({ filter: null })
    expect(settingsOf({ paused: true })).toEqual({ paused: true })
    expect(settingsOf({ paused: 'true' })).toEqual({ paused: true })
    expect(settingsOf({ paused: 'false' })).toEqual({ paused: false })
  })

  it('refuses a filter that is not JSON and a paused that is not a boolean (usage errors, exit 2)', () => {
    expect(() => settingsOf({ filter: '{site.ref: 1}' })).toThrow(UsageError)
    expect(() => settingsOf({ paused: 'yes' })).toThrow(UsageError)
  })
})
