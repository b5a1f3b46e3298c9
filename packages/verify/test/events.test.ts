// Typed payloads (src/events.ts, generated from the service's catalogue): the committed file
// matches a fresh generation, every catalogue example typechecks against its generated type, and
// the guards narrow.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { eventTypes } from '../../../src/events/event-types.ts'
import { eventsModulePath, expectedEventsModule, interfaceName, typeOf } from '../scripts/gen-types.ts'
import {
  HOOKPOST_EVENT_NAMES,
  type HookpostEvent,
  type HookpostEventOf,
  isEventOf,
  isHookpostEvent,
  type SitePublishEvent,
  signWebhook,
  verifyWebhook,
} from '../src/index.js'

const run = promisify(execFile)
const repoRoot = join(eventsModulePath, '..', '..', '..', '..')

describe('src/events.ts', () => {
  it('is what scripts/gen-types.ts generates from the current catalogue (no drift)', () => {
    const committed = readFileSync(eventsModulePath, 'utf8')
    const fresh = expectedEventsModule()
    expect(committed, 'run: npx tsx packages/verify/scripts/gen-types.ts').toBe(fresh)
  }, 20_000)

  it('names every event of the catalogue, in order', () => {
    expect(HOOKPOST_EVENT_NAMES).toEqual(eventTypes.map((t) => t.name))
    expect(eventTypes).toHaveLength(6)
  })

  it('accepts every catalogue example as its type, and rejects wrong shapes (tsc)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookpost-events-'))
    try {
      const lines = [`import type * as E from '${eventsModulePath}'`]
      eventTypes.forEach((t, i) => {
        lines.push(`export const ok${i}: E.${interfaceName(t.name)} = ${JSON.stringify(t.example)}`)
        lines.push(`export const union${i}: E.HookpostEvent = ${JSON.stringify(t.example)}`)
      })
      lines.push(
        '// @ts-expect-error: the wrong event name',
        "export const bad1: E.SitePublishEvent = { eventName: 'site.first_publish', site: { ref: 1 } }",
        '// @ts-expect-error: a missing required entity',
        "export const bad2: E.BookingUpdatedEvent = { eventName: 'booking.updated' }",
        '// @ts-expect-error: a ref must be a number',
        "export const bad3: E.StoreOrderUpdatedEvent = { eventName: 'store.order_updated', order: { ref: '7781' } }",
        '// @ts-expect-error: productType is an enum',
        "export const bad4: E.AccountHolderPackageChangeEvent = { eventName: 'account_holder.package_change', accountHolder: { ref: 1, firstName: 'a', lastName: 'b', email: 'c', packages: [{ ref: 1, productType: 'gift' }] } }",
        '// unknown fields are allowed (BaseKit may add some)',
        "export const extra: E.SitePublishEvent = { eventName: 'site.publish', site: { ref: 1, theme: 'x' }, version: 2 }",
      )
      writeFileSync(join(dir, 'check.ts'), `${lines.join('\n')}\n`)
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2020',
            lib: ['ES2020'],
            types: [],
            module: 'ESNext',
            moduleResolution: 'Bundler',
            strict: true,
            noEmit: true,
            allowImportingTsExtensions: true,
          },
          files: ['check.ts'],
        }),
      )
      const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc')
      const result = await run(tsc, ['-p', join(dir, 'tsconfig.json')]).catch((e: { stdout: string }) => e)
      expect(result.stdout).toBe('')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)
})

describe('type guards', () => {
  it('isEventOf narrows a verified payload to one event type', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
    const example = eventTypes.find((t) => t.name === 'site.publish')!.example
    const body = JSON.stringify(example)
    const payload = await verifyWebhook(body, await signWebhook(body, secret), secret)
    expect(isHookpostEvent(payload)).toBe(true)
    expect(isEventOf(payload, 'site.first_publish')).toBe(false)
    if (!isEventOf(payload, 'site.publish')) throw new Error('expected site.publish')
    expectTypeOf(payload).toEqualTypeOf<SitePublishEvent>()
    expect(payload.site.ref).toBe(3412)
  })

  it('isHookpostEvent narrows to the union, which switches on eventName', () => {
    const seen: string[] = []
    for (const t of eventTypes) {
      const p: unknown = JSON.parse(JSON.stringify(t.example))
      if (!isHookpostEvent(p)) throw new Error(t.name)
      switch (p.eventName) {
        case 'account_holder.created':
        case 'account_holder.package_change':
          seen.push(String(p.accountHolder.ref))
          break
        case 'booking.updated':
          seen.push(String(p.booking.ref))
          break
        case 'site.first_publish':
        case 'site.publish':
          seen.push(String(p.site.ref))
          break
        case 'store.order_updated':
          seen.push(String(p.order.ref))
          break
      }
    }
    expect(seen).toEqual(['199', '199', '5021', '3412', '3412', '7781'])
    expectTypeOf<HookpostEventOf<'booking.updated'>['booking']['ref']>().toEqualTypeOf<number>()
    expectTypeOf<HookpostEvent['eventName']>().toEqualTypeOf<(typeof HOOKPOST_EVENT_NAMES)[number]>()
  })

  it('refuses what is not a catalogue event', () => {
    for (const p of [null, 'site.publish', {}, { eventName: 'site.unpublish' }, { eventName: 1 }, []]) {
      expect(isHookpostEvent(p)).toBe(false)
      expect(isEventOf(p, 'site.publish')).toBe(false)
    }
  })

  it('emits types for the schema subset the catalogue uses', () => {
    expect(typeOf({ type: 'array', maxItems: 0 })).toBe('[]')
    expect(typeOf({ enum: ['a', 1, true, null] })).toBe("'a' | 1 | true | null")
    expect(typeOf({ type: ['string', 'null'] })).toBe('string | null')
    expect(typeOf({ type: 'object', additionalProperties: { type: 'string' } })).toBe(
      'Record<string, string>',
    )
    expect(typeOf({ type: 'array', items: { anyOf: [{ type: 'integer' }, { const: "it's" }] } })).toBe(
      "Array<number | 'it\\'s'>",
    )
    expect(
      typeOf({
        type: 'object',
        properties: { 'a-b': { type: 'string' } },
        required: ['a-b'],
        additionalProperties: false,
      }),
    ).toBe("{\n  'a-b': string\n}")
    expect(() => typeOf({ type: 'tuple' })).toThrow(/unsupported/)
  })
})
