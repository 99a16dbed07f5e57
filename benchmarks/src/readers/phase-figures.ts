/**
 * Turns what the writer and the readers of one phase reported into that phase's figures
 * (plan.ts PhaseResult): aggregate and per-reader read rates, merged read latency, the writer's
 * put rate and latency, staleness over every (put, reader) pair, and the readers' memory.
 * Pure apart from decoding histograms.
 */
import { Latencies } from './histogram.js'
import {
  type PhaseMemory,
  type PhaseResult,
  type PhaseSpec,
  STALENESS_TAIL_MS,
  type StalenessSummary,
} from './plan.js'
import type { FromReader, MemoryReading } from './reader-protocol.js'
import { visibilityDelays } from './staleness.js'

/** One reader's answer to `run`. */
export type ReaderReport = Extract<FromReader, { type: 'result' }>

/** What the phase's writer reported. */
export interface WriterReport {
  readonly puts: number
  readonly latency: Latencies
  readonly acks: readonly number[]
}

/** Reads of one loop: count, time, histogram. */
export interface LoopReport {
  readonly reads: number
  readonly elapsedMs: number
  readonly latency: Latencies
}

/** The phase's window, on the shared clock. */
export interface Window {
  readonly startMs: number
  readonly endMs: number
}

/** Reads per second of one loop (0 when it measured nothing). */
export function rateOf(reads: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (reads / elapsedMs) * 1e3 : 0
}

/** Staleness over every (put, reader) pair of the phase. */
export function stalenessOf(
  acks: readonly number[],
  readers: readonly { readonly stamps: readonly number[] }[],
  w: Window,
): StalenessSummary {
  const h = new Latencies()
  let unseen = 0
  for (const r of readers) {
    const d = visibilityDelays(acks, r.stamps, w.startMs, w.endMs, STALENESS_TAIL_MS)
    for (const ms of d.delays) h.recordMs(ms)
    unseen += d.unseen
  }
  return { ...h.summary(), unseen }
}

/** Memory figures of a phase's readers (threads: the process's growth is passed in). */
export function memoryOf(
  readers: readonly ReaderReport[],
  thread?: { readonly growthBytes: number; readonly newReaders: number },
  idle: readonly MemoryReading[] = [],
): PhaseMemory {
  if (thread !== undefined) {
    return {
      storeBytes: [],
      processRssBytes: [],
      storePrivateBytes: [],
      processPrivateBytes: [],
      idleRssBytes: [],
      idlePrivateBytes: [],
      thread,
    }
  }
  const idlePriv: number[] = []
  for (const r of idle) if (r.priv !== undefined) idlePriv.push(r.priv)
  const priv: number[] = []
  for (const r of readers) {
    if (r.before.priv !== undefined && r.after.priv !== undefined) {
      priv.push(r.after.priv - r.before.priv)
    }
  }
  return {
    storeBytes: readers.map((r) => r.after.rss - r.before.rss),
    processRssBytes: readers.map((r) => r.after.rss),
    storePrivateBytes: priv,
    processPrivateBytes: readers.flatMap((r) => (r.after.priv !== undefined ? [r.after.priv] : [])),
    idleRssBytes: idle.map((r) => r.rss),
    idlePrivateBytes: idlePriv,
  }
}

/** The figures of one phase. */
export function phaseFigures(
  spec: PhaseSpec,
  w: Window,
  writer: WriterReport,
  readers: readonly ReaderReport[],
  own: LoopReport | undefined,
  extra: {
    readonly thread?: { readonly growthBytes: number; readonly newReaders: number }
    readonly writerSaw?: { count: number; maxLagMs: number }
    readonly opens?: { readonly openMs: readonly number[]; readonly warmMs: readonly number[] }
    /** Processes of the pool that have not opened the store, read after the phase. */
    readonly idle?: readonly MemoryReading[]
    /** Cores other processes of the machine kept busy during the window. */
    readonly otherCores?: number
  } = {},
): PhaseResult {
  const windowMs = w.endMs - w.startMs
  const loops: LoopReport[] =
    own !== undefined
      ? [own]
      : readers.map((r) => ({
          reads: r.reads,
          elapsedMs: r.elapsedMs,
          latency: Latencies.decode(r.latency),
        }))
  const merged = new Latencies()
  for (const l of loops) merged.add(l.latency)
  const perReader = loops.map((l) => rateOf(l.reads, l.elapsedMs))
  return {
    id: spec.id,
    kind: spec.kind,
    readers: spec.readers,
    reads: loops.reduce((s, l) => s + l.reads, 0),
    readsPerSec: perReader.reduce((s, x) => s + x, 0),
    perReader,
    readLatency: merged.summary(),
    puts: writer.puts,
    putsPerSec: windowMs > 0 ? (writer.puts / windowMs) * 1e3 : 0,
    putLatency: writer.latency.summary(),
    ...(readers.length > 0
      ? {
          staleness: stalenessOf(writer.acks, readers, w),
          memory: memoryOf(readers, extra.thread, extra.idle),
        }
      : {}),
    ...(extra.opens !== undefined && extra.opens.openMs.length > 0 ? { opens: extra.opens } : {}),
    ...(extra.otherCores !== undefined ? { otherCores: extra.otherCores } : {}),
    ...(extra.writerSaw !== undefined
      ? { writerSawReaders: extra.writerSaw.count, writerMaxLagMs: extra.writerSaw.maxLagMs }
      : {}),
  }
}
