import { type FileSystem, type RecoveryReport, Wal, type WalOptions } from '@alex/wal'
import { corruption } from './errors.js'
import { ReadOnlyOverlayFileSystem } from './read-only-file-system.js'
import { toStorageError } from './wal-errors.js'

/** What the store's recovery planning needs to know of its write-ahead log. */
export interface LogSummary {
  /** The log directory exists. */
  exists: boolean
  /** Last LSN the log holds after its own recovery (0 if none). */
  lastLsn: number
  /** Newest checkpoint LSN recorded in the log. */
  checkpointLsn: number
  /** The log's own recovery report, as opening it would produce. */
  report: RecoveryReport
  /** The log, opened through the overlay: `checkLogAgrees` reads it; close it after. */
  wal: Wal
}

/**
 * Plans the log's recovery without changing anything on disk: the log is opened through a
 * copy-on-write overlay (its repairs and its new segment stay in memory; the caller closes it).
 * It throws exactly where a real open would (`ERR_CORRUPTION` for damage the mode may not
 * repair).
 */
export async function inspectLog(
  fs: FileSystem,
  dir: string,
  options: WalOptions,
): Promise<LogSummary> {
  const exists = fs.exists(dir)
  let wal: Wal
  try {
    wal = await Wal.open(dir, { ...options, fs: new ReadOnlyOverlayFileSystem(fs) })
  } catch (err) {
    throw toStorageError(err)
  }
  const report = wal.recovery
  return {
    exists,
    lastLsn: Number(report.lastLsn),
    checkpointLsn: Number(report.checkpointLsn),
    report,
    wal,
  }
}

/**
 * Identity between the log and the data: every operation in the log whose LSN a data record
 * also carries must be of the same key (a log segment restored from another store's backup has
 * valid checksums and plausible LSNs too). Throws `ERR_CORRUPTION` naming the log otherwise.
 */
export function checkLogAgrees(log: LogSummary, keyByLsn: Map<number, number>): void {
  if (keyByLsn.size === 0) return
  for (const r of log.wal.replay()) {
    const want = keyByLsn.get(Number(r.lsn))
    if (want !== undefined && want !== r.key) {
      throw corruption(
        log.wal.dir,
        0,
        `the log's operation ${r.lsn} is for key ${r.key} but the data files hold key ${want} ` +
          'at that LSN: the log is not from this store',
      )
    }
  }
}
