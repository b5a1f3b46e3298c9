// The progress line: one line on stderr, rewritten in place on a terminal; elsewhere (CI logs,
// pipes) a line every 10 s and at each change of phase.

function fmtElapsed(ms: number): string {
  const s = Math.floor(ms / 1000)
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

export class Progress {
  readonly #tty = process.stderr.isTTY === true
  readonly #start = Date.now()
  #cell = ''
  #phase = ''
  #detail = ''
  #lastPrint = 0
  #timer: NodeJS.Timeout | undefined
  #cellNo = 0
  #cells = 0

  start(cells: number): void {
    this.#cells = cells
    this.#timer = setInterval(() => this.#render(false), this.#tty ? 250 : 1000)
    this.#timer.unref()
  }

  cell(label: string): void {
    this.#cellNo++
    this.#cell = label
    this.#phase = ''
    this.#detail = ''
    this.#render(true)
  }

  phase(phase: string, detail = ''): void {
    const changed = phase !== this.#phase
    this.#phase = phase
    this.#detail = detail
    // On a terminal the line changes in place; in a log, phases only show in the heartbeat.
    if (changed && this.#tty) this.#render(true)
  }

  detail(detail: string): void {
    this.#detail = detail
  }

  /** A line that stays (warnings, results). */
  log(line: string): void {
    if (this.#tty) process.stderr.write('\r\x1b[K')
    process.stderr.write(`${line}\n`)
    if (this.#tty) this.#render(true)
    else this.#lastPrint = Date.now()
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    if (this.#tty) process.stderr.write('\r\x1b[K')
  }

  #line(): string {
    return `[${fmtElapsed(Date.now() - this.#start)}] ${this.#cellNo}/${this.#cells} ${this.#cell} · ${this.#phase}${this.#detail ? ` · ${this.#detail}` : ''}`
  }

  #render(force: boolean): void {
    const now = Date.now()
    if (this.#tty) {
      const cols = process.stderr.columns ?? 120
      process.stderr.write(`\r\x1b[K${this.#line().slice(0, cols - 1)}`)
      return
    }
    if (force || now - this.#lastPrint >= 10_000) {
      this.#lastPrint = now
      process.stderr.write(`${this.#line()}\n`)
    }
  }
}
