/**
 * The sorted-btree reference: an in-memory B+ tree (the `sorted-btree` package), the limit for
 * ordered operations in JavaScript without any persistence.
 */
import type BTreeType from 'sorted-btree'
import { copyBytes } from '../copy-bytes.js'
import { assertBatch, assertBulk, assertValue } from '../guards.js'
import { assertKey } from '../key-encoding.js'
import { exportOf, loadEngineModule, packageVersion } from '../load-module.js'
import { aboveLow, belowHigh, isEmptyRange, toBounds } from '../range.js'
import { StoreBase } from '../store-base.js'
import type {
  BatchOp,
  BulkEntries,
  KvEngine,
  KvEntry,
  RangeOptions,
  RmwModify,
  RmwResult,
} from '../types.js'

type BTree = BTreeType<number, Uint8Array>

class BTreeStore extends StoreBase {
  readonly id = 'btree' as const
  private readonly tree: BTree

  constructor(tree: BTree, durable: boolean) {
    super(durable)
    this.tree = tree
  }

  protected _get(key: number): Uint8Array | undefined {
    assertKey(key)
    return this.tree.get(key + 0)
  }

  protected async _put(key: number, value: Uint8Array): Promise<void> {
    assertKey(key)
    assertValue(value)
    this.tree.set(key + 0, copyBytes(value))
  }

  protected async _delete(key: number): Promise<void> {
    assertKey(key)
    this.tree.delete(key + 0)
  }

  protected async _batch(ops: readonly BatchOp[]): Promise<void> {
    assertBatch(ops)
    for (const op of ops) {
      if (op.type === 'put') this.tree.set(op.key + 0, copyBytes(op.value))
      else this.tree.delete(op.key + 0)
    }
  }

  /** Read, modify and set in one synchronous step: nothing can come between them. */
  protected async _readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult> {
    assertKey(key)
    const next = modify(this.tree.get(key + 0))
    if (next === undefined) return { written: false, attempts: 1 }
    assertValue(next)
    this.tree.set(key + 0, copyBytes(next))
    return { written: true, attempts: 1 }
  }

  /**
   * Fills the tree with the caller's own values, no copy: the in-memory limit, the cheapest
   * fill there is (unlike `put`, the caller must keep the values unchanged afterwards).
   */
  protected async _bulkLoad(entries: BulkEntries, sorted: boolean): Promise<void> {
    assertBulk(entries, sorted)
    const { keys, values } = entries
    for (let i = 0; i < keys.length; i++) this.tree.set((keys[i] as number) + 0, values[i]!)
  }

  protected _range(options?: RangeOptions): KvEntry[] {
    const b = toBounds(options)
    const out: KvEntry[] = []
    if (isEmptyRange(b)) return out
    if (!b.reverse) {
      const it = this.tree.entries(b.low)
      for (let r = it.next(); !r.done; r = it.next()) {
        const [k, v] = r.value
        if (!aboveLow(b, k)) continue
        if (!belowHigh(b, k) || out.length >= b.limit) break
        out.push([k, v])
      }
    } else {
      const it = this.tree.entriesReversed(b.high)
      for (let r = it.next(); !r.done; r = it.next()) {
        const [k, v] = r.value
        if (!belowHigh(b, k)) continue
        if (!aboveLow(b, k) || out.length >= b.limit) break
        out.push([k, v])
      }
    }
    return out
  }

  protected async _sync(): Promise<void> {}

  protected async _close(): Promise<void> {
    this.tree.clear()
  }
}

/** In-memory B+ tree from `sorted-btree`: the limit for ordered operations. */
export const btreeEngine: KvEngine = {
  id: 'btree',
  name: 'sorted-btree (in memory)',
  packageName: 'sorted-btree',
  capabilities: {
    syncGet: true,
    syncRange: true,
    range: true,
    getMany: false,
    atomicBatch: true,
    persistent: false,
    inMemory: true,
    readModifyWrite: 'transaction',
  },
  durability: { durable: 'in memory (no disk)', fast: 'in memory (no disk)' },
  version: () => packageVersion('sorted-btree'),
  open: async (_dir, options) => {
    const mod = await loadEngineModule('sorted-btree', 'sorted-btree')
    // sorted-btree is CommonJS with `exports.default = BTree`; depending on the loader's
    // interop the class is the default export itself or the `default` of module.exports.
    const d = exportOf<(new () => BTree) | { default: new () => BTree }>(mod)
    const BTree = typeof d === 'function' ? d : d.default
    return new BTreeStore(new BTree(), options.durable)
  },
}
