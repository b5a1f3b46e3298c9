// Hot queries built and compiled once, then run with new values. On SQLite, building and
// compiling a Kysely query cost more CPU than running it (a 10-row insert: ~50 µs to build,
// ~20 µs to run), and the hot path runs a handful per event and per claim. The query is still
// written as a Kysely chain, in its dialect; only its parameters change between runs.
import type { Compilable, CompiledQuery } from 'kysely'

const marker = '\u0000hookpost:param:'

/** A placeholder: stands for the value bound under `name` at run time. */
// biome-ignore lint/suspicious/noExplicitAny: a placeholder must fit wherever a value does
export type Param = (name: string) => any

export class PreparedQuery<R> {
  readonly #compiled: CompiledQuery<R>
  /** The placeholders' names, in the order the build asked for them. */
  readonly #names: string[] = []
  /** Per SQL parameter: the index of its placeholder, or -1 for a constant of the query. */
  readonly #slots: number[]

  constructor(build: (param: Param) => Compilable<R>) {
    this.#compiled = build((name) => {
      this.#names.push(name)
      return `${marker}${this.#names.length - 1}`
    }).compile()
    this.#slots = this.#compiled.parameters.map((v) =>
      typeof v === 'string' && v.startsWith(marker) ? Number(v.slice(marker.length)) : -1,
    )
  }

  /** The compiled query with these values in its placeholders' places. */
  bind(values: Readonly<Record<string, unknown>>): CompiledQuery<R> {
    return this.bindInOrder(
      this.#names.map((name) => {
        if (!(name in values)) throw new Error(`prepared query: no value for ${name}`)
        return values[name]
      }),
    )
  }

  /** Values given in the order the build asked for the placeholders (multi-row inserts). */
  bindInOrder(values: readonly unknown[]): CompiledQuery<R> {
    if (values.length !== this.#names.length) {
      throw new Error(`prepared query: ${values.length} values for ${this.#names.length} placeholders`)
    }
    const constants = this.#compiled.parameters
    const parameters = this.#slots.map((slot, i) => (slot < 0 ? constants[i] : values[slot]))
    return { ...this.#compiled, parameters }
  }
}

/**
 * Prepared queries by key (a query's name and, for lists, its length). Bounded: list lengths
 * vary, and an unbounded cache would grow with them.
 */
export class PreparedQueries {
  readonly #byKey = new Map<string, PreparedQuery<unknown>>()
  readonly #max: number

  constructor(max = 1000) {
    this.#max = max
  }

  get<R>(key: string, build: (param: Param) => Compilable<R>): PreparedQuery<R> {
    let q = this.#byKey.get(key)
    if (!q) {
      q = new PreparedQuery(build) as PreparedQuery<unknown>
      if (this.#byKey.size >= this.#max) this.#byKey.delete(this.#byKey.keys().next().value as string)
      this.#byKey.set(key, q)
    }
    return q as PreparedQuery<R>
  }
}
