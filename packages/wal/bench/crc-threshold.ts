/**
 * Where `crc32` should hand inputs to `zlib.crc32`: times the slicing-by-8 loop (the threshold set
 * so high that it computes every length) and zlib.crc32 on lengths from 16 B to 4 KiB.
 *
 *   npx tsx bench/crc-threshold.ts
 */
import * as zlib from 'node:zlib'
import { crc32Table } from '../src/checksum.js'

const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32
if (native === undefined) throw new Error('this Node has no zlib.crc32')

const loop = crc32Table

const buf = new Uint8Array(1 << 16)
for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24
let sink = 0
function time(f: (start: number, end: number) => number, len: number): number {
  const reps = Math.max(2000, Math.floor(4e6 / len))
  for (let r = 0; r < reps; r++) sink ^= f(r & 1023, (r & 1023) + len) // warm-up
  const t0 = process.hrtime.bigint()
  for (let r = 0; r < reps; r++) sink ^= f(r & 1023, (r & 1023) + len)
  return Number(process.hrtime.bigint() - t0) / reps
}
console.log('bytes   loop ns   zlib ns')
for (const len of [16, 64, 128, 192, 256, 320, 384, 512, 768, 1024, 4096]) {
  const a = time((s, e) => loop(buf, s, e), len)
  const z = time((s, e) => native(buf.subarray(s, e)), len)
  console.log(`${String(len).padStart(5)} ${a.toFixed(0).padStart(9)} ${z.toFixed(0).padStart(9)}`)
}
if (sink === 0.5) console.log(sink)
