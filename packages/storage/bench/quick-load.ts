import { rmSync } from 'node:fs'
import { AlexStorage } from '../src/index.js'

const N = Number(process.argv[2] ?? 1_000_000)
const dir = '/tmp/bench/q2'
rmSync(dir, { recursive: true, force: true })
const keys = new Float64Array(N)
for (let i = 0; i < N; i++) keys[i] = Math.floor(Math.random() * 2 ** 31)
const value = new Uint8Array(128).fill(7)
const db = await AlexStorage.open(dir, {
  sync: 'none',
  checkpointRecords: 1e9,
  checkpointBytes: 2 ** 40,
  autoCompaction: false,
})
const B = 1000
const ops = Array.from({ length: B }, () => ({ type: 'put' as const, key: 0, value }))
let t = performance.now()
for (let i = 0; i < N; i += B) {
  for (let j = 0; j < B; j++) ops[j]!.key = keys[i + j]!
  await db.batch(ops)
}
const tl = performance.now() - t
t = performance.now()
await db.checkpoint()
const tc = performance.now() - t
console.log(
  'load ns/entry',
  (tl * 1e6) / N,
  'checkpoint ms',
  tc,
  'total ns/entry',
  ((tl + tc) * 1e6) / N,
)
await db.close()
