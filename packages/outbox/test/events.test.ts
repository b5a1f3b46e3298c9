// src/events.ts is generated from the service's catalogue: the committed file must match a fresh
// generation, and every catalogue example must be a valid payload for createOutbox's default type.
import { readFileSync } from 'node:fs'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { eventTypes } from '../../../src/events/event-types.ts'
import { eventsModulePath, expectedEventsModule } from '../scripts/gen-types.ts'
import { createOutbox, type HookpostEvent, type HookpostEventName } from '../src/index.js'

describe('src/events.ts', () => {
  it('is what scripts/gen-types.ts generates from the current catalogue (no drift)', () => {
    const committed = readFileSync(eventsModulePath, 'utf8')
    expect(committed, 'run: npx tsx packages/outbox/scripts/gen-types.ts').toBe(expectedEventsModule())
  }, 20_000)

  it('names the catalogue and types write() with it', () => {
    expectTypeOf<HookpostEventName>().toEqualTypeOf<(typeof eventTypes)[number]['name'] & HookpostEventName>()
    const outbox = createOutbox({ dialect: 'postgres' })
    expectTypeOf(outbox.row).parameter(0).toEqualTypeOf<HookpostEvent>()
    for (const t of eventTypes) {
      const row = outbox.row(t.example as HookpostEvent)
      expect(row.event_name).toBe(t.name)
      expect(JSON.parse(row.payload)).toEqual(t.example)
    }
  })
})
