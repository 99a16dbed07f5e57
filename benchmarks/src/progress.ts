/**
 * Progress display: cli-progress bars on an interactive terminal, one plain line per child and
 * per finished workload otherwise (CI logs, pipes), so the output stays readable everywhere.
 * Both show the elapsed time and the time left, from the estimate of each child (engine,
 * repetition) corrected by how long the finished children actually took.
 */
import cliProgress from 'cli-progress'
import { formatDuration } from './estimate.js'

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

/**
 * Seconds left: the estimates of the children not yet finished, scaled by how the finished ones
 * compared with their estimates (a busy machine stretches all of them alike).
 */
export function secondsLeft(
  estimates: readonly number[],
  finished: number,
  elapsedFinishedSec: number,
): number {
  const doneEstimate = estimates.slice(0, finished).reduce((s, x) => s + x, 0)
  const rest = estimates.slice(finished).reduce((s, x) => s + x, 0)
  const pace = finished > 0 && doneEstimate > 0 ? elapsedFinishedSec / doneEstimate : 1
  return rest * pace
}

/** Bars for a terminal, plain lines otherwise; `estimates` are the children's estimated seconds. */
export function createProgress(estimates: readonly number[]): Progress {
  const totalChildren = estimates.length
  const t0 = performance.now()
  let finished = 0
  let finishedAt = 0
  const elapsed = (): number => (performance.now() - t0) / 1e3
  const timing = (): string => {
    const left = secondsLeft(estimates, finished, finishedAt)
    // The running child's share shrinks as it runs, but not below what the children after it need.
    const current = estimates[finished] ?? 0
    const pace =
      current > 0 ? left / (estimates.slice(finished).reduce((s, x) => s + x, 0) || 1) : 1
    const floor = left - current * pace
    const now = Math.max(floor, left - (elapsed() - finishedAt))
    return `${formatDuration(elapsed())} elapsed, about ${formatDuration(now)} left`
  }
  if (!interactive()) {
    let label = ''
    return {
      start(l) {
        label = l
        console.log(`[${finished + 1}/${totalChildren}] ${label} (${timing()})`)
      },
      update() {},
      finished(summary) {
        console.log(`    ${summary}`)
      },
      childDone() {
        finished++
        finishedAt = elapsed()
      },
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
  const overall = multi.create(totalChildren, 0, { label: 'all runs'.padEnd(28), phase: timing() })
  // Refreshes the elapsed / left figures of the overall bar while a child runs.
  const ticker = setInterval(() => overall.update({ phase: timing() }), 1000)
  ticker.unref()
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
      finished++
      finishedAt = elapsed()
      overall.increment({ phase: timing() })
    },
    stop() {
      clearInterval(ticker)
      multi.stop()
    },
  }
}
