/**
 * Bulk load alone, for profiling (`node --cpu-prof --import tsx bench/bulk-load.ts`):
 * N entries of `value` bytes in batches of 1000 with `sync: 'none'`, then `checkpoint()`,
 * as in storage-bench.ts section 1. Prints ns/entry for the writes and the checkpoint.
 *
 *   npx tsx bench/bulk-load.ts [--keys 1000000] [--value 128] [--order random|ascending]
 *     [--rounds 1]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AlexStorage } from '../src/index.js'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}

const N = Number(arg('keys', '1000000'))
const VALUE = Number(arg('value', '128'))
const ORDER = arg('order', 'random')
const ROUNDS = Number(arg('rounds', '1'))
const BATCH = 1000

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return x >>> 0
  }
}

async function main(): Promise<void> {
  const next = xorshift(12345)
  const seen = new Set<number>()
  const keys = new Float64Array(N)
  for (let i = 0; i < N; ) {
    const k = next() >>> 1
    if (seen.has(k)) continue
    seen.add(k)
    keys[i++] = k
  }
  seen.clear()
  if (ORDER === 'ascending') keys.sort()
  const values = new Uint8Array(N * VALUE)
  for (let i = 0; i < values.length; i += 4) values[i] = (i * 31) & 255
  for (let r = 0; r < ROUNDS; r++) {
    const root = mkdtempSync(join(tmpdir(), 'alex-bulk-'))
    try {
      const t0 = performance.now()
      const db = await AlexStorage.open(join(root, 'db'), {
        sync: 'none',
        checkpointRecords: 1e12,
        checkpointBytes: 2 ** 50,
        autoCompaction: false,
      })
      const ops = Array.from({ length: BATCH }, () => ({
        type: 'put' as const,
        key: 0,
        value: values.subarray(0, VALUE),
      }))
      for (let i = 0; i < N; i += BATCH) {
        const n = Math.min(BATCH, N - i)
        if (n < BATCH) ops.length = n
        for (let j = 0; j < n; j++) {
          ops[j]!.key = keys[i + j]!
          ops[j]!.value = values.subarray((i + j) * VALUE, (i + j + 1) * VALUE)
        }
        await db.batch(ops)
      }
      const t1 = performance.now()
      await db.checkpoint()
      const t2 = performance.now()
      await db.close()
      console.log(
        `${ORDER}: ${(((t2 - t0) * 1e6) / N).toFixed(0)} ns/entry (writes ${(((t1 - t0) * 1e6) / N).toFixed(0)}, checkpoint ${(((t2 - t1) * 1e6) / N).toFixed(0)})`,
      )
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  }
}

void main()
