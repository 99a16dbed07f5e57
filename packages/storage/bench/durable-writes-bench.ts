/**
 * Durable writes (issue #14, "Durable writes without blocking"): where a durable put's time goes,
 * from the raw cost of a write plus an fdatasync, through the log, to the store, and what the
 * sync thread (@alex/wal sync-thread.ts) changes against the libuv thread pool. Ratios within one
 * run, variants interleaved round by round (the machine is shared: absolute times are for
 * orientation only).
 *
 *   npx tsx bench/durable-writes-bench.ts [--rounds 8] [--serial 300] [--per-writer 300]
 *
 * 1. One writer awaiting each durable put (128-byte values):
 *    raw `writeSync` + `fdatasyncSync` (the floor: what a blocking engine pays), the log
 *    (`wal.append`, sync 'always') and the store (`put`, sync 'always'), each with the sync
 *    thread, with the thread pool, and blocking (`blockingSync`).
 * 2. 64 concurrent durable writers (group commit): the log alone against the store, sync thread
 *    and thread pool, with the figures that say where the difference goes: fsyncs and mean group
 *    size (how many writes one fdatasync carries), and the event loop's busy time per write
 *    (`performance.eventLoopUtilization`: the CPU the single JS thread spends per write, which
 *    bounds the rate once the disk is not the limit).
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { benchFlags, median } from '@alex/test-support/bench'
import { NodeFileSystem, Wal } from '@alex/wal'
import { AlexStorage } from '../src/index.js'

const USAGE = `Usage: npx tsx bench/durable-writes-bench.ts [--rounds 8] [--serial 300] [--per-writer 300]

  --rounds N       interleaved rounds per variant, medians reported (default 8)
  --serial N       awaited puts per serial round (default 300)
  --per-writer N   puts per writer in a 64-writer round (default 300)`
const { numbers } = benchFlags(process.argv.slice(2), {
  usage: USAGE,
  numbers: { rounds: 8, serial: 300, 'per-writer': 300 },
})
const ROUNDS = numbers.rounds
const SERIAL = numbers.serial
const PER_WRITER = numbers['per-writer']
const WRITERS = 64
const VALUE = new Uint8Array(128).fill(7)
const root = mkdtempSync(join(tmpdir(), 'alex-durable-bench-'))
let dirs = 0
const freshDir = () => join(root, `d${dirs++}`)

type Sync = 'thread' | 'pool' | 'blocking'
const fsFor = (sync: Sync) => new NodeFileSystem({ syncThread: sync === 'thread' })

/** µs per raw append + fdatasyncSync of one 153-byte frame's worth of bytes. */
function rawSerial(): number {
  const path = join(root, `raw${dirs++}`)
  const fd = openSync(path, 'w')
  const bytes = new Uint8Array(153).fill(1)
  writeSync(fd, bytes)
  fdatasyncSync(fd)
  const t = performance.now()
  for (let i = 0; i < SERIAL; i++) {
    writeSync(fd, bytes)
    fdatasyncSync(fd)
  }
  const us = ((performance.now() - t) * 1000) / SERIAL
  closeSync(fd)
  rmSync(path)
  return us
}

/** µs per awaited durable `wal.append`. */
async function logSerial(sync: Sync): Promise<number> {
  const wal = await Wal.open(freshDir(), {
    fs: fsFor(sync),
    sync: 'always',
    blockingSync: sync === 'blocking',
  })
  for (let i = 0; i < 20; i++) await wal.append({ type: 'put', key: -i - 1, value: VALUE })
  const t = performance.now()
  for (let i = 0; i < SERIAL; i++) await wal.append({ type: 'put', key: i, value: VALUE })
  const us = ((performance.now() - t) * 1000) / SERIAL
  await wal.close()
  return us
}

/** µs per awaited durable `put`. */
async function storeSerial(sync: Sync): Promise<number> {
  const db = await AlexStorage.open(freshDir(), {
    fs: fsFor(sync),
    sync: 'always',
    blockingSync: sync === 'blocking',
  })
  for (let i = 0; i < 20; i++) await db.put(-i - 1, VALUE)
  const t = performance.now()
  for (let i = 0; i < SERIAL; i++) await db.put(i, VALUE)
  const us = ((performance.now() - t) * 1000) / SERIAL
  await db.close()
  return us
}

interface Concurrent {
  perSec: number
  fsyncs: number
  group: number
  /** Event-loop busy µs per write. */
  busyUs: number
}

/** 64 writers, each awaiting its own durable write, into the log or the store. */
async function concurrent(target: 'log' | 'store', sync: Sync): Promise<Concurrent> {
  const dir = freshDir()
  const opts = { fs: fsFor(sync), sync: 'always' as const }
  const wal = target === 'log' ? await Wal.open(dir, opts) : undefined
  const db = target === 'store' ? await AlexStorage.open(dir, opts) : undefined
  const put = wal
    ? (key: number) => wal.append({ type: 'put', key, value: VALUE })
    : (key: number) => (db as AlexStorage).put(key, VALUE)
  for (let i = 0; i < 50; i++) await put(-i - 1)
  const before = wal ? wal.stats() : (db as AlexStorage).stats().wal
  let next = 0
  const writer = async () => {
    for (let i = 0; i < PER_WRITER; i++) await put(next++ * 1.5)
  }
  const elu = performance.eventLoopUtilization()
  const t = performance.now()
  await Promise.all(Array.from({ length: WRITERS }, writer))
  const ms = performance.now() - t
  const busy = performance.eventLoopUtilization(elu)
  const after = wal ? wal.stats() : (db as AlexStorage).stats().wal
  const writes = WRITERS * PER_WRITER
  const fsyncs = after.fsyncs - before.fsyncs
  await (wal ?? (db as AlexStorage)).close()
  return {
    perSec: writes / (ms / 1000),
    fsyncs,
    group: writes / Math.max(1, fsyncs),
    busyUs: (busy.active * 1000) / writes,
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

async function serialSection(): Promise<void> {
  const names = [
    'raw',
    'log thread',
    'log pool',
    'log blocking',
    'store thread',
    'store pool',
    'store blocking',
  ] as const
  const us = new Map<string, number[]>(names.map((n) => [n, []]))
  const ratio = (a: string, b: string, i: number) =>
    (us.get(a)![i] as number) / (us.get(b)![i] as number)
  for (let r = 0; r < ROUNDS; r++) {
    us.get('raw')!.push(rawSerial())
    for (const sync of ['thread', 'pool', 'blocking'] as const) {
      us.get(`log ${sync}`)!.push(await logSerial(sync))
      us.get(`store ${sync}`)!.push(await storeSerial(sync))
    }
  }
  console.log(
    `1. one writer, ${SERIAL} awaited durable writes of 128 bytes per round, ${ROUNDS} rounds`,
  )
  for (const n of names)
    console.log(`   ${n.padEnd(16)} ${fmt(median(us.get(n)!)).padStart(6)} µs per write (median)`)
  const perRound = (a: string, b: string) => median(us.get(a)!.map((_, i) => ratio(a, b, i)))
  console.log('   median per-round ratios (time):')
  console.log(
    `     store thread / store pool      ${perRound('store thread', 'store pool').toFixed(2)}`,
  )
  console.log(
    `     store thread / store blocking  ${perRound('store thread', 'store blocking').toFixed(2)}`,
  )
  console.log(`     store thread / raw (floor)     ${perRound('store thread', 'raw').toFixed(2)}`)
  console.log(
    `     store thread / log thread      ${perRound('store thread', 'log thread').toFixed(2)}`,
  )
  console.log(
    `     log thread / log pool          ${perRound('log thread', 'log pool').toFixed(2)}`,
  )
}

async function concurrentSection(): Promise<void> {
  const variants = [
    ['log', 'thread'],
    ['log', 'pool'],
    ['store', 'thread'],
    ['store', 'pool'],
  ] as const
  const runs = new Map<string, Concurrent[]>(variants.map(([t, s]) => [`${t} ${s}`, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const [t, s] of variants) runs.get(`${t} ${s}`)!.push(await concurrent(t, s))
  }
  console.log(
    `\n2. ${WRITERS} concurrent durable writers x ${PER_WRITER} writes, ${ROUNDS} rounds (medians)`,
  )
  console.log(
    '   variant          writes/s   fsyncs  writes per fsync  event-loop busy µs per write',
  )
  for (const [name, list] of runs) {
    const m = (f: (c: Concurrent) => number) => median(list.map(f))
    console.log(
      `   ${name.padEnd(14)} ${fmt(m((c) => c.perSec)).padStart(10)} ${fmt(m((c) => c.fsyncs)).padStart(8)} ${fmt(
        m((c) => c.group),
        1,
      ).padStart(17)} ${fmt(
        m((c) => c.busyUs),
        2,
      ).padStart(29)}`,
    )
  }
  const ratio = (a: string, b: string) =>
    median(runs.get(a)!.map((c, i) => c.perSec / (runs.get(b)![i] as Concurrent).perSec))
  console.log(
    `   store thread / log thread (writes/s, per round): ${ratio('store thread', 'log thread').toFixed(2)}`,
  )
  console.log(
    `   store thread / store pool (writes/s, per round): ${ratio('store thread', 'store pool').toFixed(2)}`,
  )
}

async function main(): Promise<void> {
  console.log(`durable writes, Node ${process.version}\n`)
  await serialSection()
  await concurrentSection()
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => rmSync(root, { recursive: true, force: true }))
