import type { ReplicationError } from './errors.js'
import { type BucketOptions, checkBucketOptions, invalid } from './restore.js'

/** Options of `replicate(db, options)`. */
export interface ReplicateOptions extends BucketOptions {
  /**
   * How often new writes are shipped (default 1000 ms): the recovery point objective is at most
   * this plus one upload.
   */
  intervalMs?: number
  /** Ship a snapshot when this long has passed since the last one (default 1 hour). */
  snapshotEveryMs?: number
  /** Ship a snapshot once this many bytes of log objects were shipped since the last (default 64 MiB). */
  snapshotEveryBytes?: number
  /** A log object is closed at the first batch end past this many bytes (default 16 MiB). */
  maxObjectBytes?: number
  /**
   * Bound on the unshipped backlog, in bytes of the store's log written since the shipped LSN
   * (default 1 GiB). Past it, replication stops with `ERR_REPLICATION_LAG_LIMIT` and lets the
   * store trim its log; writes are never blocked.
   */
  maxLagBytes?: number
  /** Snapshots kept in the bucket, with the log objects from the oldest kept one on (default 2; 0: keep all). */
  retainSnapshots?: number
  /** Longest wait between retries after failures (default 30 s; the backoff doubles from `intervalMs`). */
  maxBackoffMs?: number
  /** Called with every failed attempt (transient ones included) and with the final failure. */
  onError?: (err: ReplicationError) => void
}

/** The options with their defaults. */
export type ResolvedReplicateOptions = Required<Omit<ReplicateOptions, 'onError'>> &
  Pick<ReplicateOptions, 'onError'>

const KNOWN = new Set([
  'bucket',
  'prefix',
  'client',
  'requestTimeoutMs',
  'intervalMs',
  'snapshotEveryMs',
  'snapshotEveryBytes',
  'maxObjectBytes',
  'maxLagBytes',
  'retainSnapshots',
  'maxBackoffMs',
  'onError',
])

function positive(
  o: Record<string, unknown>,
  name: string,
  fallback: number,
  zeroOk = false,
): number {
  const v = o[name] ?? fallback
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (v === 0 && !zeroOk)) {
    invalid(`${name} must be a ${zeroOk ? 'non-negative' : 'positive'} number (got ${String(v)})`)
  }
  return v
}

/** Validates `replicate`'s options (unknown names refused) and fills in the defaults. */
export function resolveReplicateOptions(options: ReplicateOptions): ResolvedReplicateOptions {
  checkBucketOptions(options)
  const o = options as unknown as Record<string, unknown>
  for (const name of Object.keys(o)) if (!KNOWN.has(name)) invalid(`unknown option ${name}`)
  if (options.onError !== undefined && typeof options.onError !== 'function') {
    invalid('onError must be a function')
  }
  const retain = positive(o, 'retainSnapshots', 2, true)
  if (!Number.isInteger(retain)) invalid('retainSnapshots must be an integer')
  return {
    bucket: options.bucket,
    prefix: options.prefix,
    client: options.client,
    requestTimeoutMs: positive(o, 'requestTimeoutMs', 30_000),
    intervalMs: positive(o, 'intervalMs', 1000),
    snapshotEveryMs: positive(o, 'snapshotEveryMs', 3_600_000),
    snapshotEveryBytes: positive(o, 'snapshotEveryBytes', 64 * 1024 * 1024),
    maxObjectBytes: positive(o, 'maxObjectBytes', 16 * 1024 * 1024),
    maxLagBytes: positive(o, 'maxLagBytes', 1024 * 1024 * 1024),
    retainSnapshots: retain,
    maxBackoffMs: positive(o, 'maxBackoffMs', 30_000),
    onError: options.onError,
  }
}
