import type { AlexIndex, IndexStats } from '@alex/index'
import type { Wal, WalStats } from '@alex/wal'
import type { Checkpointer } from './checkpoint.js'
import type { FollowStats } from './follower.js'
import type { SegmentSet } from './segment-set.js'
import type { WritePipeline } from './write-pipeline.js'

/**
 * The write-ahead log's statistics as the store reports them: `WalStats` with its LSNs as
 * numbers, like every other LSN the store reports (they stay below 2^53).
 */
export interface StorageWalStats
  extends Omit<WalStats, 'checkpointLsn' | 'lastAppendedLsn' | 'lastDurableLsn'> {
  /** LSN of the log's newest durable checkpoint. */
  checkpointLsn: number
  /** LSN of the last operation appended to the log. */
  lastAppendedLsn: number
  /** Every operation up to this LSN is durable in the log. */
  lastDurableLsn: number
}

/** A live reader of the store, as `stats().readers` lists it. */
export interface ReaderStats {
  pid: number
  /** `worker_threads.threadId` of the reader (0: the main thread of its process). */
  thread: number
  host: string
  /** Last LSN it has applied. */
  lsn: number
  /** LSNs it is behind this store's (0 when caught up). */
  lagLsn: number
  /** Milliseconds since it last had everything published (0 when caught up). */
  lagMs: number
  /** False if it has not reported for 30 s (stuck): it then no longer holds the log. */
  live: boolean
}

/** What `AlexStorage.stats()` reports. Counters are since this open unless noted. */
export interface StorageStats {
  /** Live keys. */
  keys: number
  /** Bytes of the records keys point to (record headers included). */
  liveBytes: number
  /** Bytes of overwritten and deleted records and of tombstones: what `compact()` reclaims. */
  deadBytes: number
  /** Data segment files. */
  segments: number
  /** Bytes of the write-ahead log written since this open. */
  walBytes: number
  /** Checkpoints completed over the store's life (persisted in snapshots). */
  checkpoints: number
  /** Compactions completed over the store's life (persisted in snapshots). */
  compactions: number
  /** fsyncs (file and directory) made by the store and its log since this open. */
  fsyncs: number
  /** Highest LSN applied (visible to reads). */
  lsn: number
  /** LSN covered by the newest snapshot. */
  checkpointLsn: number
  /** Value cache. */
  cache: {
    /** The budget (`cacheBytes`). */
    budgetBytes: number
    /** Memory held by resident segment images. */
    residentBytes: number
    residentSegments: number
    /** Values read from disk because their segment was not resident. */
    diskReads: number
    /** Values served from a resident segment image, without I/O. */
    hits: number
    /** Segment images dropped to make room. */
    evictions: number
  }
  /** The ALEX index's own statistics (`AlexIndex.stats()`). */
  index: IndexStats
  /** The write-ahead log's statistics (`Wal.stats()`, LSNs as numbers). */
  wal: StorageWalStats
  /**
   * The readers registered on the store (docs/architecture.md, section 12), other processes and
   * threads included, with how far behind this store's LSN they are.
   */
  readers: ReaderStats[]
  /** On a following reader: its progress and reloads (`undefined` on a writer or frozen reader). */
  follow: FollowStats | undefined
}

/** Gathers `AlexStorage.stats()` from the layers (each reports through its own accessors). */
export function storageStats(
  index: AlexIndex,
  segments: SegmentSet,
  wal: Wal,
  writes: WritePipeline,
  checkpointer: Checkpointer,
  readers: ReaderStats[],
  follow: FollowStats | undefined,
): StorageStats {
  const w = wal.stats()
  const s = segments
  return {
    keys: index.size,
    liveBytes: s.liveBytes,
    deadBytes: s.dataBytes - s.liveBytes,
    segments: s.list().length,
    walBytes: w.bytesWritten,
    checkpoints: checkpointer.checkpoints,
    compactions: checkpointer.compactions,
    fsyncs: checkpointer.fsyncs + s.headerSyncs + s.backgroundSyncs + w.fsyncs + w.dirSyncs,
    lsn: writes.appliedLsn,
    checkpointLsn: checkpointer.snapshotLsn,
    cache: {
      budgetBytes: s.cache.budget,
      residentBytes: s.cache.residentBytes,
      residentSegments: s.cache.residentSegments,
      diskReads: s.diskReads,
      hits: s.cacheHits,
      evictions: s.cache.evictions,
    },
    index: index.stats(),
    wal: {
      ...w,
      checkpointLsn: Number(w.checkpointLsn),
      lastAppendedLsn: Number(w.lastAppendedLsn),
      lastDurableLsn: Number(w.lastDurableLsn),
    },
    readers,
    follow,
  }
}
