export type { RecoveryMode, SyncMode } from '@alex/wal'
/** Types the store's options use, re-exported so an options object needs no other package. */
export type { FileHandle, FileSystem, OpenFlags } from '@alex/wal/io'
export type {
  BatchOperation,
  IngestColumns,
  IngestEntry,
  IngestOptions,
  IngestResult,
  IngestSource,
} from './alex-storage.js'
export { AlexStorage } from './alex-storage.js'
export type { BackupOptions, BackupProgress, BackupResult } from './backup.js'
export type { Change, ChangesOptions } from './change-feed.js'
export type { ErrorCodeValue } from './errors.js'
export { AlexStorageError, ErrorCode } from './errors.js'
export type {
  CheckpointMessage,
  CommitMessage,
  CompactionMessage,
  FailedMessage,
  ReaderReloadMessage,
  RecoveryMessage,
} from './events.js'
export { channels } from './events.js'
export type { FollowStats } from './follower.js'
export type { InstrumentOptions, MeterLike, MetricAttributes, MetricsOption } from './metrics.js'
export { instruments } from './metrics.js'
export type { AlexStorageOptions } from './options.js'
export type { RangeOptions } from './range.js'
export type { StorageRecoveryReport } from './recovery.js'
export type { Snapshot } from './snapshot-view.js'
export type { ReaderStats, StorageStats, StorageWalStats } from './stats.js'
export type { BatchOptions } from './write-conditions.js'
