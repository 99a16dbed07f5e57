/**
 * Messages between the writer's child (the coordinator) and a reader, which is a child process
 * (IPC) or a worker thread of the writer's process (postMessage); the same messages either way.
 * The coordinator sends one command and waits for its answer before the next. A reader opens
 * once and then runs in every phase of its kind that has room for it (1, then 2, then 4
 * readers), so no reader sits open and idle while others are measured.
 */
import type { CheckRecipe } from './value-check.js'

/** What a reader is started with (argv[2] as JSON, or workerData). */
export interface ReaderInit {
  readonly engine: string
  readonly dir: string
  readonly recipe: CheckRecipe
  /** Origin of the shared clock (clock.ts). */
  readonly origin: string
  /** Position in its pool, for seeds and messages. */
  readonly index: number
}

/** RSS and private bytes (undefined where /proc is missing), after a full GC. */
export interface MemoryReading {
  readonly rss: number
  readonly priv: number | undefined
}

/** Coordinator -> reader. */
export type ToReader =
  | { readonly type: 'open' }
  | {
      readonly type: 'run'
      readonly startMs: number
      readonly endMs: number
      readonly seed: number
    }
  | { readonly type: 'close' }
  /** A full GC, then the memory reading. */
  | { readonly type: 'memory' }
  | { readonly type: 'exit' }

/** Reader -> coordinator. */
export type FromReader =
  | { readonly type: 'ready' }
  | {
      readonly type: 'opened'
      /** Time to open (and catch up), then the warm pass (read-loop.ts warmPass). */
      readonly openMs: number
      readonly warmMs: number
      /** Values the warm pass checked. */
      readonly warmed: number
    }
  | {
      readonly type: 'result'
      readonly reads: number
      readonly elapsedMs: number
      /** Encoded Latencies (histogram.ts). */
      readonly latency: string
      readonly verified: number
      /** CPU time of the reader's process over its window (all threads of the process). */
      readonly cpuMs: number
      /** Flat pairs [mark, ms] whenever the visible mark grew. */
      readonly stamps: number[]
      /** Before the open and after the reads. */
      readonly before: MemoryReading
      readonly after: MemoryReading
    }
  | { readonly type: 'closed' }
  | { readonly type: 'memory'; readonly reading: MemoryReading }
  | { readonly type: 'error'; readonly message: string; readonly correctness: boolean }
