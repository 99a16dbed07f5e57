/**
 * The loop of random gets that every reader runs, and the writer too when its own get is
 * measured: uniform random loaded keys, every value checked (ValueCheck), every 8th get timed.
 * Gets run in chunks of CHUNK; between chunks the loop yields to the event loop (a following
 * reader applies the writer's writes there, and LMDB renews its read snapshot) and stamps the
 * visible mark whenever it grew, which is how staleness is seen (staleness.ts). Reads before
 * `startMs` are the warm-up; the loop stops at `endMs`.
 */
import { Random } from '@alex/test-support/bench'
import { ownCpuMs } from './cpu.js'
import { Latencies } from './histogram.js'
import type { ValueCheck } from './value-check.js'

/**
 * Gets between two yields to the event loop (about 0.05 to 0.2 ms of reads). Small enough that
 * the writer's own reads (phase 'writer-get') leave its durable puts near their 1,000 per second
 * (with 256, a put waited behind several chunks and the rate fell to a quarter); the same for
 * every loop, so readers and writer pay the same yields.
 */
export const CHUNK = 64

/** What the loop reads from. */
export interface ReadTarget {
  get(key: number): Uint8Array | undefined
  /** The mark of the newest write visible (an LSN or a sequence number); 0 if not tracked. */
  mark(): number
}

/** Options of one loop. */
export interface ReadLoopOptions {
  /** Milliseconds on the shared clock (clock.ts). */
  readonly now: () => number
  readonly startMs: number
  readonly endMs: number
  readonly seed: number
  /** Record mark stamps (flat pairs [mark, ms]) here. */
  readonly stamps?: number[]
}

/** What one loop measured. */
export interface ReadLoopResult {
  /** Gets in the measured window, and the time they took (first chunk start to last chunk end). */
  readonly reads: number
  readonly elapsedMs: number
  readonly latency: Latencies
  /** Values checked, warm-up included. */
  readonly verified: number
  /** CPU time of this process over the same span as `elapsedMs` (all its threads). */
  readonly cpuMs: number
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Runs the loop; `wrong(k, v)` is called (and must throw) on a value that fails the check. */
export async function readLoop(
  target: ReadTarget,
  check: ValueCheck,
  o: ReadLoopOptions,
  wrong: (k: number, v: Uint8Array | undefined) => never,
): Promise<ReadLoopResult> {
  const random = new Random(o.seed)
  const keys = check.ds.keys
  const n = check.count
  const latency = new Latencies()
  let reads = 0
  let verified = 0
  let first = -1
  let lastEnd = 0
  let cpuFirst = 0
  let cpuLast = 0
  let lastMark = Number.NEGATIVE_INFINITY
  for (;;) {
    const t = o.now()
    if (o.stamps !== undefined) {
      const m = target.mark()
      if (m > lastMark) {
        lastMark = m
        o.stamps.push(m, t)
      }
    }
    if (t >= o.endMs) break
    const measuring = t >= o.startMs
    for (let j = 0; j < CHUNK; j++) {
      const k = random.below(n)
      let v: Uint8Array | undefined
      if (measuring && (j & 7) === 0) {
        const s = performance.now()
        v = target.get(keys[k]!)
        latency.recordMs(performance.now() - s)
      } else {
        v = target.get(keys[k]!)
      }
      if (!check.ok(v, k)) wrong(k, v)
    }
    verified += CHUNK
    if (measuring) {
      if (first < 0) {
        first = t
        cpuFirst = ownCpuMs()
      }
      reads += CHUNK
      lastEnd = o.now()
      cpuLast = ownCpuMs()
    }
    await yieldToLoop()
  }
  return {
    reads,
    elapsedMs: first < 0 ? 0 : lastEnd - first,
    latency,
    verified,
    cpuMs: cpuLast - cpuFirst,
  }
}

/** The warm pass reads every WARM_STRIDE-th loaded key. */
export const WARM_STRIDE = 16

/**
 * Reads every WARM_STRIDE-th loaded key once, in key-index order (random key order), checking
 * each value: fills the caches a fresh open left cold, so the phases measure a warm reader, as a
 * long-running one would be. AlexStorage loads each data segment whole into its value cache on
 * the first read from it (when the cache has room, as it has at 1M keys), and any stride loads
 * them all; LMDB maps a page on its first touch: one key in 16 touches every branch page and
 * about two thirds of the leaf pages (some 17 entries of 128-byte values each), and the phase's
 * own warm-up (hundreds of thousands of random gets) most of the rest. Yields every few thousand
 * gets so a following reader keeps applying the writer's writes. Returns the values checked.
 */
export async function warmPass(
  target: ReadTarget,
  check: ValueCheck,
  wrong: (k: number, v: Uint8Array | undefined) => never,
): Promise<number> {
  const keys = check.ds.keys
  const n = check.count
  let checked = 0
  for (let k = 0; k < n; k += WARM_STRIDE) {
    const v = target.get(keys[k]!)
    if (!check.ok(v, k)) wrong(k, v)
    if ((++checked & 4095) === 0) await yieldToLoop()
  }
  return checked
}
