// Validates payloads against the catalogue's JSON Schemas (compiled once, at start).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import type { ErrorDetail } from '../shared/errors.ts'
import { type EventType, eventTypes } from './event-types.ts'

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

export class PayloadValidator {
  readonly #byName = new Map<string, ValidateFunction>()

  constructor(types: readonly EventType[] = eventTypes) {
    const ajv = new Ajv2020({ allErrors: true, strict: false })
    addFormats(ajv)
    for (const t of types) this.#byName.set(t.name, ajv.compile(t.schema))
  }

  has(name: string): boolean {
    return this.#byName.has(name)
  }

  /** Problems with the payload, each naming the failing JSON pointer; empty when valid. */
  check(name: string, payload: unknown): ErrorDetail[] {
    const v = this.#byName.get(name)
    if (!v) return [{ path: '/eventName', message: 'unknown event type' }]
    if (v(payload)) return []
    return (v.errors ?? []).slice(0, 20).map((e: ErrorObject) => ({
      path: e.instancePath === '' ? '/' : e.instancePath,
      message:
        e.keyword === 'required'
          ? `missing required property "${(e.params as { missingProperty: string }).missingProperty}"`
          : (e.message ?? 'is invalid'),
    }))
  }
}
