import { describe, expect, it } from 'vitest'
import { prettyJson } from '../../src/dashboard/pretty-json.ts'

describe('prettyJson', () => {
  it('indents by two spaces per level, keeping every token as written', () => {
    const text = '{\r\n"a":1.50,"b":[1,2e3,{"c":null}],"big":12345678901234567890,"s":"x\\"y, {z}: \\u00e9"}'
    expect(prettyJson(text)).toBe(
      [
        '{',
        '  "a": 1.50,',
        '  "b": [',
        '    1,',
        '    2e3,',
        '    {',
        '      "c": null',
        '    }',
        '  ],',
        '  "big": 12345678901234567890,',
        '  "s": "x\\"y, {z}: \\u00e9"',
        '}',
      ].join('\n'),
    )
  })

  it('keeps empty containers and scalars compact', () => {
    expect(prettyJson('{ "a" : { } , "b" : [ ] }')).toBe('{\n  "a": {},\n  "b": []\n}')
    expect(prettyJson(' "text" ')).toBe('"text"')
    expect(prettyJson('true')).toBe('true')
  })

  it('answers undefined for what is not JSON', () => {
    expect(prettyJson('{"a":')).toBeUndefined()
    expect(prettyJson('<html>')).toBeUndefined()
  })
})
