/**
 * The template every adapter's store extends, in the style of abstract-level's `_get`/`_put`:
 * the public methods of `KvStore` hold what is the same for every engine (the closed state, so
 * all engines refuse alike after `close()`), then call the engine's protected `_` method, which
 * holds only what the engine does differently. Input validation stays in the `_` methods: some
 * engines validate as part of encoding the key (no second pass), AlexStorage validates itself.
 * The write methods return the engine's promise as it is (no extra async wrapper on the hot
 * path), so `_put`, `_delete`, `_batch` and `_sync` are `async` wherever their validation may
 * throw: a bad call rejects, never throws.
 */
import { closedError, throwClosed } from './guards.js'
import type {
  BatchOp,
  BulkEntries,
  BulkLoadOptions,
  EngineId,
  KvEntry,
  KvStore,
  RangeOptions,
  RmwModify,
  RmwResult,
} from './types.js'

export abstract class StoreBase implements KvStore {
  abstract readonly id: EngineId
  readonly durable: boolean
  private closed = false

  constructor(durable: boolean) {
    this.durable = durable
  }

  /** Throws ERR_CLOSED once `close()` was called (for methods outside the template: getMany). */
  protected guard(): void {
    if (this.closed) throwClosed(this.id)
  }

  get(key: number): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    if (this.closed) throwClosed(this.id)
    return this._get(key)
  }

  put(key: number, value: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.id))
    return this._put(key, value)
  }

  delete(key: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.id))
    return this._delete(key)
  }

  batch(ops: readonly BatchOp[]): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.id))
    return this._batch(ops)
  }

  range(options?: RangeOptions): KvEntry[] | Promise<KvEntry[]> {
    if (this.closed) throwClosed(this.id)
    return this._range(options)
  }

  readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult> {
    if (this.closed) return Promise.reject(closedError(this.id))
    return this._readModifyWrite(key, modify)
  }

  bulkLoad(entries: BulkEntries, options?: BulkLoadOptions): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.id))
    return this._bulkLoad(entries, options?.sorted ?? true)
  }

  sync(): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.id))
    return this._sync()
  }

  /** Closes once; later calls resolve at once. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this._close()
  }

  protected abstract _get(key: number): Uint8Array | undefined | Promise<Uint8Array | undefined>
  protected abstract _put(key: number, value: Uint8Array): Promise<void>
  protected abstract _delete(key: number): Promise<void>
  protected abstract _batch(ops: readonly BatchOp[]): Promise<void>
  protected abstract _range(options?: RangeOptions): KvEntry[] | Promise<KvEntry[]>
  /** Must reject (not throw) on bad input, like the other write methods. */
  protected abstract _readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult>

  /**
   * A read, then a write: NOT isolated (a write of another caller between the two is lost). For
   * engines with no transaction or conditional write, whose `_readModifyWrite` is this and whose
   * capabilities say `readModifyWrite: 'none'`.
   */
  protected async readThenWrite(key: number, modify: RmwModify): Promise<RmwResult> {
    const next = modify(await this._get(key))
    if (next === undefined) return { written: false, attempts: 1 }
    await this._put(key, next)
    return { written: true, attempts: 1 }
  }
  /** Validates with `assertBulk` (guards.ts) first; `sorted` is the option with its default. */
  protected abstract _bulkLoad(entries: BulkEntries, sorted: boolean): Promise<void>
  protected abstract _sync(): Promise<void>
  protected abstract _close(): Promise<void>
}
