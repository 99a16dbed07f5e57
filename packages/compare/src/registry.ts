/**
 * The list of engines. Adding an engine is one adapter file in engines/ plus one line here.
 */

import { alexStorageEngine } from './engines/alex-storage.js'
import { leveldbEngine } from './engines/leveldb.js'
import { lmdbEngine } from './engines/lmdb.js'
import { mapEngine } from './engines/map.js'
import { rocksdbEngine } from './engines/rocksdb.js'
import { btreeEngine } from './engines/sorted-btree.js'
import { sqliteEngine } from './engines/sqlite.js'
import { CompareError, ErrorCode } from './errors.js'
import type { EngineId, KvEngine } from './types.js'

/** Every engine adapter in report order, AlexStorage first, the in-memory references last. */
const ALL: readonly KvEngine[] = [
  alexStorageEngine,
  leveldbEngine,
  rocksdbEngine,
  lmdbEngine,
  sqliteEngine,
  mapEngine,
  btreeEngine,
]

/** The engines that can be used now, in report order. */
export const engines: readonly KvEngine[] = ALL

/** The ids of {@link engines}. */
export const engineIds: readonly EngineId[] = engines.map((e) => e.id)

/** The engine with this id; ERR_UNKNOWN_ENGINE (listing the known ids) otherwise. */
export function getEngine(id: string): KvEngine {
  const found = engines.find((e) => e.id === id)
  if (found === undefined) {
    throw new CompareError(
      ErrorCode.UNKNOWN_ENGINE,
      `unknown engine "${id}"; known: ${engineIds.join(', ')}`,
    )
  }
  return found
}
