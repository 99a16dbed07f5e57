/**
 * LMDB through lmdb-js (`lmdb`). Reads are synchronous (`getBinaryFast`, a reused buffer, then a
 * right-sized view of it); writes are lmdb-js's asynchronous puts, which it batches into one
 * transaction per event turn on its write thread. Durable: `overlappingSync: false`, so a
 * write's promise resolves only after its transaction's commit has been fsynced (LMDB's default
 * sync commit). Fast: `noSync: true`. Keys are lmdb-js's own ordered-binary number keys
 * (order-preserving doubles), with -0 folded into +0 (lmdb-js encodes -0 as a non-number).
 */
import type { Database, open as openType, RootDatabase } from 'lmdb'
import { asBuffer, assertBatch, assertValue } from '../guards.js'
import { assertKey } from '../key-encoding.js'
import { exportOf, loadEngineModule, packageVersion } from '../load-module.js'
import { aboveLow, belowHigh, isEmptyRange, toBounds } from '../range.js'
import { StoreBase } from '../store-base.js'
import type { BatchOp, KvEngine, KvEntry, RangeOptions } from '../types.js'

type Db = RootDatabase<Buffer, number>

class LmdbStore extends StoreBase {
  readonly id = 'lmdb' as const
  private readonly db: Db

  constructor(db: Db, durable: boolean) {
    super(durable)
    this.db = db
  }

  protected _get(key: number): Uint8Array | undefined {
    assertKey(key)
    const v = this.db.getBinaryFast(key + 0)
    // getBinaryFast's buffer is shared and its byteLength is the whole scratch area; a view
    // of exactly the value keeps byte-level APIs (Buffer.compare, copies) correct.
    return v === undefined ? undefined : v.subarray(0, v.length)
  }

  protected async _put(key: number, value: Uint8Array): Promise<void> {
    assertKey(key)
    assertValue(value)
    await this.db.put(key + 0, asBuffer(value))
  }

  protected async _delete(key: number): Promise<void> {
    assertKey(key)
    await this.db.remove(key + 0)
  }

  protected async _batch(ops: readonly BatchOp[]): Promise<void> {
    assertBatch(ops)
    const db = this.db as Database<Buffer, number>
    // One callback runs inside one write transaction: all or nothing.
    await db.transaction(() => {
      for (const op of ops) {
        if (op.type === 'put') db.put(op.key + 0, asBuffer(op.value))
        else db.remove(op.key + 0)
      }
    })
  }

  protected _range(options?: RangeOptions): KvEntry[] {
    const b = toBounds(options)
    const out: KvEntry[] = []
    if (isEmptyRange(b)) return out
    // lmdb-js's `end` is exclusive in both directions; bounds are checked here instead, and
    // the scan starts at the first bound in scan order.
    const start = b.reverse ? b.high : b.low
    const opts = start === undefined ? { reverse: b.reverse } : { start, reverse: b.reverse }
    for (const { key, value } of this.db.getRange(opts)) {
      if (typeof key !== 'number') break
      if (b.reverse ? !belowHigh(b, key) : !aboveLow(b, key)) continue
      if ((b.reverse ? !aboveLow(b, key) : !belowHigh(b, key)) || out.length >= b.limit) break
      out.push([key, value])
    }
    return out
  }

  protected async _sync(): Promise<void> {
    if (this.durable) return
    await this.db.committed
    // env.sync (mdb_env_sync with force) is not in lmdb-js's typings.
    const env = this.db as unknown as { sync(callback: (err?: unknown) => void): void }
    await new Promise<void>((resolve, reject) => {
      env.sync((err) => (err ? reject(err) : resolve()))
    })
  }

  protected async _close(): Promise<void> {
    await this.db.close()
  }
}

/** LMDB (lmdb-js): synchronous reads, batched asynchronous writes, sync commits when durable. */
export const lmdbEngine: KvEngine = {
  id: 'lmdb',
  name: 'LMDB (lmdb)',
  packageName: 'lmdb',
  capabilities: {
    syncGet: true,
    syncRange: true,
    range: true,
    getMany: false,
    atomicBatch: true,
    persistent: true,
    inMemory: false,
  },
  durability: {
    durable: 'overlappingSync: false (each commit fsynced before the write resolves)',
    fast: 'noSync: true (commits not fsynced)',
  },
  version: () => packageVersion('lmdb'),
  open: async (dir, options) => {
    const mod = await loadEngineModule('lmdb', 'LMDB')
    const open = exportOf<typeof openType>(mod, 'open')
    const db = open<Buffer, number>({
      path: dir,
      encoding: 'binary',
      ...(options.durable ? { overlappingSync: false } : { noSync: true }),
    })
    return new LmdbStore(db, options.durable)
  },
}
