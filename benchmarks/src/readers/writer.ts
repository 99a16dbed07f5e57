/**
 * The writer of the `readers` workload: durable puts at a steady rate (WRITE_RATE per second,
 * each awaited before the next, on a schedule it catches up with when a put runs late), each
 * the key's next version, keys taken from a seeded permutation of the loaded keys so a key is
 * rewritten only once every key has been. It records each put's latency (puts started inside
 * the measured window) and, for every put, the mark it showed once acknowledged and when
 * (staleness.ts), on the shared clock.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Random } from '@alex/test-support/bench'
import type { Dataset } from '../dataset.js'
import { Latencies } from './histogram.js'
import type { WriterStore } from './stores.js'

/** Which key the writer writes next. */
export class WritePlan {
  private readonly perm: Int32Array
  private i = 0
  /** Writes allowed in all (readers accept a value up to ceil(limit / n) versions ahead). */
  readonly limit: number

  constructor(n: number, seed: number, limit: number) {
    const random = new Random(seed)
    const perm = new Int32Array(n)
    for (let j = 0; j < n; j++) perm[j] = j
    for (let j = n - 1; j > 0; j--) {
      const r = random.below(j + 1)
      const t = perm[j]!
      perm[j] = perm[r]!
      perm[r] = t
    }
    this.perm = perm
    this.limit = limit
  }

  /** Versions past its starting one a key can reach within `limit` writes. */
  get extraVersions(): number {
    return Math.ceil(this.limit / this.perm.length)
  }

  /** Key index of the next write. */
  next(): number {
    if (this.i >= this.limit) throw new Error(`the writer went past its ${this.limit} writes`)
    return this.perm[this.i++ % this.perm.length]!
  }
}

/** Where the writer's puts go and are remembered. */
export interface WriteTarget {
  readonly store: WriterStore
  readonly ds: Dataset
  /** Current version per key index (updated after each acknowledgement). */
  readonly version: Uint32Array
  /** Key indices written durably (read back at the end of the bench child). */
  readonly written: number[]
  readonly plan: WritePlan
}

/** One phase of writing. */
export interface WriteWindow {
  readonly now: () => number
  /** First put; the measured window; the last put starts before `endMs`. */
  readonly goMs: number
  readonly startMs: number
  readonly endMs: number
  readonly rate: number
}

/** What the writer did in one phase. */
export interface WriterResult {
  /** Puts started in the window, and their latency. */
  readonly puts: number
  readonly latency: Latencies
  /** Flat pairs [mark, ack ms] of every put of the phase. */
  readonly acks: number[]
}

/** Writes from `goMs` to `endMs` at `rate` puts per second. */
export async function pacedWrites(t: WriteTarget, w: WriteWindow): Promise<WriterResult> {
  const interval = 1000 / w.rate
  const latency = new Latencies()
  const acks: number[] = []
  const keys = t.ds.keys
  let puts = 0
  const wait = w.goMs - w.now()
  if (wait > 1) await sleep(Math.floor(wait))
  for (let i = 0; ; i++) {
    let now = w.now()
    const due = w.goMs + i * interval
    if (due > now + 1) {
      await sleep(Math.floor(due - now))
      now = w.now()
    }
    if (now >= w.endMs) break
    const k = t.plan.next()
    const next = t.version[k]! + 1
    const s = w.now()
    await t.store.put(keys[k]!, t.ds.value(k, next))
    const ack = w.now()
    t.version[k] = next
    t.written.push(k)
    acks.push(t.store.mark(), ack)
    if (s >= w.startMs) {
      puts++
      latency.recordMs(ack - s)
    }
  }
  return { puts, latency, acks }
}
