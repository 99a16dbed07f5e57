/**
 * Snapshots (issue 12 part A): what reading through `db.snapshot()` costs against reading the
 * live store, and what open snapshots cost the writer. Every figure is a ratio measured in this
 * one run on the same store (the machine is shared: absolute times are for orientation only).
 *
 *   npx tsx bench/snapshot-bench.ts [--keys 1000000] [--value 128] [--rounds 3]
 *
 * 1. random get of existing keys: `snap.get` vs `db.get`, with a snapshot over an unchanged
 *    store and with one under which 10% of the keys were overwritten or deleted since (those
 *    reads go through the version history);
 * 2. range scans of 100 entries from random starts: `snap.entries` vs `db.entries`, same two
 *    cases (a snapshot scan merges the index with the history's keys), and each scan in a
 *    snapshot of its own, taken and released around it (what `db.entries()` would cost if it
 *    iterated a snapshot by default, as LevelDB's iterators do);
 * 3. writer throughput, 64 puts in flight (sync 'none', so the apply step dominates), overwriting
 *    random existing keys, with 0, 1 and 10 snapshots open (10: one taken every tenth of the
 *    writes, so each write is recorded once for all of them).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchFlags, makeDataset, makeQueries, median, Random } from '@alex/test-support/bench'
import { AlexStorage, type Snapshot } from '../src/index.js'
import { BULK_LOAD_OPTIONS, writeInBatches } from './workload.js'

const { numbers } = benchFlags(process.argv.slice(2), {
  usage: `Usage: npx tsx bench/snapshot-bench.ts [--keys 1000000] [--value 128] [--rounds 3]

  --keys N     entries loaded (default 1000000)
  --value N    value bytes (default 128)
  --rounds N   rounds per timing, median reported (default 3)`,
  numbers: { keys: 1_000_000, value: 128, rounds: 3 },
})
const N = numbers.keys
const VALUE = numbers.value
const ROUNDS = numbers.rounds
const GETS = Math.min(N, 1_000_000)
const SCANS = 20_000
const WRITES = Math.min(N, 200_000)
const IN_FLIGHT = 64

/** Something the reads feed, so the JIT cannot drop them. */
let sink = 0

type Reader = Pick<AlexStorage, 'get' | 'entries'> | Snapshot

/** ns per get of `queries` through `r`. */
function gets(r: Reader, queries: Float64Array): number {
  const t0 = performance.now()
  for (let i = 0; i < queries.length; i++) {
    const v = r.get(queries[i]!)
    if (v !== undefined) sink += v.length + v[0]!
  }
  return ((performance.now() - t0) * 1e6) / queries.length
}

/** µs per scan of 100 entries from each of `starts`. */
function scans(r: Reader, starts: Float64Array): number {
  const t0 = performance.now()
  for (let i = 0; i < starts.length; i++) {
    for (const [k, v] of r.entries({ gte: starts[i]!, limit: 100 })) sink += k + v.length
  }
  return ((performance.now() - t0) * 1e3) / starts.length
}

/** µs per scan of 100 entries, each in a snapshot of its own (what a snapshot-by-default costs). */
function ownSnapshotScans(db: AlexStorage, starts: Float64Array): number {
  const t0 = performance.now()
  for (let i = 0; i < starts.length; i++) {
    const snap = db.snapshot()
    for (const [k, v] of snap.entries({ gte: starts[i]!, limit: 100 })) sink += k + v.length
    snap.release()
  }
  return ((performance.now() - t0) * 1e3) / starts.length
}

/** Median over ROUNDS of `measure`, alternating live and snapshot rounds. */
function paired(live: () => number, snap: () => number): { live: number; snap: number } {
  const l: number[] = []
  const s: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    l.push(live())
    s.push(snap())
  }
  return { live: median(l), snap: median(s) }
}

/** Overwrites `count` random keys of `keys` with 64 puts in flight; returns puts per second. */
async function overwrite(
  db: AlexStorage,
  keys: Float64Array,
  count: number,
  seed: number,
  onProgress?: (done: number) => void,
): Promise<number> {
  const random = new Random(seed)
  const value = new Uint8Array(VALUE).fill(seed & 255)
  let issued = 0
  const t0 = performance.now()
  const worker = async () => {
    while (issued < count) {
      issued++
      onProgress?.(issued)
      await db.put(keys[random.nextUint32() % keys.length]!, value)
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return count / ((performance.now() - t0) / 1000)
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'alex-snapshot-bench-'))
  try {
    const { keys, values } = makeDataset(N, VALUE)
    const db = await AlexStorage.open(join(root, 'db'), {
      ...BULK_LOAD_OPTIONS,
      cacheBytes: 2 ** 40, // everything resident: the read paths, not the disk
    })
    await writeInBatches(db, keys, values, VALUE, 1000)
    await db.checkpoint()
    console.log(`store: ${N} keys x ${VALUE} B; medians of ${ROUNDS} rounds`)
    const queries = makeQueries(keys, GETS)
    const random = new Random(7)
    const starts = new Float64Array(SCANS)
    for (let i = 0; i < SCANS; i++) starts[i] = keys[random.nextUint32() % N]!

    // 1 and 2 over an unchanged store.
    let snap = db.snapshot()
    const g0 = paired(
      () => gets(db, queries),
      () => gets(snap, queries),
    )
    const s0 = paired(
      () => scans(db, starts),
      () => scans(snap, starts),
    )
    snap.release()
    const own = paired(
      () => scans(db, starts),
      () => ownSnapshotScans(db, starts),
    )

    // 1 and 2 with 10% of the keys changed since the snapshot (9% overwritten, 1% deleted).
    snap = db.snapshot()
    const changes = []
    for (let i = 0; i < N / 10; i++) {
      const k = keys[(i * 7919) % N]!
      changes.push(
        i % 10 === 0
          ? { type: 'delete' as const, key: k }
          : { type: 'put' as const, key: k, value: values.subarray(0, VALUE) },
      )
    }
    for (let i = 0; i < changes.length; i += 1000) await db.batch(changes.slice(i, i + 1000))
    const g1 = paired(
      () => gets(db, queries),
      () => gets(snap, queries),
    )
    const s1 = paired(
      () => scans(db, starts),
      () => scans(snap, starts),
    )
    snap.release()

    console.log('\nreads through a snapshot vs the live store (ratio = snapshot / live)')
    const row = (what: string, unit: string, m: { live: number; snap: number }) =>
      console.log(
        `  ${what.padEnd(44)} live ${m.live.toFixed(1).padStart(7)} ${unit}  snapshot ${m.snap
          .toFixed(1)
          .padStart(7)} ${unit}  ${ratio(m.snap, m.live)}`,
      )
    row('random get, nothing changed since', 'ns', g0)
    row('random get, 10% of keys changed since', 'ns', g1)
    row('scan of 100, nothing changed since', 'µs', s0)
    row('scan of 100, 10% of keys changed since', 'µs', s1)
    row('scan of 100, each in its own snapshot', 'µs', own)

    // 3. Writer throughput with 0, 1 and 10 snapshots open (rounds interleaved).
    const rates: Record<0 | 1 | 10, number[]> = { 0: [], 1: [], 10: [] }
    let seed = 100
    for (let r = 0; r < ROUNDS; r++) {
      for (const open of [0, 1, 10] as const) {
        const held: Snapshot[] = []
        const every = Math.ceil(WRITES / Math.max(open, 1))
        const take = (done: number) => {
          if (open > 0 && held.length < open && done % every === 1) held.push(db.snapshot())
        }
        await db.checkpoint() // the same starting point for every variant
        rates[open].push(await overwrite(db, keys, WRITES, seed++, take))
        for (const s of held) s.release()
      }
    }
    const w0 = median(rates[0])
    console.log(`\nwriter: ${WRITES} overwrites, ${IN_FLIGHT} in flight, sync 'none'`)
    for (const open of [0, 1, 10] as const) {
      const w = median(rates[open])
      console.log(
        `  ${String(open).padStart(2)} snapshots open: ${(w / 1000).toFixed(0).padStart(5)} k puts/s  ${ratio(w, w0)} of none`,
      )
    }
    await db.close()
    if (sink === 0.5) console.log('') // keeps `sink` alive
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

await main()
