/**
 * LMDB through lmdb-js (`lmdb`). Reads are synchronous (`getBinaryFast`, a reused buffer, then a
 * right-sized view of it); writes are lmdb-js's asynchronous puts, which it batches into one
 * transaction per event turn on its write thread. Durable: `overlappingSync: false`, so a
 * write's promise resolves only after its transaction's commit has been fsynced (LMDB's default
 * sync commit). Fast: `noSync: true`. Keys are lmdb-js's own ordered-binary number keys
 * (order-preserving doubles), with -0 folded into +0 (lmdb-js encodes -0 as a non-number).
 */
import type { Database, open as openType, RootDatabase } from 'lmdb'
import { asBuffer, assertBatch, assertBulk, assertValue } from '../guards.js'
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

type Db = RootDatabase<Buffer, number>

/** Entries per synchronous write transaction of `bulkLoad` (bounds LMDB's dirty-page list). */
export const LMDB_BULK_TXN = 100_000

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

  /**
   * In one synchronous write transaction (`transactionSync`): the read sees every committed
   * write and nothing can come between it and the put; the commit is fsynced when durable.
   * Like SQLite's, it blocks the event loop for the commit; lmdb-js's asynchronous
   * `transaction` callback, which waits for its write thread's next transaction, took 6-7
   * times as long per awaited read-modify-write in a probe on the 2-core VM (232 against 35 µs,
   * not synced). lmdb-js's own conditional write (`ifVersion`) needs `useVersions: true` from a
   * store's creation on, which stores a version with every entry and would change every other
   * figure of this engine.
   */
  protected async _readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult> {
    assertKey(key)
    const db = this.db as Database<Buffer, number>
    let written = false
    let bad: unknown
    db.transactionSync(() => {
      const v = db.getBinaryFast(key + 0)
      const next = modify(v === undefined ? undefined : v.subarray(0, v.length))
      if (next === undefined) return
      if (!(next instanceof Uint8Array)) {
        bad = next
        return
      }
      db.putSync(key + 0, asBuffer(next))
      written = true
    })
    if (bad !== undefined) assertValue(bad)
    return { written, attempts: 1 }
  }

  /**
   * Synchronous write transactions of {@link LMDB_BULK_TXN} entries (`putSync`, with LMDB's
   * append flag when the keys are sorted and above every key in the store: pages are filled
   * in order, no search), then one forced `env.sync`: durable in both modes.
   */
  protected async _bulkLoad(entries: BulkEntries, sorted: boolean): Promise<void> {
    assertBulk(entries, sorted)
    const { keys, values } = entries
    const db = this.db as Database<Buffer, number>
    await db.committed
    let append = false
    if (sorted && keys.length > 0) {
      let last: unknown
      for (const k of db.getKeys({ reverse: true, limit: 1 })) last = k
      append = last === undefined || (typeof last === 'number' && last < (keys[0] as number) + 0)
    }
    const flags = { append: true }
    for (let start = 0; start < keys.length; start += LMDB_BULK_TXN) {
      const end = Math.min(keys.length, start + LMDB_BULK_TXN)
      db.transactionSync(() => {
        for (let i = start; i < end; i++) {
          const key = (keys[i] as number) + 0
          if (append) db.putSync(key, asBuffer(values[i]!), flags)
          else db.putSync(key, asBuffer(values[i]!))
        }
      })
    }
    await this.envSync()
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
    await this.envSync()
  }

  /** mdb_env_sync with force (lmdb-js's `env.sync`, not in its typings). */
  private envSync(): Promise<void> {
    const env = this.db as unknown as { sync(callback: (err?: unknown) => void): void }
    return new Promise<void>((resolve, reject) => {
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
    readModifyWrite: 'transaction',
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
