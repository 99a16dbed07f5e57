import type { AlexStorage, Change } from '../src/index.js'

/** One write of a test: a put (`value` set) or a delete (`value` undefined). */
export type LsnOp = { key: number; value: Uint8Array | undefined }

/**
 * Every write a test issues, by LSN: a model the backup and change-feed tests compare against.
 * The log numbers operations in the order of the calls (`put` hands its operation to the log
 * synchronously), so counting gives each write's LSN: one per put or delete, one per operation of
 * a batch. `base` is the store's LSN when the model starts.
 */
export class LsnModel {
  readonly byLsn: LsnOp[] = [] // byLsn[lsn - base - 1]
  /** Whether each operation ends its atomic write (a lone write, or a batch's last). */
  private readonly ends: boolean[] = []

  constructor(
    private readonly db: AlexStorage,
    readonly base = 0,
  ) {}

  put(key: number, value: Uint8Array): Promise<void> {
    this.byLsn.push({ key, value })
    this.ends.push(true)
    return this.db.put(key, value)
  }

  delete(key: number): Promise<void> {
    this.byLsn.push({ key, value: undefined })
    this.ends.push(true)
    return this.db.delete(key)
  }

  batch(ops: LsnOp[]): Promise<void> {
    this.byLsn.push(...ops)
    for (let i = 0; i < ops.length; i++) this.ends.push(i === ops.length - 1)
    return this.db.batch(
      ops.map((o) =>
        o.value === undefined
          ? { type: 'delete' as const, key: o.key }
          : { type: 'put' as const, key: o.key, value: o.value },
      ),
    )
  }

  /** LSN of the last write issued. */
  get lastLsn(): number {
    return this.base + this.byLsn.length
  }

  /** The store's state after every operation up to `lsn` (of those this model issued). */
  stateAt(lsn: number): Map<number, Uint8Array> {
    const state = new Map<number, Uint8Array>()
    for (let i = 0; i < lsn - this.base; i++) {
      const op = this.byLsn[i]!
      if (op.value === undefined) state.delete(op.key)
      else state.set(op.key, op.value)
    }
    return state
  }

  /** The change a feed must deliver for `lsn`. */
  change(lsn: number): Change {
    const op = this.byLsn[lsn - this.base - 1]!
    const last = this.ends[lsn - this.base - 1]!
    return op.value === undefined
      ? { lsn, type: 'delete', key: op.key, last }
      : { lsn, type: 'put', key: op.key, value: op.value, last }
  }
}
