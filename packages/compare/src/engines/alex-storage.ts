/**
 * AlexStorage (@alex/storage): the store this project builds. Reads are its synchronous,
 * zero-copy `get`; scans its ordered `entries(range)` iterator; writes its promise-returning
 * `put`/`delete`/`batch`, which group-commit concurrent callers. Durable: `sync: 'always'`.
 * Fast: `sync: 'none'`. Keys are numbers, used as they are.
 * The package is imported lazily, like every engine's.
 */
import type { AlexStorage } from '@alex/storage'
import { assertBulk } from '../guards.js'
import { exportOf, loadEngineModule, packageVersion } from '../load-module.js'
import { fromBounds, isEmptyRange, toBounds } from '../range.js'
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

/** AlexStorage's code for a conditional batch whose condition no longer held. */
const ERR_CONFLICT = 'ERR_CONFLICT'

type AlexStorageDb = AlexStorage

class AlexStore extends StoreBase {
  readonly id = 'alex' as const
  private readonly db: AlexStorageDb

  constructor(db: AlexStorageDb, durable: boolean) {
    super(durable)
    this.db = db
  }

  // Key and value validation is AlexStorage's own (ERR_INVALID_KEY, ERR_INVALID_VALUE).
  // `key === 0 ? 0 : key` folds -0 into +0, as every adapter does, whatever the index makes
  // of -0; it leaves any other input (even a non-number) for AlexStorage to reject.
  protected _get(key: number): Uint8Array | undefined {
    return this.db.get(key === 0 ? 0 : key)
  }

  protected _put(key: number, value: Uint8Array): Promise<void> {
    return this.db.put(key === 0 ? 0 : key, value)
  }

  protected _delete(key: number): Promise<void> {
    return this.db.delete(key === 0 ? 0 : key)
  }

  protected _batch(ops: readonly BatchOp[]): Promise<void> {
    let negativeZero = false
    for (const op of ops) if (Object.is(op.key, -0)) negativeZero = true
    if (!negativeZero) return this.db.batch(ops)
    return this.db.batch(ops.map((op) => (Object.is(op.key, -0) ? { ...op, key: 0 } : op)))
  }

  /**
   * Optimistic: the key's version and value are read together (both synchronous), then the new
   * value is written by `batch(..., { ifVersion })`, which writes nothing if another write to
   * the key was issued since; on ERR_CONFLICT it reads again and retries.
   */
  protected async _readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult> {
    const k = key === 0 ? 0 : key
    for (let attempts = 1; ; attempts++) {
      const version = this.db.version(k)
      const next = modify(this.db.get(k))
      if (next === undefined) return { written: false, attempts }
      try {
        await this.db.batch([{ type: 'put', key: k, value: next }], { ifVersion: [[k, version]] })
        return { written: true, attempts }
      } catch (err) {
        if ((err as { code?: unknown }).code !== ERR_CONFLICT) throw err
      }
    }
  }

  /** `db.ingest` of the columns: data segments written directly, durable when it resolves. */
  protected async _bulkLoad(entries: BulkEntries, sorted: boolean): Promise<void> {
    assertBulk(entries, sorted)
    await this.db.ingest({ keys: entries.keys, values: entries.values }, { sorted })
  }

  protected _range(options?: RangeOptions): KvEntry[] {
    const b = toBounds(options)
    if (isEmptyRange(b)) return []
    const out: KvEntry[] = []
    for (const entry of this.db.entries(fromBounds(b))) out.push(entry)
    return out
  }

  protected async _sync(): Promise<void> {
    // Makes every write so far durable by fsyncing the log (like LevelDB's adapter, which
    // syncs its log); not a checkpoint. A durable store's writes already are.
    if (!this.durable) await this.db.sync()
  }

  protected async _close(): Promise<void> {
    await this.db.close()
  }
}

/** AlexStorage: synchronous zero-copy reads, group-committed writes, `sync: 'always'` durable. */
export const alexStorageEngine: KvEngine = {
  id: 'alex',
  name: 'AlexStorage',
  packageName: '@alex/storage',
  capabilities: {
    syncGet: true,
    syncRange: true,
    range: true,
    getMany: false,
    atomicBatch: true,
    persistent: true,
    inMemory: false,
    readModifyWrite: 'conditional',
  },
  durability: {
    durable: "sync: 'always' (every acknowledged write fsynced, group commit)",
    fast: "sync: 'none' (no fsync per write)",
  },
  version: () => packageVersion('@alex/storage'),
  open: async (dir, options) => {
    const mod = await loadEngineModule('@alex/storage', 'AlexStorage')
    const Store = exportOf<typeof AlexStorage>(mod, 'AlexStorage')
    const db = await Store.open(dir, { sync: options.durable ? 'always' : 'none' })
    return new AlexStore(db, options.durable)
  },
}
