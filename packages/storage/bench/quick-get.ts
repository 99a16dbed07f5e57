import { rmSync } from 'node:fs'
import { AlexStorage } from '../src/index.js'

const N = 1_000_000
const dir = '/tmp/bench/q1'
rmSync(dir, { recursive: true, force: true })
const keys = new Float64Array(N)
const seen = new Set<number>()
for (let i = 0; i < N; ) {
  const k = Math.floor(Math.random() * 2 ** 31)
  if (!seen.has(k)) {
    seen.add(k)
    keys[i++] = k
  }
}
const db = await AlexStorage.open(dir, {
  sync: 'none',
  checkpointRecords: 1e9,
  checkpointBytes: 2 ** 40,
})
const map = new Map<number, Uint8Array>()
let t = performance.now()
for (let i = 0; i < N; i += 1000) {
  const ops = []
  for (let j = i; j < i + 1000; j++) {
    const v = new Uint8Array(128)
    v[0] = j & 255
    ops.push({ type: 'put' as const, key: keys[j]!, value: v })
    map.set(keys[j]!, v)
  }
  await db.batch(ops)
}
console.log('load ns/entry (incl map+alloc)', ((performance.now() - t) * 1e6) / N)
t = performance.now()
await db.checkpoint()
console.log('checkpoint ms', performance.now() - t)
const q = new Float64Array(2 * N)
for (let i = 0; i < q.length; i++) q[i] = keys[Math.floor(Math.random() * N)]!
for (let r = 0; r < 3; r++) {
  let s = 0
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const v = db.get(q[i]!)!
    s += v.length + v[0]!
  }
  const ours = ((performance.now() - t) * 1e6) / q.length
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const v = map.get(q[i]!)!
    s += v.length + v[0]!
  }
  const m = ((performance.now() - t) * 1e6) / q.length
  const idx = (db as any).index
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    s += idx.get(q[i]!)
  }
  const ix = ((performance.now() - t) * 1e6) / q.length
  const bufs = (db as any).bufs
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const loc = idx.get(q[i]!)
    const off = loc >>> 0
    const b = bufs[(loc - off) / 4294967296]
    s += b[off + 4]
  }
  const hdr = ((performance.now() - t) * 1e6) / q.length
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const loc = idx.get(q[i]!)
    const off = loc >>> 0
    const b = bufs[(loc - off) / 4294967296]
    const v = new Uint8Array(b.buffer, off + 25, b[off + 4])
    s += v.length + v[0]!
  }
  const view = ((performance.now() - t) * 1e6) / q.length
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const loc = idx.get(q[i]!)
    const off = loc >>> 0
    const b = bufs[(loc - off) / 4294967296]
    s += b[off + 4] + b[off + 25]
  }
  const hdrV0 = ((performance.now() - t) * 1e6) / q.length
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const loc = idx.get(q[i]!)
    const off = loc >>> 0
    const b = bufs[(loc - off) / 4294967296]
    const v = new Uint8Array(b.buffer, off + 25, b[off + 4])
    s += v.length
  }
  const viewNoV0 = ((performance.now() - t) * 1e6) / q.length
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const loc = idx.get(q[i]!)
    const off = loc >>> 0
    const b = bufs[(loc - off) / 4294967296]
    const v = b.subarray(off + 25, off + 25 + b[off + 4])
    s += v.length + v[0]
  }
  const sub = ((performance.now() - t) * 1e6) / q.length
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const loc = idx.get(q[i]!)
    const off = loc >>> 0
    const b = bufs[(loc - off) / 4294967296]
    const v = new Uint8Array(b.buffer, off + 25, 128)
    s += v.length + v[0]!
  }
  const fixedLen = ((performance.now() - t) * 1e6) / q.length
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const loc = idx.get(q[i]!)
    const off = loc >>> 0
    const b = bufs[(loc - off) / 4294967296]
    const v = new Uint8Array(b.buffer, off + 25, 128)
    s += v.length
  }
  const fixedLenNoV0 = ((performance.now() - t) * 1e6) / q.length
  const one = bufs[0]
  t = performance.now()
  for (let i = 0; i < q.length; i++) {
    const v = new Uint8Array(one.buffer, (i * 7919) & 0x3fffff, 128)
    s += v.length
  }
  const pureView = ((performance.now() - t) * 1e6) / q.length
  console.log({
    ours,
    map: m,
    indexOnly: ix,
    hdr,
    hdrV0,
    view,
    viewNoV0,
    sub,
    pureView,
    fixedLen,
    fixedLenNoV0,
    ratio: ours / m,
  })
}
await db.close()
