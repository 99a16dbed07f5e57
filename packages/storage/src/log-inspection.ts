import { type FileSystem, type RecoveryReport, Wal, type WalOptions } from '@alex/wal'
import { ReadOnlyOverlayFileSystem } from '@alex/wal/io'
import { corruption } from './errors.js'
import { toStorageError } from './wal-errors.js'

/** What the store's recovery planning needs to know of its write-ahead log. */
export interface LogSummary {
  /** The log directory exists. */
  exists: boolean
  /** Last LSN the log holds after its own recovery (0 if none). */
  lastLsn: number
  /** Newest checkpoint LSN recorded in the log. */
  checkpointLsn: number
  /**
   * Highest LSN the log accounts for: its last operation, its checkpoint, or the end of a range
   * it reserved (`Wal.reserve`, a segment header's base LSN): the next LSN it would hand out,
   * less one. A bulk ingest's records carry reserved LSNs.
   */
  reservedLsn: number
}

/**
 * Plans the log's recovery without changing anything on disk (`Wal.inspect`). It throws exactly
 * where a real open would (`ERR_CORRUPTION` for damage the mode may not repair).
 */
export function inspectLog(fs: FileSystem, dir: string, options: WalOptions): LogSummary {
  let report: RecoveryReport
  try {
    report = Wal.inspect(dir, { ...options, fs })
  } catch (err) {
    throw toStorageError(err)
  }
  return {
    exists: fs.exists(dir),
    lastLsn: Number(report.lastLsn),
    checkpointLsn: Number(report.checkpointLsn),
    reservedLsn: Number(report.nextLsn) - 1,
  }
}

/**
 * Identity between the log and the data: every operation in the log whose LSN a data record
 * also carries must be of the same key (LSN -> key is one function across a store; a log segment
 * restored from another store's backup has valid checksums and plausible LSNs too). Reads the log
 * through a copy-on-write overlay, so nothing changes on disk. Throws `ERR_CORRUPTION` naming the
 * log otherwise. Costs one more pass over the log's live part, only when the data holds records
 * above the log's checkpoint (after a crash).
 */
export async function checkLogAgrees(
  fs: FileSystem,
  dir: string,
  options: WalOptions,
  keyByLsn: Map<number, number>,
): Promise<void> {
  if (keyByLsn.size === 0) return
  let wal: Wal
  try {
    wal = await Wal.open(dir, { ...options, fs: new ReadOnlyOverlayFileSystem(fs) })
  } catch (err) {
    throw toStorageError(err)
  }
  try {
    for (const r of wal.replay()) {
      const want = keyByLsn.get(Number(r.lsn))
      if (want !== undefined && want !== r.key) {
        throw corruption(
          dir,
          0,
          `the log's operation ${r.lsn} is for key ${r.key} but the data files hold key ${want} ` +
            'at that LSN: the log is not from this store',
        )
      }
    }
  } finally {
    await wal.close().catch(() => {}) // nothing of it is on disk
  }
}
