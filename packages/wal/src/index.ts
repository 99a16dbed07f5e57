export type { WalErrorDetails } from './errors.js'
export { isWalError, WalError, WalErrorCode } from './errors.js'
export type { FileHandle, FileSystem, OpenFlags } from './file-system.js'
export type { LogTailOptions, LogTailVisitor } from './log-tail.js'
export { LogTail } from './log-tail.js'
export type { NodeFileSystemOptions } from './node-file-system.js'
export { NodeFileSystem, nodeFileSystem } from './node-file-system.js'
export type {
  CommitObserver,
  DamageReason,
  LatencySummary,
  RecoveryDrop,
  RecoveryMode,
  RecoveryReport,
  SyncMode,
  WalOp,
  WalOptions,
  WalRecord,
  WalStats,
} from './types.js'
export { Wal } from './wal.js'
