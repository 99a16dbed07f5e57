/**
 * The `Map` reference: point operations at the speed of a JavaScript hash map, with no
 * persistence and no order. It marks the limit for point reads; it cannot scan ranges.
 */
import { CompareError, ErrorCode } from '../errors.js'
import { assertBatch, assertValue, throwClosed } from '../guards.js'
import { assertKey } from '../key-encoding.js'
import type { BatchOp, KvEngine, KvEntry, KvStore } from '../types.js'

class MapStore implements KvStore {
  readonly id = 'map' as const
  readonly durable: boolean
  private readonly map = new Map<number, Uint8Array>()
  private closed = false

  constructor(durable: boolean) {
    this.durable = durable
  }

  get(key: number): Uint8Array | undefined {
    if (this.closed) throwClosed('map')
    assertKey(key)
    return this.map.get(key)
  }

  async put(key: number, value: Uint8Array): Promise<void> {
    if (this.closed) throwClosed('map')
    assertKey(key)
    assertValue(value)
    // Copy, as every storage engine does, so later mutation of the caller's buffer is harmless.
    this.map.set(key, value.slice())
  }

  async delete(key: number): Promise<void> {
    if (this.closed) throwClosed('map')
    assertKey(key)
    this.map.delete(key)
  }

  async batch(ops: readonly BatchOp[]): Promise<void> {
    if (this.closed) throwClosed('map')
    assertBatch(ops)
    for (const op of ops) {
      if (op.type === 'put') this.map.set(op.key, op.value.slice())
      else this.map.delete(op.key)
    }
  }

  range(): KvEntry[] {
    if (this.closed) throwClosed('map')
    throw new CompareError(ErrorCode.UNSUPPORTED, 'the Map reference has no key order')
  }

  async sync(): Promise<void> {
    if (this.closed) throwClosed('map')
  }

  async close(): Promise<void> {
    this.closed = true
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
