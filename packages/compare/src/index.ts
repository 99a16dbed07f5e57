export { alexStorageEngine } from './engines/alex-storage.js'
export { leveldbEngine } from './engines/leveldb.js'
export { lmdbEngine } from './engines/lmdb.js'
export { mapEngine } from './engines/map.js'
export { rocksdbEngine } from './engines/rocksdb.js'
export { btreeEngine } from './engines/sorted-btree.js'
export { SQLITE_FILE, sqliteEngine } from './engines/sqlite.js'
export { CompareError, ErrorCode, type ErrorCodeValue } from './errors.js'
export { assertKey, decodeKey, ENCODED_KEY_BYTES, encodeKey, writeKey } from './key-encoding.js'
export { packageVersion } from './load-module.js'
export { type Bounds, toBounds } from './range.js'
export { engineIds, engines, getEngine } from './registry.js'
export type {
  BatchOp,
  BulkEntries,
  BulkLoadOptions,
  EngineCapabilities,
  EngineId,
  KvEngine,
  KvEntry,
  KvStore,
  OpenOptions,
  RangeOptions,
  RmwIsolation,
  RmwModify,
  RmwResult,
} from './types.js'
