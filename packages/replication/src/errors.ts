/**
 * The package's one error type, with stable codes. Everything the object store, the file system
 * or the local store throws reaches the caller wrapped in a `ReplicationError` whose `cause` is
 * the original error; nothing raw escapes.
 */

/** The stable codes of `ReplicationError` (see the package README, "Errors"). */
export const ReplicationErrorCode = {
  /** A bad option or argument: nothing was done. */
  INVALID_ARGUMENT: 'ERR_REPLICATION_INVALID_ARGUMENT',
  /**
   * Another writer owns the prefix's history (a create-only PUT lost, the bucket is ahead of
   * this store, or another lineage): this writer stopped replicating for good.
   */
  FENCED: 'ERR_REPLICATION_FENCED',
  /** The unshipped backlog passed `maxLagBytes`: replication stopped, the store goes on. */
  LAG_LIMIT: 'ERR_REPLICATION_LAG_LIMIT',
  /** The objects do not form an unbroken history up to the target (a missing object or range). */
  GAP: 'ERR_REPLICATION_GAP',
  /** An object's checksum, magic, version or identity (lineage, sequence, LSNs) is wrong. */
  CORRUPT_OBJECT: 'ERR_REPLICATION_CORRUPT_OBJECT',
  /** No lineage, snapshot or log object under the prefix to restore or follow. */
  NOT_FOUND: 'ERR_REPLICATION_NOT_FOUND',
  /** A call to the object store failed (network, permissions, timeouts); `cause` is the SDK's error. */
  OBJECT_STORE: 'ERR_REPLICATION_OBJECT_STORE',
  /** The local store or file system failed (`cause`: the AlexStorageError or OS error). */
  LOCAL: 'ERR_REPLICATION_LOCAL',
  /** The replicator, restore or replica was closed. */
  CLOSED: 'ERR_REPLICATION_CLOSED',
} as const

export type ReplicationErrorCodeValue =
  (typeof ReplicationErrorCode)[keyof typeof ReplicationErrorCode]

/** An error of @alex/replication: `code` is stable, `cause` holds what the layer below threw. */
export class ReplicationError extends Error {
  override readonly name = 'ReplicationError'
  readonly code: ReplicationErrorCodeValue

  constructor(code: ReplicationErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Whether `err` is a `ReplicationError` (also across two copies of the package). */
export function isReplicationError(err: unknown): err is ReplicationError {
  return (
    err instanceof ReplicationError ||
    (err instanceof Error &&
      err.name === 'ReplicationError' &&
      typeof (err as { code?: unknown }).code === 'string')
  )
}

/** `err` as a ReplicationError: kept if it is one, else wrapped with `code` and `message`. */
export function wrap(
  err: unknown,
  code: ReplicationErrorCodeValue,
  message: string,
): ReplicationError {
  if (isReplicationError(err)) return err
  const detail = err instanceof Error ? `: ${err.message}` : ''
  return new ReplicationError(code, `${message}${detail}`, { cause: err })
}

/** Calls a user's `onError` callback; what it throws is ignored (it must not stop replication). */
export function report(
  callback: ((err: ReplicationError) => void) | undefined,
  err: ReplicationError,
): void {
  try {
    callback?.(err)
  } catch {
    // A throwing callback is the caller's bug; replication goes on.
  }
}

/** The replicator was closed. */
export function closedError(): ReplicationError {
  return new ReplicationError(ReplicationErrorCode.CLOSED, 'the replicator was closed')
}

/** Any error as a ReplicationError: the store's closing is CLOSED, other local errors LOCAL. */
export function classify(err: unknown): ReplicationError {
  if (isReplicationError(err)) return err
  if ((err as { code?: string }).code === 'ERR_CLOSED') {
    return new ReplicationError(ReplicationErrorCode.CLOSED, 'the store was closed', { cause: err })
  }
  return wrap(err, ReplicationErrorCode.LOCAL, 'replication failed locally')
}
