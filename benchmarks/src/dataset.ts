/**
 * The deterministic data of a run: keys (loaded, random inserts, ascending inserts) and
 * values. Every engine's child process builds the same dataset from the same seed.
 *
 * Values are never stored by the harness: the value of key index `i` at version `v` is a
 * fixed window of a seeded 1 MiB pool at an offset derived from (i, v). A write sends a view
 * of that window; a read is checked byte for byte against it.
 */
import { makeKeySet, mix32, Random } from '@alex/test-support/bench'

/**
 * Key distributions. The last four are the hard key sets of issue #14 (@alex/test-support's
 * makeKeySet: cell-id-like clusters, social-network-like gapped ids, queue timestamps, the
 * sequence crafted against ALEX), drawn in their own insertion order.
 */
export type Distribution =
  | 'uniform'
  | 'lognormal'
  | 'sequential'
  | 'clustered'
  | 'gapped'
  | 'queue'
  | 'adversarial'

/** All distributions, for flag validation. */
export const DISTRIBUTIONS: readonly Distribution[] = [
  'uniform',
  'lognormal',
  'sequential',
  'clustered',
  'gapped',
  'queue',
  'adversarial',
]

/** Bytes of the value pool from which every value is a window. */
export const POOL_BYTES = 1 << 20

/** How many keys of each kind a dataset holds. */
export interface DatasetShape {
  /** Keys loaded by the bulk load. */
  readonly loaded: number
  /** Extra keys from the same distribution, inserted by workloads (YCSB D and E). */
  readonly randomInserts: number
  /** Extra ascending keys above every other key, inserted by the time-series workload. */
  readonly sequentialInserts: number
}

/** Keys and value pool of one run. */
export class Dataset {
  /** Key of each key index: [loaded | random inserts | sequential inserts]. */
  readonly keys: Float64Array
  readonly shape: DatasetShape
  readonly valueSize: number
  private readonly pool: Buffer
  private readonly span: number

  constructor(seed: number, distribution: Distribution, shape: DatasetShape, valueSize: number) {
    this.shape = shape
    this.valueSize = valueSize
    const random = new Random(seed)
    const total = shape.loaded + shape.randomInserts + shape.sequentialInserts
    this.keys = new Float64Array(total)
    const distinct = shape.loaded + shape.randomInserts
    const seen = new Set<number>()
    let n = 0
    let max = Number.NEGATIVE_INFINITY
    if (isKeySet(distribution)) {
      this.keys.set(makeKeySet(distribution, distinct, seed))
      for (; n < distinct; n++) if (this.keys[n]! > max) max = this.keys[n]!
    }
    while (n < distinct) {
      const k = drawKey(random, distribution, n)
      if (seen.has(k)) continue
      seen.add(k)
      this.keys[n++] = k
      if (k > max) max = k
    }
    for (let j = 0; j < shape.sequentialInserts; j++) this.keys[n++] = max + 1 + j
    this.pool = Buffer.allocUnsafe(POOL_BYTES + valueSize)
    for (let i = 0; i < this.pool.length; i += 4) {
      this.pool.writeUInt32LE(random.nextUint32(), Math.min(i, this.pool.length - 4))
    }
    this.span = POOL_BYTES + 1
  }

  /** Index of the first random insert key. */
  get firstRandomInsert(): number {
    return this.shape.loaded
  }

  /** Index of the first ascending insert key. */
  get firstSequentialInsert(): number {
    return this.shape.loaded + this.shape.randomInserts
  }

  /** Pool offset of the value of key index `i` at version `version` (>= 1). */
  offset(i: number, version: number): number {
    return mix32((Math.imul(i, 0x9e3779b1) ^ Math.imul(version, 0x85ebca77)) >>> 0) % this.span
  }

  /** The value of key index `i` at `version`: a view of the pool (no copy). */
  value(i: number, version: number): Buffer {
    const off = this.offset(i, version)
    return this.pool.subarray(off, off + this.valueSize)
  }

  /** Whether `v` is byte for byte the value of key index `i` at `version`. */
  matches(v: Uint8Array, i: number, version: number): boolean {
    if (v.length !== this.valueSize) return false
    const off = this.offset(i, version)
    return this.pool.compare(v, 0, this.valueSize, off, off + this.valueSize) === 0
  }
}

function isKeySet(d: Distribution): d is 'clustered' | 'gapped' | 'queue' | 'adversarial' {
  return d === 'clustered' || d === 'gapped' || d === 'queue' || d === 'adversarial'
}

function drawKey(random: Random, distribution: Distribution, n: number): number {
  if (distribution === 'sequential') return n
  if (distribution === 'uniform') return Math.floor(random.next() * 2 ** 48)
  // Lognormal(0, 2) scaled to integers, as in the ALEX paper's lognormal data set.
  return Math.floor(Math.exp(2 * random.normal()) * 1e9)
}
