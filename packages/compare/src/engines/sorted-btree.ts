/**
 * The sorted-btree reference: an in-memory B+ tree (the `sorted-btree` package), the limit for
 * ordered operations in JavaScript without any persistence.
 */
import type BTreeType from 'sorted-btree'
import { assertBatch, assertValue, throwClosed } from '../guards.js'
import { assertKey } from '../key-encoding.js'
import { exportOf, loadEngineModule, packageVersion } from '../load-module.js'
import { aboveLow, belowHigh, isEmptyRange, toBounds } from '../range.js'
import type { BatchOp, KvEngine, KvEntry, KvStore, RangeOptions } from '../types.js'

type BTree = BTreeType<number, Uint8Array>

class BTreeStore implements KvStore {
  readonly id = 'btree' as const
  readonly durable: boolean
  private readonly tree: BTree
  private closed = false

  constructor(tree: BTree, durable: boolean) {
    this.tree = tree
    this.durable = durable
  }

  get(key: number): Uint8Array | undefined {
    if (this.closed) throwClosed('btree')
    assertKey(key)
    return this.tree.get(key + 0)
  }

  async put(key: number, value: Uint8Array): Promise<void> {
    if (this.closed) throwClosed('btree')
    assertKey(key)
    assertValue(value)
    this.tree.set(key + 0, value.slice())
  }

  async delete(key: number): Promise<void> {
    if (this.closed) throwClosed('btree')
    assertKey(key)
    this.tree.delete(key + 0)
  }

  async batch(ops: readonly BatchOp[]): Promise<void> {
    if (this.closed) throwClosed('btree')
    assertBatch(ops)
    for (const op of ops) {
      if (op.type === 'put') this.tree.set(op.key + 0, op.value.slice())
      else this.tree.delete(op.key + 0)
    }
  }

  range(options?: RangeOptions): KvEntry[] {
    if (this.closed) throwClosed('btree')
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

  async sync(): Promise<void> {
    if (this.closed) throwClosed('btree')
  }

  async close(): Promise<void> {
    this.closed = true
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
