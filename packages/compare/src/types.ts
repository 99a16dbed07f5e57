/**
 * The one interface every engine adapter implements. A benchmark (or a user's own workload)
 * talks only to these types, so adding an engine is one adapter file plus one registry line.
 */

/** Stable short ids of the engines this package knows. */
export type EngineId = 'alex' | 'leveldb' | 'rocksdb' | 'lmdb' | 'sqlite' | 'map' | 'btree'

/** What an engine can do, known before it is opened, so a harness can pick the fastest path. */
export interface EngineCapabilities {
  /** `get` returns the value directly (not a promise). */
  readonly syncGet: boolean
  /** `range` returns the entries directly (not a promise). */
  readonly syncRange: boolean
  /** `range` is supported at all (the Map reference has no order). */
  readonly range: boolean
  /** `getMany` is implemented. */
  readonly getMany: boolean
  /** `batch` applies all its operations atomically (all visible or none). */
  readonly atomicBatch: boolean
  /** Data survives `close()` and a later `open()` of the same directory. */
  readonly persistent: boolean
  /** The engine is an in-memory reference, not a storage engine. */
  readonly inMemory: boolean
  /** How {@link KvStore.readModifyWrite} keeps other writes from coming between its read and write. */
  readonly readModifyWrite: RmwIsolation
}

/**
 * The isolation of {@link KvStore.readModifyWrite}:
 * - `'conditional'`: optimistic; the write is applied only if the key is still at the version
 *   read (a compare-and-swap), else the read and `modify` are retried (AlexStorage's
 *   `batch(ops, { ifVersion })`);
 * - `'transaction'`: the read and the write run in one write transaction (LMDB, SQLite) or one
 *   synchronous step (the in-memory references): no other write can come between them;
 * - `'none'`: a read, then a write; a write of another caller in between is lost (LevelDB and
 *   RocksDB offer nothing to prevent it).
 */
export type RmwIsolation = 'conditional' | 'transaction' | 'none'

/**
 * The `modify` of {@link KvStore.readModifyWrite}: given the key's current value (undefined when
 * it has none; valid only during the call, do not keep or mutate it), returns the value to store,
 * or undefined to write nothing. It may be called more than once (after a conflict), so it must
 * not have side effects that matter.
 */
export type RmwModify = (current: Uint8Array | undefined) => Uint8Array | undefined

/** What {@link KvStore.readModifyWrite} did. */
export interface RmwResult {
  /** Whether a value was written (false when `modify` returned undefined). */
  readonly written: boolean
  /** Times the key was read and `modify` called: 1, plus one per conflict retried. */
  readonly attempts: number
}

/**
 * Entries for {@link KvStore.bulkLoad}, as two columns: `keys[i]` gets `values[i]`. The
 * column form is what AlexStorage's `ingest` takes fastest; every engine gets the same input.
 */
export interface BulkEntries {
  readonly keys: Float64Array | readonly number[]
  readonly values: readonly Uint8Array[]
}

/** Options of {@link KvStore.bulkLoad}. */
export interface BulkLoadOptions {
  /**
   * `true` (default): the keys are strictly ascending (else ERR_INVALID_ARGUMENT, nothing
   * written), and an engine may use that (LMDB appends). `false`: any order; of a repeated key
   * the last entry wins.
   */
  readonly sorted?: boolean
}

/** Options for {@link KvEngine.open}. */
export interface OpenOptions {
  /**
   * `true`: every acknowledged write (the promise of put, delete or batch resolved) has been
   * fsynced. `false`: the engine's fastest mode that does not fsync each write; call
   * {@link KvStore.sync} to make everything written so far durable.
   */
  readonly durable: boolean
}

/** A write in a {@link KvStore.batch}; the same shape as AlexStorage's batch operations. */
export type BatchOp =
  | { readonly type: 'put'; readonly key: number; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: number }

/**
 * Bounds and order of an ordered scan. At most one lower bound (gt or gte) and one upper
 * bound (lt or lte); `limit` caps the number of entries (default: no cap).
 */
export interface RangeOptions {
  readonly gt?: number
  readonly gte?: number
  readonly lt?: number
  readonly lte?: number
  readonly reverse?: boolean
  readonly limit?: number
}

/** One entry of a scan: the key and its value. */
export type KvEntry = [key: number, value: Uint8Array]

/**
 * An open store. Values returned by `get`, `getMany` and `range` are valid at least until the
 * next call on the same store and must not be mutated (some engines return a reused or
 * zero-copy buffer); copy them to keep them. Values passed to `put` and `batch` are copied or
 * written before the promise resolves, so the caller may reuse its buffer afterwards.
 */
export interface KvStore {
  /** The engine's id, for reports. */
  readonly id: EngineId
  /** The durability this store was opened with. */
  readonly durable: boolean
  /** The value of `key`, or undefined; synchronous when `capabilities.syncGet`. */
  get(key: number): Uint8Array | undefined | Promise<Uint8Array | undefined>
  /** The values of `keys` in order (undefined where missing); only when `capabilities.getMany`. */
  getMany?(
    keys: readonly number[],
  ): (Uint8Array | undefined)[] | Promise<(Uint8Array | undefined)[]>
  /** Stores `value` under `key`; resolves when acknowledged (and fsynced when durable). */
  put(key: number, value: Uint8Array): Promise<void>
  /** Removes `key` (no error when missing); resolves like `put`. */
  delete(key: number): Promise<void>
  /** Applies all operations in order as one write; atomic when `capabilities.atomicBatch`. */
  batch(ops: readonly BatchOp[]): Promise<void>
  /** Entries in key order (descending when `reverse`); synchronous when `capabilities.syncRange`. */
  range(options?: RangeOptions): KvEntry[] | Promise<KvEntry[]>
  /**
   * Reads `key`, calls `modify` with its value and writes what it returns, isolated from other
   * writes as `capabilities.readModifyWrite` says; resolves like `put` (fsynced when durable).
   */
  readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult>
  /**
   * Loads many entries through the engine's fastest bulk path (overwriting existing keys) and
   * resolves once all of them are durable, whatever `durable` the store was opened with. Every
   * key and value is checked before anything is written. Keep the values unchanged until it
   * resolves; the in-memory references keep them (no copy), so with those keep them unchanged.
   */
  bulkLoad(entries: BulkEntries, options?: BulkLoadOptions): Promise<void>
  /** Makes every write acknowledged so far durable (a cheap no-op when opened durable). */
  sync(): Promise<void>
  /** Releases the store; further calls fail with ERR_CLOSED or the engine's own error. */
  close(): Promise<void>
}

/** An engine adapter: static facts plus `open`. */
export interface KvEngine {
  /** Stable short id, used on the command line and in JSON results. */
  readonly id: EngineId
  /** Human name for reports, e.g. "LevelDB (classic-level)". */
  readonly name: string
  /** The npm package that provides the engine (empty for built-ins such as Map). */
  readonly packageName: string
  /** What the engine can do. */
  readonly capabilities: EngineCapabilities
  /** How `durable: true` and `durable: false` map to the engine's settings, for reports. */
  readonly durability: { readonly durable: string; readonly fast: string }
  /** Installed version of the engine's package, or 'not installed'. */
  version(): string
  /** Opens (creating if missing) a store in directory `dir`. */
  open(dir: string, options: OpenOptions): Promise<KvStore>
}
