/**
 * RocksDB through @nxtedition/rocksdb (a maintained abstract-level binding of RocksDB 9+).
 * Reads use the binding's synchronous MultiGet (`_getManySync`, one key) and scans its
 * synchronous `querySync`; writes go through its write batches with `sync: true` when durable.
 * The binding writes synchronously on the JavaScript thread, so concurrent writers from one
 * event loop are serialised (no group commit across callers). Options are the binding's
 * defaults (8 MiB block cache, zstd compression). Keys are 8-byte order-preserving encodings.
 */
import { asBuffer, assertBatch, assertBulk, assertValue } from '../guards.js'
import { decodeKey, encodeKey, writeKey } from '../key-encoding.js'
import { exportOf, loadEngineModule, packageVersion } from '../load-module.js'
import { isEmptyRange, toBounds } from '../range.js'
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
import { levelBulkLoad } from './level-bulk.js'
import { type LevelRangeOptions, levelRangeOptions, SYNC_SENTINEL_KEY } from './level-range.js'

/** The part of the binding's (untyped) API this adapter uses. */
interface RocksDb {
  open(options: { createIfMissing: boolean }): Promise<void>
  close(): Promise<void>
  batch(): {
    put(key: Buffer, value: Buffer): void
    del(key: Buffer): void
    write(options: { sync: boolean }): Promise<void>
  }
  _getManySync(keys: Buffer[], options: object): (Buffer | undefined | null)[]
  querySync(options: LevelRangeOptions & typeof ENCODINGS): { rows: Buffer[]; finished: boolean }
}

type RocksCtor = new (
  location: string,
  options: { keyEncoding: 'buffer'; valueEncoding: 'buffer' },
) => RocksDb

const ENCODINGS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const

class RocksStore extends StoreBase {
  readonly id = 'rocksdb' as const
  private readonly db: RocksDb
  private readonly writeOptions: { sync: boolean }
  /** Reused one-key array and key buffer for synchronous reads. */
  private readonly readKey = Buffer.allocUnsafe(8)
  private readonly readKeys = [this.readKey]

  constructor(db: RocksDb, durable: boolean) {
    super(durable)
    this.db = db
    this.writeOptions = { sync: durable }
  }

  protected _get(key: number): Uint8Array | undefined {
    writeKey(key, this.readKey, 0)
    const v = this.db._getManySync(this.readKeys, ENCODINGS)[0]
    // null means aborted or timed out, which only happens with a read deadline (none here).
    return v ?? undefined
  }

  getMany(keys: readonly number[]): (Uint8Array | undefined)[] {
    this.guard()
    const values = this.db._getManySync(keys.map(encodeKey), ENCODINGS)
    return values.map((v) => v ?? undefined)
  }

  // The binding's own put/del ignore `sync` (they write a one-entry batch without options),
  // so every write goes through a chained batch whose write() takes the options.
  protected async _put(key: number, value: Uint8Array): Promise<void> {
    const k = encodeKey(key)
    assertValue(value)
    const batch = this.db.batch()
    batch.put(k, asBuffer(value))
    await batch.write(this.writeOptions)
  }

  protected async _delete(key: number): Promise<void> {
    const batch = this.db.batch()
    batch.del(encodeKey(key))
    await batch.write(this.writeOptions)
  }

  protected async _batch(ops: readonly BatchOp[]): Promise<void> {
    assertBatch(ops)
    const batch = this.db.batch()
    for (const op of ops) {
      if (op.type === 'put') batch.put(encodeKey(op.key), asBuffer(op.value))
      else batch.del(encodeKey(op.key))
    }
    await batch.write(this.writeOptions)
  }

  /**
   * A read, then a write: NOT isolated. The engine has no transaction or conditional write, so
   * a write of another caller between the two is lost (capabilities.readModifyWrite: 'none').
   */
  protected _readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult> {
    return this.readThenWrite(key, modify)
  }

  /** Write batches of 10,000 without a sync, the last one synced (engines/level-bulk.ts). */
  protected async _bulkLoad(entries: BulkEntries, sorted: boolean): Promise<void> {
    assertBulk(entries, sorted)
    await levelBulkLoad(
      entries,
      () => this.db.batch(),
      () => this.syncLog(),
    )
  }

  protected _range(options?: RangeOptions): KvEntry[] {
    const b = toBounds(options)
    if (isEmptyRange(b)) return []
    const { rows } = this.db.querySync({ ...levelRangeOptions(b), ...ENCODINGS })
    const out: KvEntry[] = new Array(rows.length >>> 1)
    for (let i = 0; i < out.length; i++) {
      out[i] = [decodeKey(rows[2 * i]!), rows[2 * i + 1]!]
    }
    return out
  }

  protected async _sync(): Promise<void> {
    if (!this.durable) await this.syncLog()
  }

  /** A synced batch deleting a key no store holds: the WAL durable up to it. */
  private async syncLog(): Promise<void> {
    const batch = this.db.batch()
    batch.del(SYNC_SENTINEL_KEY)
    await batch.write({ sync: true })
  }

  protected async _close(): Promise<void> {
    await this.db.close()
  }
}

/** RocksDB (@nxtedition/rocksdb): synchronous MultiGet reads, `sync: true` writes when durable. */
export const rocksdbEngine: KvEngine = {
  id: 'rocksdb',
  name: 'RocksDB (@nxtedition/rocksdb)',
  packageName: '@nxtedition/rocksdb',
  capabilities: {
    syncGet: true,
    syncRange: true,
    range: true,
    getMany: true,
    atomicBatch: true,
    persistent: true,
    inMemory: false,
    readModifyWrite: 'none',
  },
  durability: {
    durable: 'every write with sync: true (fsync of the WAL)',
    fast: 'sync: false (WAL written, not fsynced)',
  },
  version: () => packageVersion('@nxtedition/rocksdb'),
  open: async (dir, options) => {
    const mod = await loadEngineModule('@nxtedition/rocksdb', 'RocksDB')
    const RocksLevel = exportOf<RocksCtor>(mod, 'RocksLevel')
    const db = new RocksLevel(dir, ENCODINGS)
    await db.open({ createIfMissing: true })
    return new RocksStore(db, options.durable)
  },
}
