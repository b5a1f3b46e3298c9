import { readFileSync } from 'node:fs'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { eventTypeNames, eventTypes, findEventType } from '../../src/events/event-types.ts'

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the
// module object, whose `.default` is the plugin (at runtime and for tsc alike).
const addFormats = addFormatsModule.default

/** The compact example from BaseKit's webhooks guide (docs: basekit.md 2.1), byte for byte. */
const documentedAccountHolderCreated =
  '{"eventName":"account_holder.created","accountHolder":{"ref":199,"firstName":"Web","lastName":"Hook","email":"webhooks@basekit.com","username":"webhooks@basekit.com","created":"2023-03-06T10:15:59+00:00","brand":{"ref":1,"name":"BaseKit Brand"},"packages":[{"ref":1,"name":"Demo Package","productType":"subscription","startDate":"2023-03-06T10:15:59+00:00","endDate":null},{"ref":2,"name":"Add-on Package","productType":"add-on","startDate":"2023-03-06T10:15:59+00:00","endDate":null}],"metadata":{"key1":"value1"}}}'

const expectedNames = [
  'account_holder.created',
  'account_holder.package_change',
  'booking.updated',
  'site.first_publish',
  'site.publish',
  'store.order_updated',
]

// The strictest Ajv settings: any keyword, type or format problem in a schema throws at compile time.
const ajv = new Ajv2020({ strict: true, allErrors: true })
addFormats(ajv)

const validators = new Map<string, ValidateFunction>()
for (const t of eventTypes) validators.set(t.name, ajv.compile(t.schema))

function validate(name: string, payload: unknown): { valid: boolean; errors: ErrorObject[] } {
  const fn = validators.get(name)
  if (!fn) throw new Error(`no validator for ${name}`)
  const valid = fn(payload)
  return { valid, errors: fn.errors ?? [] }
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

type Json = Record<string, unknown>

/** A fresh, mutable copy of an event type's example. */
function example(name: string): Json {
  const t = findEventType(name)
  if (!t) throw new Error(`unknown event type ${name}`)
  return clone(t.example)
}

function child(obj: Json, key: string): Json {
  const value = obj[key]
  if (value === null || typeof value !== 'object') throw new Error(`${key} is not an object`)
  return value as Json
}

const entityKey: Record<string, string> = {
  'account_holder.created': 'accountHolder',
  'account_holder.package_change': 'accountHolder',
  'booking.updated': 'booking',
  'site.first_publish': 'site',
  'site.publish': 'site',
  'store.order_updated': 'order',
}

describe('event catalogue', () => {
  it('lists BaseKit’s six event types in order', () => {
    expect(eventTypeNames).toEqual(expectedNames)
    expect(eventTypes.map((t) => t.name)).toEqual(expectedNames)
  })

  it('has unique names of the form entity.action', () => {
    expect(new Set(eventTypeNames).size).toBe(eventTypeNames.length)
    for (const name of eventTypeNames) expect(name).toMatch(/^[a-z_]+\.[a-z_]+$/)
  })

  it('finds event types by exact name only', () => {
    for (const name of expectedNames) expect(findEventType(name)?.name).toBe(name)
    for (const name of ['site.published', 'SITE.PUBLISH', '', 'constructor', '__proto__', 'toString']) {
      expect(findEventType(name)).toBeUndefined()
    }
  })

  it('is read-only', () => {
    const t = findEventType('account_holder.created')!
    expect(Object.isFrozen(eventTypes)).toBe(true)
    expect(Object.isFrozen(t.schema)).toBe(true)
    expect(Object.isFrozen(child(t.example, 'accountHolder'))).toBe(true)
  })

  it.each(expectedNames)('%s: schema is a self-contained draft 2020-12 object schema', (name) => {
    const t = findEventType(name)!
    const s = t.schema
    expect(s['$schema']).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(s['$id']).toBe(`https://hookpost.dev/schemas/events/${name}.json`)
    expect(s['title']).toBe(name)
    expect(s['type']).toBe('object')
    expect(s['required']).toEqual(['eventName', entityKey[name]])
    expect(child(child(s, 'properties'), 'eventName')['const']).toBe(name)
    expect(t.description.length).toBeGreaterThan(10)
    expect(JSON.stringify(s)).not.toContain('"$ref"')
    // Served as JSON by GET /webhooks/event-types: must survive a JSON round trip unchanged.
    expect(clone(s)).toEqual(s)
    expect(clone(t.example)).toEqual(t.example)
    expect(ajv.validateSchema(clone(s))).toBe(true)
  })

  it.each(expectedNames)('%s: example passes its schema and names its type', (name) => {
    const ex = example(name)
    expect(ex['eventName']).toBe(name)
    const { valid, errors } = validate(name, ex)
    expect(errors).toEqual([])
    expect(valid).toBe(true)
  })

  it.each(expectedNames)('%s: another type’s example fails (eventName is a constant)', (name) => {
    for (const other of expectedNames.filter((n) => n !== name)) {
      const { valid, errors } = validate(name, example(other))
      expect(valid).toBe(false)
      expect(errors.some((e) => e.instancePath === '/eventName' && e.keyword === 'const')).toBe(true)
    }
  })

  it.each(expectedNames)('%s: a wrong or missing eventName fails', (name) => {
    const wrong = example(name)
    wrong['eventName'] = 'site.published'
    expect(validate(name, wrong).valid).toBe(false)
    const missing = example(name)
    delete missing['eventName']
    const r = validate(name, missing)
    expect(r.valid).toBe(false)
    expect(
      r.errors.some((e) => e.keyword === 'required' && e.params['missingProperty'] === 'eventName'),
    ).toBe(true)
  })

  it.each(expectedNames)('%s: unknown fields at the top level and in the entity pass', (name) => {
    const ex = example(name)
    ex['futureTopLevelField'] = { any: ['thing'] }
    child(ex, entityKey[name]!)['futureField'] = 42
    expect(validate(name, ex).errors).toEqual([])
  })

  it.each(expectedNames)('%s: a missing entity fails; a string ref fails at its path', (name) => {
    const key = entityKey[name]!
    const missing = example(name)
    delete missing[key]
    expect(validate(name, missing).valid).toBe(false)

    const stringRef = example(name)
    child(stringRef, key)['ref'] = '199'
    const r = validate(name, stringRef)
    expect(r.valid).toBe(false)
    expect(r.errors.map((e) => e.instancePath)).toContain(`/${key}/ref`)
  })

  it.each(expectedNames)('%s: not an object fails', (name) => {
    for (const payload of [null, [], 'account_holder.created', 42]) {
      expect(validate(name, payload).valid).toBe(false)
    }
  })
})

describe('account_holder.created', () => {
  const name = 'account_holder.created'

  it('example equals BaseKit’s documented example byte for byte', () => {
    expect(JSON.stringify(findEventType(name)!.example)).toBe(documentedAccountHolderCreated)
  })

  it('the documented payload, as received, passes', () => {
    expect(validate(name, JSON.parse(documentedAccountHolderCreated)).errors).toEqual([])
  })

  it.each([
    ['/accountHolder/ref', (a: Json) => (a['ref'] = '199')],
    ['/accountHolder/ref', (a: Json) => (a['ref'] = 199.5)],
    ['/accountHolder/email', (a: Json) => (a['email'] = null)],
    ['/accountHolder/created', (a: Json) => (a['created'] = '2023-03-06 10:15:59')],
    ['/accountHolder/created', (a: Json) => (a['created'] = '2023-03-06T10:15:59')],
    ['/accountHolder/brand/ref', (a: Json) => (child(a, 'brand')['ref'] = '1')],
    ['/accountHolder/packages', (a: Json) => (a['packages'] = {})],
    ['/accountHolder/packages/0/productType', (a: Json) => (pkg(a)['productType'] = 'monthly')],
    ['/accountHolder/packages/0/endDate', (a: Json) => (pkg(a)['endDate'] = '')],
    ['/accountHolder/metadata', (a: Json) => (a['metadata'] = 'key1=value1')],
    ['/accountHolder/metadata', (a: Json) => (a['metadata'] = ['value1'])],
  ])('a wrong-typed %s fails and names the field', (path, mutate) => {
    const ex = example(name)
    mutate(child(ex, 'accountHolder'))
    const { valid, errors } = validate(name, ex)
    expect(valid).toBe(false)
    expect(errors.map((e) => e.instancePath)).toContain(path)
  })

  it('accepts metadata [] (PHP’s empty map), {} and endDate as a date-time', () => {
    for (const metadata of [[], {}, { a: 1, b: { c: [true] } }]) {
      const ex = example(name)
      child(ex, 'accountHolder')['metadata'] = metadata
      expect(validate(name, ex).errors).toEqual([])
    }
    const ex = example(name)
    pkg(child(ex, 'accountHolder'))['endDate'] = '2024-03-06T10:15:59+01:00'
    expect(validate(name, ex).errors).toEqual([])
  })

  it('accepts every productType of BaseKit’s API client and an empty package list', () => {
    for (const productType of ['one-off', 'add-on', 'subscription', 'domain']) {
      const ex = example(name)
      pkg(child(ex, 'accountHolder'))['productType'] = productType
      expect(validate(name, ex).errors).toEqual([])
    }
    const ex = example(name)
    child(ex, 'accountHolder')['packages'] = []
    expect(validate(name, ex).errors).toEqual([])
  })

  it('requires the documented account holder fields', () => {
    for (const field of ['ref', 'email', 'created', 'brand', 'packages', 'metadata']) {
      const ex = example(name)
      delete child(ex, 'accountHolder')[field]
      expect(validate(name, ex).valid).toBe(false)
    }
  })
})

describe('inferred event types', () => {
  it('account_holder.package_change needs only the confirmed fields', () => {
    const name = 'account_holder.package_change'
    const minimal = {
      eventName: name,
      accountHolder: { ref: 199, firstName: 'Web', lastName: 'Hook', email: 'webhooks@basekit.com' },
    }
    expect(validate(name, minimal).errors).toEqual([])
    const noEmail = clone(minimal) as Json
    delete child(noEmail, 'accountHolder')['email']
    expect(validate(name, noEmail).valid).toBe(false)
    const ex = example(name)
    child(ex, 'accountHolder')['metadata'] = []
    expect(validate(name, ex).errors).toEqual([])
  })

  it.each([
    ['booking.updated', { eventName: 'booking.updated', booking: { ref: 1 } }],
    ['site.first_publish', { eventName: 'site.first_publish', site: { ref: 1 } }],
    ['site.publish', { eventName: 'site.publish', site: { ref: 1 } }],
    ['store.order_updated', { eventName: 'store.order_updated', order: { ref: 1 } }],
  ])('%s: the entity ref alone is enough', (name, payload) => {
    expect(validate(name, payload).errors).toEqual([])
  })

  it.each([
    ['booking.updated', '/booking/startDate', (e: Json) => (e['startDate'] = '10/03/2023 14:00')],
    ['booking.updated', '/booking/siteRef', (e: Json) => (e['siteRef'] = '3412')],
    [
      'booking.updated',
      '/booking/accountHolder/ref',
      (e: Json) => (child(e, 'accountHolder')['ref'] = '199'),
    ],
    ['site.publish', '/site/domains', (e: Json) => (e['domains'] = ['webhook-demo.example.com'])],
    ['site.publish', '/site/domains/88', (e: Json) => (child(e, 'domains')['88'] = 88)],
    ['site.first_publish', '/site/primaryDomain/ref', (e: Json) => (child(e, 'primaryDomain')['ref'] = 'x')],
    ['store.order_updated', '/order/price', (e: Json) => (e['price'] = '54.97')],
    ['store.order_updated', '/order/paid', (e: Json) => (e['paid'] = 'yes')],
    ['store.order_updated', '/order/items/0/quantity', (e: Json) => (item(e)['quantity'] = 1.5)],
  ])('%s: a wrong-typed %s fails and names the field', (name, path, mutate) => {
    const ex = example(name)
    mutate(child(ex, entityKey[name]!))
    const { valid, errors } = validate(name, ex)
    expect(valid).toBe(false)
    expect(errors.map((e) => e.instancePath)).toContain(path)
  })

  it('site domains may be [] and order flags may be booleans', () => {
    const site = example('site.publish')
    child(site, 'site')['domains'] = []
    expect(validate('site.publish', site).errors).toEqual([])
    const order = example('store.order_updated')
    child(order, 'order')['paid'] = true
    child(order, 'order')['dispatched'] = false
    expect(validate('store.order_updated', order).errors).toEqual([])
  })

  it('examples share the account holder of BaseKit’s documented example', () => {
    for (const name of ['booking.updated', 'site.first_publish', 'site.publish', 'store.order_updated']) {
      const owner = child(child(example(name), entityKey[name]!), 'accountHolder')
      expect(owner).toMatchObject({ ref: 199, firstName: 'Web', lastName: 'Hook', brand: { ref: 1 } })
    }
  })
})

describe('docs/events.md', () => {
  const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8')

  it.each(expectedNames)('%s: has a section with the current example, pretty-printed', (name) => {
    expect(doc).toContain(`## \`${name}\``)
    expect(doc).toContain(JSON.stringify(findEventType(name)!.example, null, 2))
  })
})

function pkg(accountHolder: Json): Json {
  const list = accountHolder['packages']
  if (!Array.isArray(list)) throw new Error('packages is not an array')
  return list[0] as Json
}

function item(order: Json): Json {
  const list = order['items']
  if (!Array.isArray(list)) throw new Error('items is not an array')
  return list[0] as Json
}
