/**
 * Measures the raw cost of one durable append on the disk under the stores (write 256 bytes,
 * fdatasync), so the report can show it and flag a "durable" figure that is faster than the
 * disk can sync: that engine is not really syncing each write.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
/**
 * Nanoseconds of a 256-byte append plus fdatasync in a fresh file under `dir`: the 10th
 * percentile of `rounds` tries. Contention from other work on a shared disk only adds time,
 * so a low percentile estimates what the device itself needs.
 */
export function probeFsyncNs(dir: string, rounds = 50): number {
  const tmp = mkdtempSync(join(dir, 'alex-bench-fsync-'))
  const fd = openSync(join(tmp, 'probe'), 'w')
  const block = Buffer.alloc(256, 0x5a)
  const times: number[] = []
  try {
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now()
      writeSync(fd, block)
      fdatasyncSync(fd)
      times.push((performance.now() - t0) * 1e6)
    }
  } finally {
    closeSync(fd)
    rmSync(tmp, { recursive: true, force: true })
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 10)]!
}
