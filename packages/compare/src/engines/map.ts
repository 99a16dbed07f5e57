/**
 * The `Map` reference: point operations at the speed of a JavaScript hash map, with no
 * persistence and no order. It marks the limit for point reads; it cannot scan ranges.
 */

import { copyBytes } from '../copy-bytes.js'
import { CompareError, ErrorCode } from '../errors.js'
import { assertBatch, assertBulk, assertValue } from '../guards.js'
import { assertKey } from '../key-encoding.js'
import { StoreBase } from '../store-base.js'
import type { BatchOp, BulkEntries, KvEngine, KvEntry, RmwModify, RmwResult } from '../types.js'

class MapStore extends StoreBase {
  readonly id = 'map' as const
  private readonly map = new Map<number, Uint8Array>()

  protected _get(key: number): Uint8Array | undefined {
    assertKey(key)
    return this.map.get(key)
  }

  protected async _put(key: number, value: Uint8Array): Promise<void> {
    assertKey(key)
    assertValue(value)
    // Copy, as every storage engine does, so later mutation of the caller's buffer is harmless.
    this.map.set(key, copyBytes(value))
  }

  protected async _delete(key: number): Promise<void> {
    assertKey(key)
    this.map.delete(key)
  }

  protected async _batch(ops: readonly BatchOp[]): Promise<void> {
    assertBatch(ops)
    for (const op of ops) {
      if (op.type === 'put') this.map.set(op.key, copyBytes(op.value))
      else this.map.delete(op.key)
    }
  }

  /** Read, modify and set in one synchronous step: nothing can come between them. */
  protected async _readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult> {
    assertKey(key)
    const next = modify(this.map.get(key + 0))
    if (next === undefined) return { written: false, attempts: 1 }
    assertValue(next)
    this.map.set(key + 0, copyBytes(next))
    return { written: true, attempts: 1 }
  }

  /**
   * Fills the Map with the caller's own values, no copy: the in-memory limit, the cheapest
   * fill there is (unlike `put`, the caller must keep the values unchanged afterwards).
   */
  protected async _bulkLoad(entries: BulkEntries, sorted: boolean): Promise<void> {
    assertBulk(entries, sorted)
    const { keys, values } = entries
    for (let i = 0; i < keys.length; i++) this.map.set((keys[i] as number) + 0, values[i]!)
  }

  protected _range(): KvEntry[] {
    throw new CompareError(ErrorCode.UNSUPPORTED, 'the Map reference has no key order')
  }

  protected async _sync(): Promise<void> {}

  protected async _close(): Promise<void> {
    this.map.clear()
  }
}

/** In-memory `Map<number, Uint8Array>`: the limit for point operations; no ranges. */
export const mapEngine: KvEngine = {
  id: 'map',
  name: 'Map (in memory)',
  packageName: '',
  capabilities: {
    syncGet: true,
    syncRange: true,
    range: false,
    getMany: false,
    atomicBatch: true,
    persistent: false,
    inMemory: true,
    readModifyWrite: 'transaction',
  },
  durability: { durable: 'in memory (no disk)', fast: 'in memory (no disk)' },
  version: () => process.versions.node,
  open: async (_dir, options) => new MapStore(options.durable),
}
