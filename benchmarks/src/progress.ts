/**
 * Progress display: cli-progress bars on an interactive terminal, one plain line per finished
 * workload otherwise (CI logs, pipes), so the output stays readable everywhere.
 */
import cliProgress from 'cli-progress'

/** What the orchestrator tells the display. */
export interface Progress {
  /** A child started: engine `engine`, repetition `rep`. */
  start(label: string): void
  /** Progress inside the current child. */
  update(phase: string, done: number, total: number): void
  /** A workload finished, with a one-line summary. */
  finished(summary: string): void
  /** The current child finished. */
  childDone(): void
  /** Everything finished. */
  stop(): void
}

/** Whether bars can be drawn: a TTY and not CI. */
export function interactive(): boolean {
  return process.stdout.isTTY === true && !process.env.CI
}

/** Bars for a terminal, plain lines otherwise. */
export function createProgress(totalChildren: number): Progress {
  if (!interactive()) {
    let child = 0
    let label = ''
    return {
      start(l) {
        child++
        label = l
        console.log(`[${child}/${totalChildren}] ${label}`)
      },
      update() {},
      finished(summary) {
        console.log(`    ${summary}`)
      },
      childDone() {},
      stop() {},
    }
  }
  const multi = new cliProgress.MultiBar(
    {
      format: '{label} |{bar}| {percentage}% {phase}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  )
  const overall = multi.create(totalChildren, 0, { label: 'all runs'.padEnd(28), phase: '' })
  let current: cliProgress.SingleBar | undefined
  let currentLabel = ''
  return {
    start(l) {
      currentLabel = l.padEnd(28)
      current = multi.create(1, 0, { label: currentLabel, phase: 'starting' })
    },
    update(phase, done, total) {
      current?.setTotal(Math.max(1, total))
      current?.update(done, { label: currentLabel, phase })
    },
    finished(summary) {
      multi.log(`${summary}\n`)
    },
    childDone() {
      if (current !== undefined) {
        current.update(current.getTotal(), { phase: 'done' })
        multi.remove(current)
        current = undefined
      }
      overall.increment()
    },
    stop() {
      multi.stop()
    },
  }
}
