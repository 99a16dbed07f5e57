/**
 * Where `crc32` should hand inputs to `zlib.crc32`: times the slicing-by-8 loop (the threshold set
 * so high that it computes every length) and zlib.crc32 on lengths from 16 B to 4 KiB.
 *
 *   npx tsx bench/crc-threshold.ts
 */
import * as zlib from 'node:zlib'

const native = (zlib as { crc32?: (d: Uint8Array, v?: number) => number }).crc32
if (native === undefined) throw new Error('this Node has no zlib.crc32')

const TABLE = (() => {
  const t = new Int32Array(256 * 8)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[i] = c
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) {
      const prev = t[(s - 1) * 256 + i]!
      t[s * 256 + i] = (prev >>> 8) ^ t[prev & 255]!
    }
  }
  return t
})()

function loop(b: Uint8Array, start: number, end: number): number {
  let c = -1
  let i = start
  for (; i + 8 <= end; i += 8) {
    c ^= b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)
    c =
      TABLE[1792 + (c & 255)]! ^
      TABLE[1536 + ((c >>> 8) & 255)]! ^
      TABLE[1280 + ((c >>> 16) & 255)]! ^
      TABLE[1024 + (c >>> 24)]! ^
      TABLE[768 + b[i + 4]!]! ^
      TABLE[512 + b[i + 5]!]! ^
      TABLE[256 + b[i + 6]!]! ^
      TABLE[b[i + 7]!]!
  }
  for (; i < end; i++) c = TABLE[(c ^ b[i]!) & 255]! ^ (c >>> 8)
  return ~c >>> 0
}

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
