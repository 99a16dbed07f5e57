/**
 * CPU time, to tell how much of the machine other processes took during a window: the
 * machine's busy share from /proc/stat (Linux) and this process's own CPU time. The window's
 * CPU used by neither the writer nor the reader processes is what the rest of the machine took.
 */
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'

/** Busy and total ticks of all CPUs since boot (the first line of /proc/stat), if available. */
export interface MachineTicks {
  readonly busy: number
  readonly total: number
}

/** The machine's CPU ticks now, or undefined where /proc/stat is missing. */
export function machineTicks(): MachineTicks | undefined {
  let line: string
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
  } catch {
    return undefined
  }
  const f = line.trim().split(/\s+/).slice(1).map(Number)
  if (f.length < 4 || f.some((x) => !Number.isFinite(x))) return undefined
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const idle = (f[3] ?? 0) + (f[4] ?? 0)
  const total = f.slice(0, 8).reduce((s, x) => s + x, 0)
  return { busy: total - idle, total }
}

/** CPU time of this process (all its threads), in ms. */
export function ownCpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e3
}

/**
 * Cores other processes kept busy on average between two machine readings, given how many cores
 * our own processes used over the same span (their CPU time / the span): busy share × cores -
 * ours, at least 0.
 */
export function otherCores(
  from: MachineTicks,
  to: MachineTicks,
  ourCores: number,
  cores = cpus().length,
): number {
  const total = to.total - from.total
  if (total <= 0) return 0
  return Math.max(0, ((to.busy - from.busy) / total) * cores - ourCores)
}
