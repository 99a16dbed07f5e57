/**
 * Issue #11's targets for following readers, checked against figures measured in the same run
 * (plan.ts ReadersDetail of AlexStorage), and the comparison with LMDB. Pure.
 */
import { formatNs } from '../format.js'
import { median } from '../measure.js'
import { type PhaseResult, phase, type ReadersDetail } from './plan.js'

/** One target: what the issue asks, what was measured, whether it holds. */
export interface TargetCheck {
  /** What is compared, e.g. "2 reader processes vs 1: aggregate reads/s". */
  readonly what: string
  /** The issue's bound, e.g. "≥ 1.8×". */
  readonly target: string
  /** The measured ratio or value (undefined when a phase is missing). */
  readonly value: number | undefined
  /** 'ratio' (×) or 'ms'. */
  readonly unit: 'ratio' | 'ms'
  /** The figures behind it, in words. */
  readonly detail: string
  readonly ok: boolean | undefined
}

const perGetNs = (readsPerSec: number | undefined): number | undefined =>
  readsPerSec !== undefined && readsPerSec > 0 ? 1e9 / readsPerSec : undefined

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && b > 0 ? a / b : undefined
}

function check(
  what: string,
  target: string,
  value: number | undefined,
  unit: 'ratio' | 'ms',
  detail: string,
  holds: (v: number) => boolean,
): TargetCheck {
  return { what, target, value, unit, detail, ok: value === undefined ? undefined : holds(value) }
}

const rate = (x: number | undefined): string =>
  x === undefined ? '—' : `${Math.round(x).toLocaleString('en-US')}/s`
const ns = (x: number | undefined): string => (x === undefined ? '—' : formatNs(x))

/** The issue's targets, for AlexStorage's detail `d`. */
export function readersTargets(d: ReadersDetail): TargetCheck[] {
  const out: TargetCheck[] = []
  const writerGet = phase(d, 'writer-get')
  const alone = phase(d, 'no-readers')
  for (const kind of ['processes', 'threads'] as const) {
    const one = phase(d, `${kind}-1`)
    const two = phase(d, `${kind}-2`)
    if (one === undefined && two === undefined) continue
    const [single, noun] =
      kind === 'processes'
        ? ['reader process', 'reader processes']
        : ['reader thread', 'reader threads']
    out.push(
      check(
        `2 ${noun} vs 1: aggregate reads/s`,
        '≥ 1.8×',
        ratio(two?.readsPerSec, one?.readsPerSec),
        'ratio',
        `${rate(two?.readsPerSec)} vs ${rate(one?.readsPerSec)}`,
        (v) => v >= 1.8,
      ),
    )
    const readerNs = perGetNs(one?.perReader[0])
    const writerNs = perGetNs(writerGet?.readsPerSec)
    out.push(
      check(
        `time per get: 1 ${single} vs the writer's own`,
        '≤ 1.2×',
        ratio(readerNs, writerNs),
        'ratio',
        `${ns(readerNs)} vs ${ns(writerNs)}`,
        (v) => v <= 1.2,
      ),
    )
    for (const pct of ['p50', 'p99'] as const) {
      out.push(
        check(
          `writer's durable put ${pct}: 2 ${noun} vs none`,
          '≤ 1.10×',
          ratio(two?.putLatency[pct], alone?.putLatency[pct]),
          'ratio',
          `${ns(two?.putLatency[pct])} vs ${ns(alone?.putLatency[pct])}`,
          (v) => v <= 1.1,
        ),
      )
    }
    for (const p of [one, two]) {
      if (p?.staleness === undefined) continue
      out.push(
        check(
          `staleness p99, ${p.readers} ${p.readers === 1 ? single : noun}`,
          '≤ 10 ms',
          p.staleness.p99 / 1e6,
          'ms',
          `p50 ${(p.staleness.p50 / 1e6).toFixed(2)} ms, ${p.staleness.samples.toLocaleString('en-US')} (put, reader) pairs${p.staleness.unseen > 0 ? `, ${p.staleness.unseen} not seen by the window's end` : ''}`,
          (v) => v <= 10,
        ),
      )
    }
  }
  return out
}

/** Extra memory per reader, in bytes (medians over the readers and phases measured). */
export interface ReaderMemory {
  /** Processes: a reader's RSS minus that of a pool process that never opened the store (the store's share). */
  readonly processStore?: number
  /** Processes: a reader process's whole RSS minus a bare `node -e` process's (harness included). */
  readonly processOverBare?: number
  /** Processes: the same for private memory (excludes shared file pages such as LMDB's map). */
  readonly processPrivate?: number
  /** Threads: growth of the writer process's RSS per reader thread over a phase (the store's share). */
  readonly threadStore?: number
  /** Threads: the same plus each idle worker's own cost (isolate, modules, the harness's data). */
  readonly threadTotal?: number
}

/**
 * The extra memory per reader of one engine's detail. Processes: from the phase with the most
 * open readers that still had idle ones (processes that never opened the store) to compare with,
 * the open ones' median RSS minus the idle ones'; where no phase had both, the growth of each
 * reader from before its open to after its reads. Threads: the writer's RSS growth per added
 * reader thread over the thread phases.
 */
export function readerMemory(d: ReadersDetail): ReaderMemory {
  let paired: PhaseResult | undefined
  let widest: PhaseResult | undefined
  let growth = 0
  let added = 0
  for (const p of d.phases) {
    const mem = p.memory
    if (mem === undefined) continue
    if (p.kind === 'processes') {
      if (widest === undefined || p.readers > widest.readers) widest = p
      const hasIdle = mem.idleRssBytes.length > 0
      if (hasIdle && (paired === undefined || p.readers > paired.readers)) paired = p
    }
    if (mem.thread !== undefined) {
      growth += mem.thread.growthBytes
      added += mem.thread.newReaders
    }
  }
  const m = (xs: readonly number[] | undefined): number | undefined =>
    xs !== undefined && xs.length > 0 ? median(xs) : undefined
  const diff = (a: number | undefined, b: number | undefined): number | undefined =>
    a !== undefined && b !== undefined ? a - b : undefined
  const pm = paired?.memory
  const processStore =
    pm !== undefined
      ? diff(m(pm.processRssBytes), m(pm.idleRssBytes))
      : m(widest?.memory?.storeBytes)
  const processPrivate =
    pm !== undefined
      ? diff(m(pm.processPrivateBytes), m(pm.idlePrivateBytes))
      : m(widest?.memory?.storePrivateBytes)
  const rss = m((paired ?? widest)?.memory?.processRssBytes)
  const threadStore = added > 0 ? growth / added : undefined
  return {
    ...(processStore !== undefined ? { processStore } : {}),
    ...(rss !== undefined && d.bareNodeRssBytes > 0
      ? { processOverBare: rss - d.bareNodeRssBytes }
      : {}),
    ...(processPrivate !== undefined ? { processPrivate } : {}),
    ...(threadStore !== undefined ? { threadStore } : {}),
    ...(threadStore !== undefined && d.threadBaseBytes !== undefined
      ? { threadTotal: threadStore + d.threadBaseBytes }
      : {}),
  }
}
