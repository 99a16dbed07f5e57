/**
 * What the writer's preallocation buys on this disk (segment-files.ts): the same appends, each
 * followed by an fdatasync on the calling thread, into
 *
 * - `append`: a file that grows with every write (a new size to persist each time);
 * - `ftruncate`: a file extended 1 MiB ahead with ftruncate (a hole: the size is already there,
 *   the blocks are allocated by the writes);
 * - `ftruncate + zeros`: as the log writes now: extended with ftruncate and zeros written 64 KiB
 *   ahead of the appends (blocks allocated once per fill).
 *
 * Variants alternate round by round in one process (the disk is shared and noisy); the figure
 * is µs per append + fdatasync, median of rounds, with the median of the per-round ratios.
 *
 *   npx tsx bench/zero-fill.ts [--bytes 9800] [--appends 1000] [--rounds 5]
 *
 * 9,800 bytes is a group of 64 durable writes of 128-byte values (the store's 64-writer case);
 * try 200 for a single writer.
 */
import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchFlags, median } from '@alex/test-support/bench'
import { PREALLOCATE_BYTES, ZERO_FILL_BYTES } from '../src/format.js'

const { numbers } = benchFlags(process.argv.slice(2), {
  usage: 'Usage: npx tsx bench/zero-fill.ts [--bytes 9800] [--appends 1000] [--rounds 5]',
  numbers: { bytes: 9800, appends: 1000, rounds: 5 },
})
const dir = mkdtempSync(join(tmpdir(), 'alex-zero-fill-'))
const record = new Uint8Array(numbers.bytes).fill(1)
const zeros = new Uint8Array(ZERO_FILL_BYTES)

type Variant = 'append' | 'ftruncate' | 'ftruncate + zeros'
const VARIANTS: Variant[] = ['append', 'ftruncate', 'ftruncate + zeros']

/** µs per append + fdatasync for one variant. */
function round(variant: Variant): number {
  const path = join(dir, 'log')
  const fd = openSync(path, 'w+')
  let size = 0
  let zeroed = 0
  const t0 = performance.now()
  for (let i = 0; i < numbers.appends; i++) {
    const at = i * record.length
    const end = at + record.length
    if (variant !== 'append' && end > size) {
      size = end + PREALLOCATE_BYTES
      ftruncateSync(fd, size)
    }
    writeSync(fd, record, 0, record.length, at)
    if (variant === 'ftruncate + zeros' && end + ZERO_FILL_BYTES / 2 > zeroed) {
      const from = Math.max(end, zeroed)
      const to = Math.min(from + ZERO_FILL_BYTES, size)
      if (to > from) writeSync(fd, zeros, 0, to - from, from)
      zeroed = Math.max(to, end)
    }
    fdatasyncSync(fd)
  }
  const us = ((performance.now() - t0) * 1000) / numbers.appends
  closeSync(fd)
  rmSync(path)
  return us
}

const times = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]))
const ratios: number[] = []
for (let r = 0; r < numbers.rounds; r++) {
  for (const v of VARIANTS) times.get(v)!.push(round(v))
  const t = (v: Variant) => times.get(v)![r]!
  ratios.push(t('ftruncate') / t('ftruncate + zeros'))
}
rmSync(dir, { recursive: true, force: true })
console.log(
  `append + fdatasync of ${numbers.bytes} bytes, ${numbers.appends} per round, ${numbers.rounds} rounds, Node ${process.version}`,
)
for (const v of VARIANTS) {
  console.log(`  ${v.padEnd(18)} ${median(times.get(v)!).toFixed(0).padStart(5)} µs (median)`)
}
console.log(
  `  ftruncate / ftruncate + zeros (time, median per-round ratio): ${median(ratios).toFixed(2)}`,
)
