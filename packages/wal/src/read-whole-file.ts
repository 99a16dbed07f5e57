import type { FileSystem } from './file-system.js'

/**
 * Reads a whole file through `fs` (its size bounds the allocation; at most `limit` bytes), into
 * an array from `allocate` (default: an uninitialised Buffer, every byte of which is then read).
 * A file shorter than its reported size gives the bytes read. The one home of "read a whole
 * file" for the log's segments, the store's snapshots and segments, and the read-only overlay.
 */
export function readWholeFile(
  fs: FileSystem,
  path: string,
  limit = Number.POSITIVE_INFINITY,
  allocate: (size: number) => Uint8Array = Buffer.allocUnsafeSlow,
): Uint8Array {
  const handle = fs.open(path, 'r')
  try {
    const size = Math.min(handle.size(), limit)
    const buf = allocate(size)
    const n = handle.read(buf, 0, size, 0)
    return n === size ? buf : buf.subarray(0, n)
  } finally {
    handle.close()
  }
}
