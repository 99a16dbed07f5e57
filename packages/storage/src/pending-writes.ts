import { TYPE_TOMBSTONE } from './format.js'

/**
 * Writes that are in the log and in a data segment's image but not yet durable, in LSN order.
 * When the log reports an LSN durable, every pending write up to it is applied to the index at
 * once (a batch's operations have consecutive LSNs, so a batch is never half applied). Stored in
 * parallel typed arrays used as a ring, so queueing a write allocates nothing.
 */
export class PendingWrites {
  /** Key of each pending write. */
  keys: Float64Array
  /** Record location of each pending write. */
  locations: Float64Array
  /** LSN of each pending write. */
  lsns: Float64Array
  /** Record size in bytes. */
  sizes: Float64Array
  /** Record type (put or tombstone). */
  types: Uint8Array
  private head = 0
  private count = 0

  constructor(capacity = 1024) {
    this.keys = new Float64Array(capacity)
    this.locations = new Float64Array(capacity)
    this.lsns = new Float64Array(capacity)
    this.sizes = new Float64Array(capacity)
    this.types = new Uint8Array(capacity)
  }

  /** Number of pending writes. */
  get size(): number {
    return this.count
  }

  /** Queues a write; LSNs must be pushed in increasing order. */
  push(key: number, location: number, lsn: number, type: number, size: number): void {
    if (this.count === this.keys.length) this.grow()
    const i = (this.head + this.count) % this.keys.length
    this.keys[i] = key
    this.locations[i] = location
    this.lsns[i] = lsn
    this.sizes[i] = size
    this.types[i] = type
    this.count++
  }

  /** Ring index of the oldest pending write, or -1 if it has an LSN above `lsn` (or none). */
  peek(lsn: number): number {
    if (this.count === 0 || this.lsns[this.head]! > lsn) return -1
    return this.head
  }

  /** Removes the oldest pending write (after `peek` returned it). */
  shift(): void {
    this.head = (this.head + 1) % this.keys.length
    this.count--
  }

  /** LSN of the newest pending write, or 0 if there is none. */
  get lastLsn(): number {
    if (this.count === 0) return 0
    return this.lsns[(this.head + this.count - 1) % this.keys.length]!
  }

  /**
   * Ring index of the newest pending write of `key`, or -1 if none is pending: a scan from the
   * newest back (pending writes are few: those awaiting one log fsync), for conditional writes,
   * so unconditional ones pay nothing for it.
   */
  newestOf(key: number): number {
    const cap = this.keys.length
    for (let k = this.count - 1; k >= 0; k--) {
      const i = (this.head + k) % cap
      if (this.keys[i] === key) return i
    }
    return -1
  }

  /** The version the pending write at ring index `i` gives its key: its LSN, undefined (delete). */
  versionAt(i: number): number | undefined {
    return this.types[i] === TYPE_TOMBSTONE ? undefined : this.lsns[i]
  }

  /** Drops every pending write (the log failed: none of them will be applied). */
  clear(): void {
    this.head = 0
    this.count = 0
  }

  private grow(): void {
    const cap = this.keys.length
    const order = (a: Float64Array | Uint8Array) => {
      const b = new (a.constructor as Float64ArrayConstructor)(cap * 2)
      for (let k = 0; k < this.count; k++) b[k] = a[(this.head + k) % cap]!
      return b
    }
    this.keys = order(this.keys)
    this.locations = order(this.locations)
    this.lsns = order(this.lsns)
    this.sizes = order(this.sizes)
    this.types = order(this.types) as unknown as Uint8Array
    this.head = 0
  }
}
