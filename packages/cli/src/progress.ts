import cliProgress from 'cli-progress'

/** A progress bar on stderr, or nothing when stderr is not a terminal (or with --json). */
export interface Progress {
  update(value: number, payload?: Record<string, unknown>): void
  stop(): void
}

const none: Progress = { update() {}, stop() {} }

export function progressBar(
  total: number,
  format: string,
  enabled: boolean,
  payload: Record<string, unknown> = {},
): Progress {
  if (!enabled || !process.stderr.isTTY) return none
  const bar = new cliProgress.SingleBar(
    {
      format,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  )
  bar.start(total, 0, payload)
  let stopped = false
  return {
    update(value, extra) {
      if (!stopped) bar.update(value, extra)
    },
    stop() {
      if (!stopped) bar.stop()
      stopped = true
    },
  }
}

/** Formats a byte count for people: 1536 -> "1.5 KiB". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = n
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`
}
