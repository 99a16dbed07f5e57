import { WalError } from './errors.js'
import type { RecoveryReport, WalOp, WalOptions, WalRecord, WalStats } from './types.js'

/**
 * A write-ahead log: checksummed, segmented, with group commit, checkpoints and crash-safe
 * replay. One `Wal` owns its directory; the caller (e.g. @alex/storage, through its lock file)
 * makes sure no other process opens it at the same time.
 */
export class Wal {
  private constructor() {}

  /**
   * Opens (creating if needed) the log in `dir`: scans and validates every segment, repairs a
   * torn tail per `options.recovery` (see `recovery`), and starts a new segment for appends.
   * Rejects with `ERR_CORRUPTION` (file, offset, reason) on damage the mode may not repair.
   */
  static open(_dir: string, _options: WalOptions = {}): Promise<Wal> {
    return Promise.reject(new WalError('ERR_CLOSED', 'not implemented yet'))
  }

  /** Appends one operation; resolves with its LSN once durable per the `sync` option. */
  append(_op: WalOp): Promise<bigint> {
    return Promise.reject(new WalError('ERR_CLOSED', 'not implemented yet'))
  }

  /**
   * Appends operations atomically (all or none survive a crash) with consecutive LSNs; resolves
   * with the last LSN once durable per the `sync` option.
   */
  appendBatch(_ops: readonly WalOp[]): Promise<bigint> {
    return Promise.reject(new WalError('ERR_CLOSED', 'not implemented yet'))
  }

  /** Makes everything appended so far durable, whatever the `sync` mode. */
  sync(): Promise<void> {
    return Promise.reject(new WalError('ERR_CLOSED', 'not implemented yet'))
  }

  /**
   * Records durably that every operation up to `lsn` is persisted elsewhere, then deletes the
   * segments wholly at or before it. `replay()` after a reopen starts after `lsn`.
   */
  checkpoint(_lsn: bigint): Promise<void> {
    return Promise.reject(new WalError('ERR_CLOSED', 'not implemented yet'))
  }

  /**
   * The operations recovered at open that come after the newest checkpoint, in LSN order
   * (batches flattened). Values are views, not copies (see `WalRecord`).
   */
  replay(): Iterable<WalRecord> {
    throw new WalError('ERR_CLOSED', 'not implemented yet')
  }

  /** Counters, fsync latency and LSNs (see `WalStats`). */
  stats(): WalStats {
    throw new WalError('ERR_CLOSED', 'not implemented yet')
  }

  /** Flushes and syncs what is pending, settles every pending promise and closes the files. */
  close(): Promise<void> {
    return Promise.reject(new WalError('ERR_CLOSED', 'not implemented yet'))
  }

  /** What `open` found and repaired. */
  get recovery(): RecoveryReport {
    throw new WalError('ERR_CLOSED', 'not implemented yet')
  }

  /** The directory of the log. */
  get dir(): string {
    throw new WalError('ERR_CLOSED', 'not implemented yet')
  }

  /** LSN of the last appended operation (0n if none yet, or the recovered last LSN). */
  get lastAppendedLsn(): bigint {
    throw new WalError('ERR_CLOSED', 'not implemented yet')
  }

  /** Every operation up to this LSN is durable (survives a power cut). */
  get lastDurableLsn(): bigint {
    throw new WalError('ERR_CLOSED', 'not implemented yet')
  }

  /** LSN of the newest durable checkpoint (0n if none). */
  get checkpointLsn(): bigint {
    throw new WalError('ERR_CLOSED', 'not implemented yet')
  }
}
