// Poll, don't sleep: retries an assertion until it holds or the timeout passes.
export async function eventually<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      return await fn()
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) throw last
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
