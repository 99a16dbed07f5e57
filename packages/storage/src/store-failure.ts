import { AlexStorageError, ErrorCode, storeFailed } from './errors.js'

/**
 * The store's failed state (docs/architecture.md, section 3, "a failed write or fsync"): once a
 * write, fsync or file operation fails, the store refuses every further write with the same
 * `ERR_STORE_FAILED`, and no fsync is retried. Shared by the write pipeline, the checkpoint
 * procedure, compaction and the store, so each reports the one error that came first.
 */
export class StoreFailure {
  private failure: AlexStorageError | undefined
  private readonly onFail: () => void

  /** `onFail` runs once, when the store fails (the write pipeline drops its pending writes). */
  constructor(onFail: () => void) {
    this.onFail = onFail
  }

  /** The store's `ERR_STORE_FAILED`, or undefined while it is healthy. */
  get error(): AlexStorageError | undefined {
    return this.failure
  }

  /** Fails the store (the first cause wins) and returns its error. */
  fail(cause: unknown): AlexStorageError {
    if (this.failure === undefined) {
      this.failure =
        cause instanceof AlexStorageError && cause.code === ErrorCode.STORE_FAILED
          ? cause
          : storeFailed(cause)
      this.onFail()
    }
    return this.failure
  }

  /**
   * The error to report for `err` from a maintenance step: a validation or corruption error of
   * ours as it is (nothing was lost by it); anything else, an OS error above all, fails the store.
   */
  failOn(err: unknown): AlexStorageError {
    if (err instanceof AlexStorageError && err.code !== ErrorCode.STORE_FAILED) return err
    return this.fail(err)
  }

  /** Throws the store's error if it failed. */
  check(): void {
    if (this.failure !== undefined) throw this.failure
  }
}
