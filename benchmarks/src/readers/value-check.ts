/**
 * How a reader checks what it reads. The writer's child hands each reader the data set's
 * recipe (seed, distribution, shape, value size: the reader rebuilds the very same `Dataset`)
 * and a file of every loaded key's version when the workload starts. During the workload the
 * writer writes each key at most a few times (a permutation of the keys, cycled), each time its
 * next version. A read of key index `k` is correct when it is byte for byte the value of `k` at
 * its starting version or one of the next `extra` versions: the value of the key asked for, in
 * a version that was written (or was being written), never another key's, never a torn one.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { Dataset, type DatasetShape, type Distribution } from '../dataset.js'

/** What a reader needs to rebuild the data set and check values. */
export interface CheckRecipe {
  readonly seed: number
  readonly distribution: Distribution
  readonly shape: DatasetShape
  readonly valueSize: number
  /** File of the loaded keys' versions at the start (little-endian u32 each). */
  readonly versionsFile: string
  /** Versions past the starting one a read may show. */
  readonly extra: number
}

/** Writes the versions of the first `n` key indices to `file`. */
export function writeVersions(file: string, version: Uint32Array, n: number): void {
  const v = version.subarray(0, n)
  writeFileSync(file, new Uint8Array(v.buffer, v.byteOffset, v.byteLength))
}

/** Checks reads of the loaded keys. */
export class ValueCheck {
  readonly ds: Dataset
  /** Versions at the start, per loaded key index. */
  readonly start: Uint32Array
  readonly extra: number

  constructor(ds: Dataset, start: Uint32Array, extra: number) {
    this.ds = ds
    this.start = start
    this.extra = extra
  }

  /** Rebuilds the data set and reads the versions file. */
  static fromRecipe(r: CheckRecipe): ValueCheck {
    const ds = new Dataset(r.seed, r.distribution, r.shape, r.valueSize)
    const bytes = readFileSync(r.versionsFile)
    const start = new Uint32Array(bytes.byteLength / 4)
    new Uint8Array(start.buffer).set(bytes)
    return new ValueCheck(ds, start, r.extra)
  }

  /** Loaded keys a reader may ask for (indices 0 .. count - 1). */
  get count(): number {
    return this.start.length
  }

  /** Whether `v` is the value of key index `k` in its starting version or one of the next `extra`. */
  ok(v: Uint8Array | undefined, k: number): boolean {
    if (v === undefined) return false
    const v0 = this.start[k]!
    if (this.ds.matches(v, k, v0)) return true
    for (let e = 1; e <= this.extra; e++) if (this.ds.matches(v, k, v0 + e)) return true
    return false
  }
}
