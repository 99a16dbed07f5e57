/**
 * A hash map from finite float64 keys to non-negative numbers, in typed arrays: open addressing
 * with linear probing and backward-shift deletion (no tombstones), capacity a power of two kept
 * at most half full. For the version history's per-key lookups on the write path: unlike a `Map`
 * it allocates nothing per entry (a `Map` boxes every key that is not a small integer) and a
 * lookup is one or two cache lines. Keys must be normalised (`-0` as `0`); values must be >= 0
 * (a slot holding -1 is empty).
 */
export class NumberMap {
  private keys: Float64Array
  private values: Float64Array
  private mask: number
  private count = 0

  constructor(capacity = 64) {
    let cap = 16
    while (cap < capacity * 2) cap *= 2
    this.keys = new Float64Array(cap)
    this.values = new Float64Array(cap).fill(-1)
    this.mask = cap - 1
  }

  /** Entries in the map. */
  get size(): number {
    return this.count
  }

  /** The value of `key`, or -1 if it has none. */
  get(key: number): number {
    const keys = this.keys
    const values = this.values
    const mask = this.mask
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const v = values[i]!
      if (v < 0) return -1
      if (keys[i] === key) return v
    }
  }

  /** Sets `key` to `value` (>= 0) and returns the value it replaced, or -1 if it had none. */
  set(key: number, value: number): number {
    if (this.count * 2 >= this.keys.length) this.resize(this.keys.length * 2)
    const keys = this.keys
    const values = this.values
    const mask = this.mask
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const v = values[i]!
      if (v < 0) {
        keys[i] = key
        values[i] = value
        this.count++
        return -1
      }
      if (keys[i] === key) {
        values[i] = value
        return v
      }
    }
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: number): boolean {
    const keys = this.keys
    const values = this.values
    const mask = this.mask
    let i = hash(key) & mask
    for (; ; i = (i + 1) & mask) {
      if (values[i]! < 0) return false
      if (keys[i] === key) break
    }
    // Backward shift: move later entries of the probe run into the hole when their home allows.
    for (let j = (i + 1) & mask; values[j]! >= 0; j = (j + 1) & mask) {
      const home = hash(keys[j]!) & mask
      // Entry j may move to the hole i unless its home lies cyclically in (i, j].
      if (i <= j ? home > i && home <= j : home > i || home <= j) continue
      keys[i] = keys[j]!
      values[i] = values[j]!
      i = j
    }
    values[i] = -1
    this.count--
    return true
  }

  /** Every key, in no particular order. */
  keysArray(): Float64Array {
    const out = new Float64Array(this.count)
    let n = 0
    for (let i = 0; i < this.keys.length; i++) if (this.values[i]! >= 0) out[n++] = this.keys[i]!
    return out
  }

  /** Removes every entry; drops a large table. */
  clear(): void {
    if (this.count === 0) return
    if (this.keys.length > 1 << 16) {
      this.keys = new Float64Array(128)
      this.values = new Float64Array(128)
      this.mask = 127
    }
    this.values.fill(-1)
    this.count = 0
  }

  private resize(capacity: number): void {
    const keys = this.keys
    const values = this.values
    this.keys = new Float64Array(capacity)
    this.values = new Float64Array(capacity).fill(-1)
    this.mask = capacity - 1
    this.count = 0
    for (let i = 0; i < keys.length; i++) if (values[i]! >= 0) this.set(keys[i]!, values[i]!)
  }
}

const F64 = new Float64Array(1)
const U32 = new Uint32Array(F64.buffer)

/** A 32-bit hash of a float64's bits (both halves mixed, then murmur3's finaliser). */
function hash(key: number): number {
  F64[0] = key
  let h = Math.imul(U32[0]! ^ Math.imul(U32[1]!, 0x9e3779b1), 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
