// TypeScript consumer check (CommonJS, resolved through the "require" conditions: index.d.cts).
import {
  type AlexStorage,
  AlexStorageError,
  type AlexStorageOptions,
  ErrorCode,
  type RangeOptions,
} from '@alex/storage'

import storage = require('@alex/storage')

import { AlexIndex } from '@alex/index'
import { Wal } from '@alex/wal'

const options: AlexStorageOptions = { sync: 'none', autoCompaction: false }
const range: RangeOptions = { lte: 100 }

export async function useStore(dir: string): Promise<string | undefined> {
  const db = await storage.AlexStorage.open(dir, options)
  const same: AlexStorage = db
  for (const key of same.keys(range)) void key
  try {
    await db.delete(Number.POSITIVE_INFINITY)
  } catch (err) {
    if (err instanceof AlexStorageError && err.code === ErrorCode.INVALID_KEY) return err.code
  }
  await db.close()
  return undefined
}

export const wal: typeof Wal = Wal
export const index = new AlexIndex()
