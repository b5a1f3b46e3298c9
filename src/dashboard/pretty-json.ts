// Indents a JSON text for reading without re-serialising it: every token is kept as written
// (1.50 stays 1.50, big integers keep their digits, escapes stay escapes), only the whitespace
// between tokens changes. JSON.stringify(JSON.parse(…)) would show a payload that was never sent.

const space = new Set([' ', '\t', '\n', '\r'])
const delimiters = new Set([...space, ',', ':', '{', '}', '[', ']', '"'])

/** The text indented by two spaces per level, or undefined when it is not valid JSON. */
export function prettyJson(text: string): string | undefined {
  try {
    JSON.parse(text)
  } catch {
    return undefined
  }
  const out: string[] = []
  let depth = 0
  const newline = () => `\n${'  '.repeat(depth)}`
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (space.has(c)) {
      i++
    } else if (c === '"') {
      let j = i + 1
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      out.push(text.slice(i, j + 1))
      i = j + 1
    } else if (c === '{' || c === '[') {
      let j = i + 1
      while (space.has(text[j]!)) j++
      if (text[j] === (c === '{' ? '}' : ']')) {
        out.push(c, text[j]!)
        i = j + 1
      } else {
        depth++
        out.push(c, newline())
        i++
      }
    } else if (c === '}' || c === ']') {
      depth--
      out.push(newline(), c)
      i++
    } else if (c === ',') {
      out.push(',', newline())
      i++
    } else if (c === ':') {
      out.push(': ')
      i++
    } else {
      let j = i
      while (j < text.length && !delimiters.has(text[j]!)) j++
      out.push(text.slice(i, j))
      i = j
    }
  }
  return out.join('')
}
