// Starts one of our own modules as a worker thread: beside the bundle, its own bundle
// (dist/<name>.js); from the TypeScript sources, a bootstrap that registers tsx in the thread
// first (a worker thread does not inherit the main thread's loader) and imports <name>.ts beside
// the caller.
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker, type WorkerOptions } from 'node:worker_threads'

/** here: the caller's import.meta.url; name: the thread module's file name without extension. */
export function startModuleThread(here: string, name: string, options: WorkerOptions): Worker {
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), options)
  // tsx's ESM entry (require.resolve finds its CommonJS twin beside it).
  const tsx = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href
  const entry = new URL(`./${name}.ts`, here).href
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}) })`
  return new Worker(bootstrap, { ...options, eval: true })
}

/**
 * Asks a thread to close (`{ t: 'close' }`), waits for its `{ t: 'closed' }` or its exit, at most
 * waitMs, and ends it: a thread that never answers is ended anyway.
 */
export async function closeModuleThread(thread: Worker, waitMs = 2000): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    thread.once('exit', () => resolve())
    thread.on('message', (m: { t?: unknown }) => m.t === 'closed' && resolve())
  })
  thread.postMessage({ t: 'close' })
  await Promise.race([closed, new Promise((r) => setTimeout(r, waitMs).unref())])
  await thread.terminate()
}
