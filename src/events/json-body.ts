// Reads an event body: strict UTF-8, bounded nesting, then JSON. The bytes themselves are kept
// untouched by the caller; this only decides whether they are acceptable.
import { AppError } from '../shared/errors.ts'

export const maxJsonDepth = 64

const decoder = new TextDecoder('utf-8', { fatal: true })

/** Depth of [ and { nesting outside strings; stops early once past max. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
    } else if (c === 34) inString = true
    else if (c === 123 || c === 91) {
      if (++depth > max) return true
    } else if (c === 125 || c === 93) depth--
  }
  return false
}

export function parseJsonBody(body: Uint8Array, maxDepth = maxJsonDepth): unknown {
  let text: string
  try {
    text = decoder.decode(body)
  } catch {
    throw new AppError('invalid_json', { message: 'The body is not valid UTF-8.' })
  }
  if (jsonDepthExceeds(text, maxDepth)) {
    throw new AppError('json_too_deep', {
      message: `The JSON body nests deeper than ${maxDepth} levels.`,
    })
  }
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new AppError('invalid_json', { message: `The body is not valid JSON: ${(e as Error).message}` })
  }
}
