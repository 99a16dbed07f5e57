import { tempDir as sharedTempDir, valueFor } from '@alex/test-support'
import { ZERO_FILL_BYTES } from '../src/format.js'
import type { Wal, WalOp, WalRecord } from '../src/index.js'
import type { FaultInjectionFileSystem } from '../src/testing.js'

/** A record with its value copied, for comparisons. */
export interface PlainRecord {
  lsn: bigint
  type: 'put' | 'delete'
  key: number
  value: number[] | undefined
}

/** Replays `wal` into plain objects (values copied). */
export function collect(wal: Wal): PlainRecord[] {
  const out: PlainRecord[] = []
  for (const r of wal.replay()) out.push(plain(r))
  return out
}

export function plain(r: WalRecord): PlainRecord {
  return { lsn: r.lsn, type: r.type, key: r.key, value: r.value ? [...r.value] : undefined }
}

/** The plain record an op appended with `lsn` must replay as. */
export function expected(op: WalOp, lsn: bigint): PlainRecord {
  return op.type === 'put'
    ? { lsn, type: 'put', key: op.key, value: [...op.value] }
    : { lsn, type: 'delete', key: op.key, value: undefined }
}

/** A deterministic value for `key` of `length` bytes (@alex/test-support's, version 0). */
function keyValue(key: number, length = 8): Uint8Array {
  return valueFor(key, 0, length)
}

export { valueFor }

export function put(key: number, length = 8): WalOp {
  return { type: 'put', key, value: keyValue(key, length) }
}

export function del(key: number): WalOp {
  return { type: 'delete', key }
}

/** XORs `mask` into `buf[index]`. */
export function flipBits(buf: Uint8Array, index: number, mask: number): void {
  buf[index] = (buf[index] as number) ^ mask
}

/** A fresh temporary directory and its cleanup. */
export function tempDir(prefix = 'alex-wal-'): { dir: string; cleanup: () => void } {
  return sharedTempDir(prefix)
}

/** Settles a promise into a tagged result (for asserting rejections without unhandled ones). */
export async function settle<T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p }
  } catch (error) {
    return { ok: false, error }
  }
}

/**
 * Counts the writes made on `fs` from now on, telling the zero fills the writer makes ahead of
 * its frames (ZERO_FILL_BYTES each, see segment-files.ts) from the writes of frames. Replaces
 * any `onOp` hook.
 */
export function countWrites(fs: FaultInjectionFileSystem): { frames: number; zeroFills: number } {
  const counts = { frames: 0, zeroFills: 0 }
  fs.onOp = (e) => {
    if (e.op !== 'write') return
    if (e.bytes === ZERO_FILL_BYTES) counts.zeroFills++
    else counts.frames++
  }
  return counts
}
