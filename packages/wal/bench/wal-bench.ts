/**
 * @alex/wal benchmark. Run: `npx tsx bench/wal-bench.ts` (or `pnpm --filter @alex/wal run bench`).
 * Options: --quick (smaller counts).
 *
 * 1. Serial durable append latency vs the raw cost of the same bytes: writeSync + fdatasync of
 *    a 153-byte frame (a put of a 128-byte value), measured in interleaved rounds in one run.
 *    Baselines: fdatasync through the libuv thread pool (what the log does by default, so
 *    appends keep gathering while it runs) and fdatasyncSync on the calling thread (compared
 *    with the log's `blockingSync: true`, which does the same). Target: within 1.3x. The log
 *    with its fdatasync on the sync thread (`NodeFileSystem({ syncThread: true })`,
 *    src/sync-thread.ts) is timed beside the default (thread pool).
 * 2. 64 concurrent durable appenders of 128-byte values. Target: >= 100,000 records/s.
 * 3. Replay of 1,000,000 records (opened log, iteration only; open time shown too).
 *    Target: >= 1,000,000 records/s.
 */
import * as fs from 'node:fs'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchFlags, median, medianItem } from '@alex/test-support/bench'
import { NodeFileSystem, Wal } from '../src/index.js'

const { booleans } = benchFlags(process.argv.slice(2), {
  usage: 'Usage: npx tsx bench/wal-bench.ts [--quick]\n\n  --quick   smaller counts',
  booleans: ['quick'],
})
const quick = booleans.quick
const VALUE = new Uint8Array(128).fill(0xab)
const FRAME_BYTES = 9 + 16 + VALUE.length

function temp(): string {
  return mkdtempSync(join(tmpdir(), 'alex-wal-bench-'))
}

const fmt = (n: number, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits })
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS')

/** Mean µs per raw write + fdatasync (async or sync) of one frame, over `n` operations. */
async function rawRound(n: number, asyncSync: boolean): Promise<number> {
  const dir = temp()
  const fd = fs.openSync(join(dir, 'raw'), 'w+')
  const frame = new Uint8Array(FRAME_BYTES).fill(0xab)
  let pos = 0
  // Same warm-up as the log: one synced write first.
  fs.writeSync(fd, frame, 0, frame.length, pos)
  pos += frame.length
  fs.fdatasyncSync(fd)
  const start = performance.now()
  for (let i = 0; i < n; i++) {
    fs.writeSync(fd, frame, 0, frame.length, pos)
    pos += frame.length
    if (asyncSync) {
      await new Promise<void>((resolve, reject) =>
        fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())),
      )
    } else {
      fs.fdatasyncSync(fd)
    }
  }
  const us = ((performance.now() - start) * 1000) / n
  fs.closeSync(fd)
  rmSync(dir, { recursive: true, force: true })
  return us
}

/** Mean µs per serial durable append of a 128-byte value, over `n` appends. */
async function walRound(n: number, blockingSync = false, onThread = false): Promise<number> {
  const dir = temp()
  const fs = onThread ? new NodeFileSystem({ syncThread: true }) : undefined
  const wal = await Wal.open(dir, { blockingSync, ...(fs ? { fs } : {}) })
  await wal.append({ type: 'put', key: -1, value: VALUE })
  const start = performance.now()
  for (let i = 0; i < n; i++) await wal.append({ type: 'put', key: i, value: VALUE })
  const us = ((performance.now() - start) * 1000) / n
  await wal.close()
  rmSync(dir, { recursive: true, force: true })
  return us
}

async function serialLatency() {
  const rounds = quick ? 5 : 15
  const n = quick ? 100 : 200
  const walUs: number[] = []
  const walBlockingUs: number[] = []
  const walThreadUs: number[] = []
  const rawAsyncUs: number[] = []
  const rawSyncUs: number[] = []
  // Warm-up (JIT, page cache of the temp directory), not measured.
  await walRound(50)
  await walRound(50, true)
  await rawRound(50, true)
  await rawRound(50, false)
  for (let r = 0; r < rounds; r++) {
    // Short interleaved rounds, so that drift in the shared machine's disk hits all alike;
    // the verdict uses the median of the per-round ratios.
    walUs.push(await walRound(n))
    walBlockingUs.push(await walRound(n, true))
    walThreadUs.push(await walRound(n, false, true))
    rawAsyncUs.push(await rawRound(n, true))
    rawSyncUs.push(await rawRound(n, false))
  }
  const w = median(walUs)
  const ra = median(rawAsyncUs)
  const rs = median(rawSyncUs)
  const ratioAsync = median(walUs.map((x, i) => x / (rawAsyncUs[i] as number)))
  const ratioSync = median(walUs.map((x, i) => x / (rawSyncUs[i] as number)))
  const wb = median(walBlockingUs)
  const ratioBlocking = median(walBlockingUs.map((x, i) => x / (rawSyncUs[i] as number)))
  const wt = median(walThreadUs)
  const ratioThreadPool = median(walThreadUs.map((x, i) => x / (walUs[i] as number)))
  const perRound = (xs: number[], base: number[]) =>
    xs.map((x, i) => fmt(x / (base[i] as number), 2)).join(' ')
  const line = (label: string, us: number, ratio: number, baseline: string) =>
    console.log(
      `   ${label.padEnd(34)} ${fmt(us).padStart(7)} µs/op   ${fmt(ratio, 2)}x ${baseline}  ${verdict(ratio <= 1.3)} (target <= 1.3x)`,
    )
  console.log(
    `\n1. Serial durable append, ${FRAME_BYTES}-byte frame (${rounds} interleaved rounds x ${n}; medians, ratio = median of per-round ratios)`,
  )
  console.log(`   raw writeSync + fdatasync (pool)    ${fmt(ra).padStart(7)} µs/op`)
  console.log(`   raw writeSync + fdatasyncSync       ${fmt(rs).padStart(7)} µs/op`)
  line("wal.append, sync: 'always'", w, ratioAsync, 'vs raw (pool)')
  line("wal.append, sync: 'always'", w, ratioSync, 'vs raw fdatasyncSync')
  line('wal.append, blockingSync: true', wb, ratioBlocking, 'vs raw fdatasyncSync')
  console.log(
    `   wal.append, sync thread             ${fmt(wt).padStart(7)} µs/op   vs the default (thread pool): ${fmt(ratioThreadPool, 2)}x the time`,
  )
  console.log(`   per-round, wal vs raw (pool):              ${perRound(walUs, rawAsyncUs)}`)
  console.log(`   per-round, wal vs raw fdatasyncSync:       ${perRound(walUs, rawSyncUs)}`)
  console.log(`   per-round, blockingSync vs fdatasyncSync:  ${perRound(walBlockingUs, rawSyncUs)}`)
}

/** Records/s of `writers` concurrent durable appenders, and the fsync figures of the run. */
async function concurrentRound(writers: number, perWriter: number) {
  const dir = temp()
  const wal = await Wal.open(dir)
  await wal.append({ type: 'put', key: -1, value: VALUE })
  const before = wal.stats()
  const start = performance.now()
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < perWriter; i++) {
        await wal.append({ type: 'put', key: w * 1e6 + i, value: VALUE })
      }
    }),
  )
  const seconds = (performance.now() - start) / 1000
  const s = wal.stats()
  await wal.close()
  rmSync(dir, { recursive: true, force: true })
  return { rate: (writers * perWriter) / seconds, fsyncs: s.fsyncs - before.fsyncs, stats: s }
}

async function concurrentAppenders() {
  const writers = 64
  const perWriter = quick ? 100 : 300
  const rounds = quick ? 3 : 5
  const results = []
  for (let r = 0; r < rounds; r++) results.push(await concurrentRound(writers, perWriter))
  const rates = results.map((r) => r.rate)
  const rate = median(rates)
  const mid = medianItem(results, (r) => r.rate)
  const records = writers * perWriter
  console.log(
    `\n2. ${writers} concurrent durable appenders, 128-byte values (${rounds} rounds x ${fmt(records, 0)} records)`,
  )
  console.log(
    `   median ${fmt(rate, 0)} records/s   ${verdict(rate >= 100_000)} (target >= 100,000)`,
  )
  console.log(`   per round: ${rates.map((x) => fmt(x, 0)).join(' ')}`)
  console.log(
    `   median round: ${fmt(mid.fsyncs, 0)} fsyncs (${fmt(records / mid.fsyncs)} records each), fsync p50 ${fmt(mid.stats.fsyncLatencyUs.p50, 0)} µs, p99 ${fmt(mid.stats.fsyncLatencyUs.p99, 0)} µs`,
  )
}

async function replay() {
  const n = quick ? 200_000 : 1_000_000
  const dir = temp()
  const wal = await Wal.open(dir, { sync: 'none' })
  const chunk = 10_000
  for (let i = 0; i < n; i += chunk) {
    const pending: Promise<bigint>[] = []
    for (let j = i; j < i + chunk; j++)
      pending.push(wal.append({ type: 'put', key: j, value: VALUE }))
    await Promise.all(pending)
  }
  await wal.close()
  let best = Number.POSITIVE_INFINITY
  let openMs = 0
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now()
    const again = await Wal.open(dir)
    const t1 = performance.now()
    let count = 0
    let keySum = 0
    for (const r of again.replay()) {
      count++
      keySum += r.key
      if (r.value?.length !== VALUE.length) throw new Error('bad value')
    }
    const t2 = performance.now()
    if (count !== n || keySum !== (n * (n - 1)) / 2)
      throw new Error(`replay returned ${count} records`)
    if (t2 - t1 < best) {
      best = t2 - t1
      openMs = t1 - t0
    }
    await again.close()
  }
  rmSync(dir, { recursive: true, force: true })
  const rate = n / (best / 1000)
  console.log(`\n3. Replay of ${fmt(n, 0)} records (128-byte values; best of 3)`)
  console.log(
    `   replay: ${fmt(best, 0)} ms = ${fmt(rate, 0)} records/s   ${verdict(rate >= 1_000_000)} (target >= 1,000,000)`,
  )
  console.log(
    `   open (scan + validate every frame): ${fmt(openMs, 0)} ms = ${fmt(n / (openMs / 1000), 0)} records/s; open + replay ${fmt(n / ((openMs + best) / 1000), 0)} records/s`,
  )
  return rate
}

console.log(
  `@alex/wal benchmark: node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), tmpdir ${tmpdir()}${quick ? ', quick' : ''}`,
)
await serialLatency()
await concurrentAppenders()
await replay()
