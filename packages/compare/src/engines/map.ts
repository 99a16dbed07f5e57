/**
 * The `Map` reference: point operations at the speed of a JavaScript hash map, with no
 * persistence and no order. It marks the limit for point reads; it cannot scan ranges.
 */
import { CompareError, ErrorCode } from '../errors.js'
import { assertBatch, assertValue } from '../guards.js'
import { assertKey } from '../key-encoding.js'
import { StoreBase } from '../store-base.js'
import type { BatchOp, KvEngine, KvEntry } from '../types.js'

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
    this.map.set(key, value.slice())
  }

  protected async _delete(key: number): Promise<void> {
    assertKey(key)
    this.map.delete(key)
  }

  protected async _batch(ops: readonly BatchOp[]): Promise<void> {
    assertBatch(ops)
    for (const op of ops) {
      if (op.type === 'put') this.map.set(op.key, op.value.slice())
      else this.map.delete(op.key)
    }
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
  },
  durability: { durable: 'in memory (no disk)', fast: 'in memory (no disk)' },
  version: () => process.versions.node,
  open: async (_dir, options) => new MapStore(options.durable),
}
