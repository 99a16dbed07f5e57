/**
 * Ctrl-C (SIGINT) and SIGTERM for the commands that run until interrupted (`tail`, `stat
 * --watch`). The first signal does not kill the process: it calls `onInterrupt` and wakes
 * `sleep`, so that the command can end cleanly (close the store, which deletes its reader
 * registration) and exit 0. A second signal, should that clean end hang, exits at once (130).
 * Until `dispose()` it also keeps the process alive: a following store waits for the writer on
 * unreferenced timers and watchers (a library must not keep its host process running), so a
 * command waiting only on it would otherwise end as soon as nothing else is pending.
 */
export class Interrupt {
  /** True once a signal came. */
  interrupted = false
  private wake: (() => void) | undefined
  private readonly handler = (): void => {
    if (this.interrupted) process.exit(130)
    this.interrupted = true
    this.onInterrupt()
    this.wake?.()
  }

  private readonly keepAlive = setInterval(() => {}, 2 ** 30)

  constructor(private readonly onInterrupt: () => void = () => {}) {
    process.on('SIGINT', this.handler)
    process.on('SIGTERM', this.handler)
  }

  /** Waits `ms` milliseconds, or less if a signal comes meanwhile (or came before). */
  sleep(ms: number): Promise<void> {
    if (this.interrupted) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done(): void {
        clearTimeout(timer)
        self.wake = undefined
        resolve()
      }
      this.wake = done
    })
  }

  /** Gives the signals back their default action (the process dies on the next one). */
  dispose(): void {
    clearInterval(this.keepAlive)
    process.off('SIGINT', this.handler)
    process.off('SIGTERM', this.handler)
  }
}
