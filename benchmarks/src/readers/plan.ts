/**
 * The `readers` workload's plan (issue #11): which phases run for which engine, how long each
 * is at a given scale, and the shape of what each phase measures. Pure data, no I/O.
 *
 * One writer process (the engine's bench child, which holds the loaded store) does durable puts
 * at a steady WRITE_RATE per second throughout; in each phase 0, 1, 2 or 4 readers (processes,
 * or for AlexStorage also worker threads of the writer's process) do random gets for a fixed
 * window after a warm-up. The phases run one after another, never two at once.
 */
import type { LatencySummary } from '../measure.js'

/** Engines the workload runs for: AlexStorage, and LMDB as the anchor (multi-process readers). */
export const READERS_ENGINES: readonly string[] = ['alex', 'lmdb']

/** Durable puts per second of the writer, in every phase. */
export const WRITE_RATE = 1000

/** Reader counts of the reader phases. */
export const READER_COUNTS: readonly number[] = [1, 2, 4]

/** Readers in each pool (processes, threads): the largest count. */
export const POOL_SIZE = 4

/**
 * Puts acknowledged in the last STALENESS_TAIL_MS of a window are left out of the staleness
 * figures (a reader stops watching at the window's end, so it could not see them late); a put
 * acknowledged earlier that no reader saw by the end counts with the time it had waited (a lower
 * bound) and is reported as unseen.
 */
export const STALENESS_TAIL_MS = 100

/** How a phase reads. */
export type PhaseKind = 'writer-get' | 'no-readers' | 'processes' | 'threads'

/** One phase of the workload. */
export interface PhaseSpec {
  /** 'writer-get', 'no-readers', 'processes-2', 'threads-4', ... */
  readonly id: string
  readonly kind: PhaseKind
  /** Readers (0 for the writer-only phases). */
  readonly readers: number
}

/** The phases of `engine`, in run order. */
export function phasesFor(engine: string): PhaseSpec[] {
  const phases: PhaseSpec[] = [
    // The writer's own gets while it writes: what a reader's get is compared with.
    { id: 'writer-get', kind: 'writer-get', readers: 0 },
    // The writer alone: its put latency with no reader.
    { id: 'no-readers', kind: 'no-readers', readers: 0 },
  ]
  for (const k of READER_COUNTS)
    phases.push({ id: `processes-${k}`, kind: 'processes', readers: k })
  // Worker threads are an AlexStorage feature of this issue; LMDB is the anchor for processes.
  if (engine === 'alex') {
    for (const k of READER_COUNTS) phases.push({ id: `threads-${k}`, kind: 'threads', readers: k })
  }
  return phases
}

/** Timing of every phase at `n` keys, in ms. */
export interface PhaseTiming {
  /** Reads (and puts) before the measured window: the readers' caches fill. */
  readonly warmupMs: number
  /** The measured window. */
  readonly windowMs: number
}

/**
 * 1 s windows after 0.4 s of warm-up at 1M keys and above (about 1,000 puts and hundreds of
 * thousands of gets per window; the whole workload stays within a minute); shorter below, down
 * to 0.3 s + 0.2 s for a smoke run.
 */
export function phaseTiming(n: number): PhaseTiming {
  const f = Math.min(1, n / 1e6)
  return {
    warmupMs: Math.max(200, Math.round(400 * f)),
    windowMs: Math.max(300, Math.round(1000 * f)),
  }
}

/** Writes the writer may make over all phases of `engine` (an upper bound, with margin). */
export function maxWrites(n: number, engine: string): number {
  const t = phaseTiming(n)
  const phases = phasesFor(engine).length
  return Math.ceil((phases * (t.warmupMs + t.windowMs + 200) * WRITE_RATE * 1.5) / 1e3) + 1000
}

/**
 * Seconds the workload takes for `engine` at `n` keys on a quiet 2-core machine, for the
 * bench's estimate: reopening the store and warming the writer, starting each reader pool (every
 * reader rebuilds the data set to check values against), the phases, and the readers' opens and
 * warm passes (three rounds per pool: 1, then 1 more, then 2 more readers). Run in the first
 * repetition only.
 */
export function readersSeconds(n: number, engine: string, rep: number): number {
  if (!READERS_ENGINES.includes(engine) || rep !== 1) return 0
  const s = n / 1e6
  const t = phaseTiming(n)
  const phases = phasesFor(engine)
  const pools = phases.some((p) => p.kind === 'threads') ? 2 : 1
  const windows = phases.length * ((t.warmupMs + t.windowMs + GO_DELAY_MS) / 1e3)
  return (
    2 + 3 * s + pools * (1 + 2.5 * s) + windows + pools * READER_COUNTS.length * (0.3 + 1.8 * s)
  )
}

/** Lead time for the `run` messages to reach every reader before the writer starts, in ms. */
export const GO_DELAY_MS = 50

/** Staleness of one phase: acknowledgement in the writer to visibility in a reader, in ns. */
export interface StalenessSummary extends LatencySummary {
  /** Puts acknowledged in the window (tail excluded) that some reader had not seen by the end. */
  readonly unseen: number
}

/** Memory of the readers of one phase, in bytes. */
export interface PhaseMemory {
  /**
   * Per reader: growth of its process's RSS from just before its store's open to just after the
   * reads (both after a full GC): the index it rebuilt and the values it cached. Processes only
   * (threads share one RSS).
   */
  readonly storeBytes: readonly number[]
  /** Per reader process: its RSS after the reads (harness included). */
  readonly processRssBytes: readonly number[]
  /** Per reader process: its private bytes after the reads (where /proc is there). */
  readonly processPrivateBytes: readonly number[]
  /**
   * RSS and private bytes of the pool's processes that have not opened the store (same start,
   * same data set, same GC), read at the same time: the baseline of the open ones.
   */
  readonly idleRssBytes: readonly number[]
  readonly idlePrivateBytes: readonly number[]
  /**
   * Per reader process: growth of its private memory (Private_Clean + Private_Dirty of
   * /proc/self/smaps_rollup) over the same span; RSS also counts shared file pages, such as
   * LMDB's memory map. Empty where /proc is missing.
   */
  readonly storePrivateBytes: readonly number[]
  /**
   * Threads: growth of the writer process's RSS over the phase (the opens of the readers new in
   * it, everyone's reads), and how many readers were new.
   */
  readonly thread?: { readonly growthBytes: number; readonly newReaders: number }
}

/** What one phase measured. */
export interface PhaseResult {
  readonly id: string
  readonly kind: PhaseKind
  readonly readers: number
  /** Reads in the window, all readers (or the writer's own in 'writer-get'). */
  readonly reads: number
  /** Aggregate reads per second: the sum of each reader's reads / its window. */
  readonly readsPerSec: number
  /** Each reader's reads per second. */
  readonly perReader: readonly number[]
  /** Latency of single gets (every 8th timed), all readers merged. */
  readonly readLatency: LatencySummary
  /** Durable puts the writer started in the window, and their latency. */
  readonly puts: number
  readonly putsPerSec: number
  readonly putLatency: LatencySummary
  /** Reader phases only. */
  readonly staleness?: StalenessSummary
  readonly memory?: PhaseMemory
  /**
   * Readers opened for this phase (a reader opens once, before the first phase of its kind that
   * has room for it): time to open and catch up, and the warm pass (read-loop.ts warmPass).
   */
  readonly opens?: { readonly openMs: readonly number[]; readonly warmMs: readonly number[] }
  /**
   * Cores the rest of the machine kept busy during the window (Linux): the machine's busy share
   * of /proc/stat times the cores, minus the CPU time of the writer's and the readers' processes.
   */
  readonly otherCores?: number
  /** AlexStorage: readers the writer's `stats().readers` listed at the end of the window. */
  readonly writerSawReaders?: number
  /** AlexStorage: the largest `lagMs` among them. */
  readonly writerMaxLagMs?: number
}

/** Everything the workload measured for one engine (the JSON `readers` of its result). */
export interface ReadersDetail {
  readonly engine: string
  readonly keys: number
  readonly valueSize: number
  readonly writeRate: number
  readonly warmupMs: number
  readonly windowMs: number
  readonly phases: readonly PhaseResult[]
  /** RSS of a bare `node -e` process on this machine, for "RSS minus a baseline process". */
  readonly bareNodeRssBytes: number
  /** Threads: growth of the writer's RSS per idle worker of the pool (its isolate and harness). */
  readonly threadBaseBytes?: number
  /** The writer's open (recovery of the store) and warm pass, in ms. */
  readonly writerOpenMs: number
  readonly writerWarmMs: number
  /** Values read and checked, all phases and warm-ups included. */
  readonly verified: number
  /** Wall time of the whole workload for this engine. */
  readonly wallMs: number
}

/** The phase with `id`, if it ran. */
export function phase(d: ReadersDetail, id: string): PhaseResult | undefined {
  return d.phases.find((p) => p.id === id)
}

/** The phase behind the workload's single figure in the engines' tables: 2 reader processes. */
export const HEADLINE_PHASE = 'processes-2'

/** The headline phase of `d` (it always runs). */
export function headlinePhase(d: ReadersDetail): PhaseResult {
  const p = phase(d, HEADLINE_PHASE)
  if (p === undefined) throw new Error(`readers: no ${HEADLINE_PHASE} phase`)
  return p
}
