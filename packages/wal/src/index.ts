export type { FileHandle, FileSystem, OpenFlags } from './file-system.js'
export { NodeFileSystem, nodeFileSystem } from './node-file-system.js'
export type { RecoveryMode, SyncMode, WalOp, WalOptions, WalRecord } from './types.js'
