/**
 * LevelDB through classic-level (the maintained binding of the Level project).
 * Reads use `getSync` (synchronous, no promise); writes use `put`/`del`/`batch` with
 * `sync: true` when durable, which LevelDB runs on the libuv thread pool and group-commits.
 * Keys are 8-byte order-preserving encodings (see key-encoding.ts).
 */
import type { ClassicLevel as ClassicLevelType } from 'classic-level'
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
import { levelRangeOptions, SYNC_SENTINEL_KEY } from './level-range.js'

type Db = ClassicLevelType<Buffer, Buffer>

class LevelStore extends StoreBase {
  readonly id = 'leveldb' as const
  private readonly db: Db
  private readonly writeOptions: { sync: boolean }
  /** Reused key buffer for synchronous reads only (the binding copies it before returning). */
  private readonly readKey = Buffer.allocUnsafe(8)

  constructor(db: Db, durable: boolean) {
    super(durable)
    this.db = db
    this.writeOptions = { sync: durable }
  }

  protected _get(key: number): Uint8Array | undefined {
    writeKey(key, this.readKey, 0)
    return this.db.getSync(this.readKey)
  }

  async getMany(keys: readonly number[]): Promise<(Uint8Array | undefined)[]> {
    this.guard()
    return this.db.getMany(keys.map(encodeKey))
  }

  protected async _put(key: number, value: Uint8Array): Promise<void> {
    const k = encodeKey(key)
    assertValue(value)
    await this.db.put(k, asBuffer(value), this.writeOptions)
  }

  protected async _delete(key: number): Promise<void> {
    await this.db.del(encodeKey(key), this.writeOptions)
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

  protected async _range(options?: RangeOptions): Promise<KvEntry[]> {
    const b = toBounds(options)
    if (isEmptyRange(b)) return []
    const rows = await this.db.iterator(levelRangeOptions(b)).all()
    const out: KvEntry[] = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!
      out[i] = [decodeKey(row[0]), row[1]]
    }
    return out
  }

  protected async _sync(): Promise<void> {
    if (!this.durable) await this.syncLog()
  }

  /**
   * A synced write makes the whole log durable up to it; deleting a key no store ever holds
   * (9 bytes, never a valid 8-byte key) changes nothing visible.
   */
  private syncLog(): Promise<void> {
    return this.db.del(SYNC_SENTINEL_KEY, { sync: true })
  }

  protected async _close(): Promise<void> {
    await this.db.close()
  }
}

/** LevelDB (classic-level): synchronous reads via `getSync`, `sync: true` writes when durable. */
export const leveldbEngine: KvEngine = {
  id: 'leveldb',
  name: 'LevelDB (classic-level)',
  packageName: 'classic-level',
  capabilities: {
    syncGet: true,
    syncRange: false,
    range: true,
    getMany: true,
    atomicBatch: true,
    persistent: true,
    inMemory: false,
    readModifyWrite: 'none',
  },
  durability: {
    durable: 'every write with sync: true (fsync of the log)',
    fast: 'sync: false (log written, not fsynced)',
  },
  version: () => packageVersion('classic-level'),
  open: async (dir, options) => {
    const mod = await loadEngineModule('classic-level', 'LevelDB')
    const ClassicLevel = exportOf<typeof ClassicLevelType>(mod, 'ClassicLevel')
    const db = new ClassicLevel<Buffer, Buffer>(dir, {
      keyEncoding: 'buffer',
      valueEncoding: 'buffer',
    })
    await db.open()
    return new LevelStore(db, options.durable)
  },
}
