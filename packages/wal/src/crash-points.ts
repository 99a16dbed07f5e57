import type {
  FaultInjectionFileSystem,
  FsOpEvent,
  PowerCutMode,
} from './fault-injection-file-system.js'

/** What `forEachCrashPoint` tells the check about one crash point. */
export interface CrashPoint {
  /** 1-based crash point: the mutating operation that did not happen (`total + 1`: none). */
  index: number
  /** Mutating operations of the uninterrupted workload. */
  total: number
  /** The operation that was cut (undefined for the cut after the last one). */
  op: FsOpEvent | undefined
  /** The power-cut mode used for the surviving image. */
  mode: PowerCutMode
  /** The seed of that power cut (to reproduce it). */
  seed: number
}

/** Options of `forEachCrashPoint`. */
export interface CrashPointOptions {
  /** The starting image; each run works on a clone (it is never modified). */
  base: FaultInjectionFileSystem
  /**
   * The workload. It runs once uninterrupted to count its mutating operations, then once per
   * crash point. It must survive (or reject with) the simulated crash; errors thrown after the
   * crash are ignored, errors before it fail the run. Record what it saw acknowledged in state
   * it returns or closes over, and reset that state at its start.
   */
  workload: (fs: FaultInjectionFileSystem) => Promise<void>
  /** Checks the surviving image (reopen it, compare with what was acknowledged). */
  check: (survivor: FaultInjectionFileSystem, point: CrashPoint) => Promise<void>
  /** Power-cut modes to try at each point (default: all four, one after the other). */
  modes?: readonly PowerCutMode[]
  /** Seed of the power cuts (default 1). */
  seed?: number
  /** Try every `stride`-th crash point only (default 1: all of them). */
  stride?: number
}

/**
 * Runs `workload` with a simulated crash before each of its mutating operations in turn (and once
 * after the last), takes the power-cut image, and hands it to `check`. This enumerates every
 * distinct crash the workload can suffer on the fault-injecting file system. Returns the number
 * of crash points checked.
 */
export async function forEachCrashPoint(options: CrashPointOptions): Promise<number> {
  const modes = options.modes ?? (['drop', 'zero', 'garble', 'prefix'] as const)
  const stride = Math.max(1, Math.floor(options.stride ?? 1))
  const seed = options.seed ?? 1
  const dry = options.base.clone()
  await options.workload(dry)
  const total = dry.mutatingOps
  const ops = dry.log
  const points: number[] = []
  for (let index = 1; index <= total; index += stride) points.push(index)
  points.push(total + 1)
  let checked = 0
  for (const index of points) {
    for (let m = 0; m < modes.length; m++) {
      const fs = options.base.clone()
      fs.crashAtOp(index)
      try {
        await options.workload(fs)
      } catch (err) {
        if (!fs.crashed) throw err
      }
      const mode = modes[m] as PowerCutMode
      const cutSeed = (seed * 1_000_003 + index * 31 + m) >>> 0
      const survivor = fs.powerCut({ mode, seed: cutSeed })
      await options.check(survivor, { index, total, op: ops[index - 1], mode, seed: cutSeed })
      checked++
    }
  }
  return checked
}
