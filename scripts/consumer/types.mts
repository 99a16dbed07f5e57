// TypeScript consumer check (ESM, resolved through the "import" conditions): the public types of
// @alex/storage and its siblings as an application uses them. Type-checked only (noEmit), with
// the declaration files checked too (skipLibCheck: false). A @ts-expect-error that no longer
// errors fails the check as well.

import { getEngine, type KvEngine } from '@alex/compare'
import { AlexIndex, type RangeOptions as IndexRange } from '@alex/index'
import {
  AlexStorage,
  AlexStorageError,
  type AlexStorageOptions,
  type BatchOperation,
  ErrorCode,
  type ErrorCodeValue,
  type RangeOptions,
  type StorageStats,
} from '@alex/storage'
import { Wal, type WalOptions, type WalRecord } from '@alex/wal'
import { FaultInjectionFileSystem } from '@alex/wal/testing'

const options: AlexStorageOptions = {
  sync: 'interval',
  syncIntervalMs: 50,
  cacheBytes: 64 * 1024 * 1024,
  readOnly: false,
  recovery: 'tolerate-torn-tail',
}
// @ts-expect-error not a sync mode
const badSync: AlexStorageOptions = { sync: 'sometimes' }
// @ts-expect-error unknown option
const typo: AlexStorageOptions = { syncMode: 'always' }

const range: RangeOptions = { gte: 1, lt: 10, reverse: true, limit: 5 }
// @ts-expect-error bounds are numbers
const badRange: RangeOptions = { gt: '1' }
const sameRange: IndexRange = range

const ops: BatchOperation[] = [
  { type: 'put', key: 1, value: new Uint8Array(1) },
  { type: 'delete', key: 2 },
]
// @ts-expect-error a put needs a value
const badOp: BatchOperation = { type: 'put', key: 1 }

export async function useStore(dir: string): Promise<number> {
  const db: AlexStorage = await AlexStorage.open(dir, options)
  await db.put(1, new Uint8Array([1]))
  // @ts-expect-error keys are numbers
  await db.put('1', new Uint8Array([1]))
  await db.batch(ops)
  const value: Uint8Array | undefined = db.get(1)
  let total = value?.length ?? 0
  for (const [key, v] of db.entries(range)) total += key + v.length
  for (const key of db.keys({ gt: 0 })) total += key
  const stats: StorageStats = db.stats()
  total += stats.keys
  try {
    await db.put(Number.NaN, new Uint8Array(0))
  } catch (err) {
    if (err instanceof AlexStorageError) {
      const code: ErrorCodeValue = err.code
      switch (code) {
        case ErrorCode.INVALID_KEY:
        case 'ERR_CLOSED':
        case ErrorCode.CORRUPTION:
          total += err.offset ?? 0
          break
      }
      // @ts-expect-error not one of the codes
      if (code === 'ERR_NOPE') total = 0
    }
  }
  await db.close()
  return total
}

export async function useWal(dir: string): Promise<bigint> {
  const walOptions: WalOptions = { sync: 'always' }
  const wal = await Wal.open(dir, walOptions)
  const lsn: bigint = await wal.append({ type: 'put', key: 1, value: new Uint8Array(1) })
  for (const record of wal.replay() as Iterable<WalRecord>) void record.lsn
  await wal.close()
  return lsn
}

export const fs = new FaultInjectionFileSystem()
export const index: AlexIndex = AlexIndex.from([1, 2], [3, 4])
export const engine: KvEngine = getEngine('alex')
export const unused = [badSync, typo, badRange, sameRange, badOp]
