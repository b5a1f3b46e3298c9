// The Transformer port over QuickJS compiled to WebAssembly: each subscription's handler runs in
// a QuickJS runtime of its own (own heap, memory limit, stack limit, deadline), inside one
// WebAssembly instance loaded on first use. Nothing of Node is reachable from inside: no
// require, process, fetch, timers, clock (no Date) or randomness (Math.random throws); the
// only way in and out is one JSON string each way. Must not be imported by the core.
import variant from '@jitl/quickjs-wasmfile-release-sync'
import {
  DefaultIntrinsics,
  newQuickJSWASMModuleFromVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core'
import type {
  CodeCheck,
  SandboxResult,
  TransformationInput,
  Transformer,
} from '../subscriptions/transformation.ts'

export interface SandboxLimits {
  /** Wall-clock budget of one call (and of compiling the code), in ms. */
  timeoutMs: number
  /** Heap of one runtime, in bytes. */
  memoryBytes: number
  /** Native stack of one runtime, in bytes (deep recursion ends in a stack overflow). */
  stackBytes?: number
  /** Compiled handlers kept (one runtime each); the least recently used goes first. */
  maxRuntimes?: number
  /** The largest result (JSON text) a handler may return, in characters. */
  maxResultChars?: number
  /**
   * WebAssembly memory never shrinks: past this size (handlers keeping memory in their globals)
   * the instance is dropped after the call and a fresh one loaded, which gives the memory back.
   * Default: 256 MiB or 4 runtimes' limit, whichever is larger.
   */
  maxInstanceBytes?: number
}

const fileName = 'handler.js'

// Runs before the handler's code, in its context: the only globals beyond the language itself.
const prelude = `(function () {
  var noop = function () {}
  globalThis.console = Object.freeze({ log: noop, info: noop, warn: noop, error: noop, debug: noop })
  Math.random = function random() { throw new Error('Math.random is not available in a transformation (no randomness)') }
})()`

// The call: JSON in, one string out (the result's fields, a newline, the payload as JSON text:
// JSON.stringify never writes a raw newline). parse and stringify are captured before the
// handler's code runs, so that it cannot replace them under us.
const wrapper = `(function (parse, stringify, isArray, handler, limit) {
  return function (input) {
    var r = handler(parse(input))
    if (r === null || typeof r !== 'object' || isArray(r))
      throw new TypeError('handler must return an object ({ eventName, payload, url, headers } or { cancel: true }), not ' + (r === null ? 'null' : isArray(r) ? 'an array' : typeof r))
    if (typeof r.then === 'function') throw new TypeError('handler returned a Promise: handlers are synchronous')
    if (r.cancel === true) return '{"cancel":true}\\n'
    var hasPayload = r.payload !== undefined
    var body = hasPayload ? stringify(r.payload) : ''
    if (typeof body !== 'string') throw new TypeError('payload is not JSON (a function or a symbol?)')
    var meta = stringify({ eventName: r.eventName, url: r.url, headers: r.headers, payload: hasPayload })
    if (meta.length + body.length > limit) throw new RangeError('the result is larger than ' + limit + ' characters')
    return meta + '\\n' + body
  }
})`

interface Compiled {
  code: string
  runtime: QuickJSRuntime
  context: QuickJSContext
  call: QuickJSHandle
  /** When the running call's wall-clock budget ends (performance.now()); Infinity when idle. */
  deadline: number
  /** The process's CPU time (µs) when the running call began. */
  cpuStart: number
}

type Compile =
  | { ok: true; compiled: Compiled }
  | { ok: false; message: string; line?: number; column?: number }

/** Errors after which a runtime is not reused: its heap or stack may be in any state. */
const fatal = /^InternalError: (interrupted|out of memory|stack overflow)/

export class QuickJsTransformer implements Transformer {
  readonly #limits: Required<SandboxLimits>
  readonly #cache = new Map<string, Compiled>()
  #module: Promise<QuickJSWASMModule> | undefined
  #resets = 0

  constructor(limits: SandboxLimits) {
    this.#limits = {
      stackBytes: 256 * 1024,
      maxRuntimes: 64,
      maxResultChars: 16 * 1024 * 1024,
      maxInstanceBytes: Math.max(256 * 1024 * 1024, 4 * limits.memoryBytes),
      ...limits,
    }
  }

  async check(code: string): Promise<CodeCheck> {
    const c = this.#compile(await this.#load(), code)
    if (!c.ok) return c
    this.#dispose(c.compiled)
    return { ok: true }
  }

  async run(code: string, input: TransformationInput, cacheKey?: string): Promise<SandboxResult> {
    const module = await this.#load()
    let compiled = cacheKey === undefined ? undefined : this.#cache.get(cacheKey)
    if (compiled && cacheKey !== undefined && compiled.code !== code) {
      this.#forget(cacheKey)
      compiled = undefined
    }
    if (!compiled) {
      const c = this.#compile(module, code)
      if (!c.ok) return { kind: 'error', message: c.message }
      compiled = c.compiled
      if (cacheKey !== undefined) this.#keep(cacheKey, compiled)
    } else if (cacheKey !== undefined) {
      // Most recently used last: the first entry is the one to evict.
      this.#cache.delete(cacheKey)
      this.#cache.set(cacheKey, compiled)
    }
    const c = compiled
    const done = (r: SandboxResult, reusable: boolean): SandboxResult => {
      if (!reusable || cacheKey === undefined) {
        if (cacheKey !== undefined) this.#cache.delete(cacheKey)
        this.#dispose(c)
      }
      return r
    }
    try {
      const r = done(...this.#call(c, input))
      if (module.getWasmMemory().buffer.byteLength > this.#limits.maxInstanceBytes) this.#reset()
      return r
    } catch (e) {
      // The engine itself failed (not the handler): drop this runtime; a trapped WebAssembly
      // instance is replaced as a whole.
      if (e instanceof WebAssembly.RuntimeError) this.#reset()
      return done({ kind: 'error', message: `sandbox failure: ${(e as Error).message}` }, false)
    }
  }

  /** Disposes every runtime (shutdown, tests). */
  close(): void {
    for (const key of [...this.#cache.keys()]) this.#forget(key)
  }

  /** How many times the WebAssembly instance was replaced (tests, diagnostics). */
  get resets(): number {
    return this.#resets
  }

  /** Runtimes currently kept (tests). */
  get size(): number {
    return this.#cache.size
  }

  #call(c: Compiled, input: TransformationInput): [SandboxResult, boolean] {
    const { context } = c
    const json = `{"eventName":${JSON.stringify(input.eventName)},"url":${JSON.stringify(input.url)},"headers":${JSON.stringify(input.headers)},"payload":${input.payloadJson}}`
    this.#arm(c)
    const arg = context.newString(json)
    const r = context.callFunction(c.call, context.undefined, arg)
    arg.dispose()
    // The engine asks for interrupts between bytecode operations only, so one long built-in call
    // (filling a huge array) can end past the deadline: a late answer is a timeout all the same.
    const late = this.#overran(c)
    c.deadline = Number.POSITIVE_INFINITY
    if (late) {
      ;(r.error ?? r.value).dispose()
      return [
        { kind: 'error', message: `the handler ran past its time limit (${this.#limits.timeoutMs} ms)` },
        false,
      ]
    }
    if (r.error) {
      const e = this.#describe(context, r.error)
      r.error.dispose()
      // A runtime left with Promise jobs queued is not reused either: they would surface later.
      return [{ kind: 'error', message: e.message }, !fatal.test(e.raw) && !c.runtime.hasPendingJob()]
    }
    const out = context.typeof(r.value) === 'string' ? context.getString(r.value) : undefined
    r.value.dispose()
    if (c.runtime.hasPendingJob()) {
      // Promise jobs would run nowhere (and pile up): async work is refused, and the runtime with it.
      return [
        {
          kind: 'error',
          message:
            'the handler left asynchronous work pending (a Promise, an async function or import()): handlers are synchronous',
        },
        false,
      ]
    }
    if (out === undefined) return [{ kind: 'error', message: 'the sandbox returned no result' }, false]
    const nl = out.indexOf('\n')
    const meta = JSON.parse(out.slice(0, nl)) as Record<string, unknown>
    if (meta['cancel'] === true) return [{ kind: 'cancel' }, true]
    return [
      {
        kind: 'result',
        eventName: meta['eventName'],
        url: meta['url'],
        headers: meta['headers'],
        payloadJson: meta['payload'] === true ? out.slice(nl + 1) : undefined,
      },
      true,
    ]
  }

  #compile(module: QuickJSWASMModule, code: string): Compile {
    const runtime = module.newRuntime()
    runtime.setMemoryLimit(this.#limits.memoryBytes)
    runtime.setMaxStackSize(this.#limits.stackBytes)
    const compiled: Compiled = {
      code,
      runtime,
      context: runtime.newContext({ intrinsics: { ...DefaultIntrinsics, Date: false } }),
      call: undefined as unknown as QuickJSHandle,
      deadline: Number.POSITIVE_INFINITY,
      cpuStart: 0,
    }
    runtime.setInterruptHandler(() => this.#overran(compiled))
    const { context } = compiled
    const fail = (handle: QuickJSHandle): Compile => {
      const e = this.#describe(context, handle)
      handle.dispose()
      this.#dispose(compiled)
      return { ok: false, message: e.message, ...e.at }
    }
    try {
      context.unwrapResult(context.evalCode(prelude, 'prelude.js')).dispose()
      // The consumer's code runs under the limit from here on (the prelude is ours).
      this.#arm(compiled)
      const top = context.evalCode(code, fileName, { strict: true })
      if (top.error) return fail(top.error)
      top.value.dispose()
      if (runtime.hasPendingJob()) {
        this.#dispose(compiled)
        return {
          ok: false,
          message: 'the code left asynchronous work pending at its top level (a Promise or import())',
        }
      }
      // Read as an expression: `const handler = …` is a global binding but not a global property.
      const lookup = context.evalCode('typeof handler === "undefined" ? undefined : handler', 'lookup.js')
      if (lookup.error) return fail(lookup.error)
      const h = lookup.value
      if (context.typeof(h) !== 'function') {
        const t = context.typeof(h)
        h.dispose()
        this.#dispose(compiled)
        return { ok: false, message: `the code must define a function named handler (handler is ${t})` }
      }
      const make = context.evalCode(wrapper, 'wrapper.js')
      if (make.error) {
        h.dispose()
        return fail(make.error)
      }
      const json = context.getProp(context.global, 'JSON')
      const parse = context.getProp(json, 'parse')
      const stringify = context.getProp(json, 'stringify')
      const array = context.getProp(context.global, 'Array')
      const isArray = context.getProp(array, 'isArray')
      const limit = context.newNumber(this.#limits.maxResultChars)
      const call = context.callFunction(make.value, context.undefined, parse, stringify, isArray, h, limit)
      for (const x of [make.value, json, parse, stringify, array, isArray, limit, h]) x.dispose()
      if (call.error) return fail(call.error)
      compiled.call = call.value
      compiled.deadline = Number.POSITIVE_INFINITY
      return { ok: true, compiled }
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) this.#reset()
      else this.#dispose(compiled)
      return { ok: false, message: `sandbox failure: ${(e as Error).message}` }
    }
  }

  #arm(c: Compiled): void {
    c.deadline = performance.now() + this.#limits.timeoutMs
    const u = process.cpuUsage()
    c.cpuStart = u.user + u.system
  }

  /**
   * Past the time limit: the wall-clock budget is spent AND the process used that much CPU since
   * the call began, so that a busy machine descheduling us (or a collection pausing us) is not
   * counted against the handler; 20 times the budget in wall time ends it whatever the CPU says.
   */
  #overran(c: Compiled): boolean {
    const now = performance.now()
    if (now <= c.deadline) return false
    if (now > c.deadline + 19 * this.#limits.timeoutMs) return true
    const u = process.cpuUsage()
    return (u.user + u.system - c.cpuStart) / 1000 > this.#limits.timeoutMs
  }

  /** A thrown value as one line of text, with where it was thrown when the engine says. */
  #describe(
    context: QuickJSContext,
    handle: QuickJSHandle,
  ): { message: string; raw: string; at: { line?: number; column?: number } } {
    let v: unknown
    try {
      v = context.dump(handle)
    } catch {
      v = 'an unreadable value'
    }
    let raw: string
    let at: { line?: number; column?: number } = {}
    if (v !== null && typeof v === 'object' && 'message' in v) {
      const e = v as { name?: unknown; message?: unknown; stack?: unknown }
      raw = `${typeof e.name === 'string' ? e.name : 'Error'}: ${String(e.message)}`
      const m = typeof e.stack === 'string' ? /handler\.js:(\d+):(\d+)/.exec(e.stack) : null
      if (m) at = { line: Number(m[1]), column: Number(m[2]) }
    } else raw = `uncaught ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`
    let message = raw
    if (/^InternalError: interrupted/.test(raw))
      message = `the handler ran past its time limit (${this.#limits.timeoutMs} ms)`
    else if (/^InternalError: out of memory/.test(raw))
      message = `the handler ran out of memory (limit ${Math.round(this.#limits.memoryBytes / 1024)} KiB)`
    else if (/^InternalError: stack overflow/.test(raw)) message = 'stack overflow (recursion too deep)'
    if (at.line !== undefined) message += ` at line ${at.line}, column ${at.column}`
    return { message: message.slice(0, 1000), raw, at }
  }

  #keep(key: string, c: Compiled): void {
    this.#cache.set(key, c)
    for (const k of this.#cache.keys()) {
      if (this.#cache.size <= this.#limits.maxRuntimes) break
      this.#forget(k)
    }
  }

  #forget(key: string): void {
    const c = this.#cache.get(key)
    this.#cache.delete(key)
    if (c) this.#dispose(c)
  }

  #dispose(c: Compiled): void {
    try {
      if (c.call?.alive) c.call.dispose()
      if (c.context.alive) c.context.dispose()
      if (c.runtime.alive) c.runtime.dispose()
    } catch {
      // A runtime that cannot be freed cleanly is left to the instance; a later reset drops it.
    }
  }

  /** A trapped WebAssembly instance is not reused: the next call loads a fresh one. */
  #reset(): void {
    // Its runtimes go with it: nothing to free one by one.
    this.#cache.clear()
    this.#module = undefined
    this.#resets++
  }

  #load(): Promise<QuickJSWASMModule> {
    // The package is CommonJS: its default import is the module object, which the loader unwraps.
    this.#module ??= newQuickJSWASMModuleFromVariant(variant as unknown as QuickJSSyncVariant)
    return this.#module
  }
}
