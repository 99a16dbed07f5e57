import type { IndexStats } from '@alex/index'
import type { WalStats } from '@alex/wal'

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
    /** Segment images dropped to make room. */
    evictions: number
  }
  /** The ALEX index's own statistics (`AlexIndex.stats()`). */
  index: IndexStats
  /** The write-ahead log's statistics (`Wal.stats()`). */
  wal: WalStats
}
