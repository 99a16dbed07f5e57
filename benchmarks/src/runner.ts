/**
 * Runs the selected workloads against one engine on a fresh directory, inside the child
 * process. Deterministic: the dataset and every operation plan come from the seed, so all
 * engines see the same keys, values and operation sequence.
 *
 * Correctness is checked during the run: every value read (point reads, read-modify-writes,
 * scans) is compared byte for byte with what was last written; a mismatch throws a
 * CorrectnessError and fails the run.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { getEngine, type KvEntry, type KvStore } from '@alex/compare'
import { Random, ScrambledZipf, Zipf } from '@alex/test-support/bench'
import { Dataset } from './dataset.js'
import { type DiskSize, directorySize, peakRssBytes } from './footprint.js'
import { LatencyRecorder } from './measure.js'
import type { ChildConfig, ChildMessage, WorkloadResult } from './protocol.js'
import { headlinePhase, READERS_ENGINES } from './readers/plan.js'
import { runReaders } from './readers/scenario.js'
import {
  type Durability,
  effectiveDurability,
  insertsOf,
  type Workload,
  workloadById,
} from './workloads.js'

/** A read returned something other than the last value written: the run is invalid. */
export class CorrectnessError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CorrectnessError'
  }
}

const READ = 0
const UPDATE = 1
const INSERT = 2
const RMW = 3
const SCAN = 4

/** Keys per batch in the bulk load, the same for every engine. */
export const LOAD_BATCH = 1000
/** Writers in the concurrent workload. */
export const WRITERS = 64
/** Entries per scan in range-100, and the maximum in YCSB E. */
export const SCAN_LENGTH = 100
/** Loops faster than a microsecond record every 8th latency (timer cost is ~50 ns). */
const SAMPLE_MASK = 7

interface Plan {
  readonly types: Uint8Array
  readonly idx: Int32Array
  readonly lens: Uint8Array
}

type Send = (message: ChildMessage) => void

/** State of one child's run. */
class Run {
  readonly config: ChildConfig
  readonly ds: Dataset
  /** Version of the value of each key index; 0 = not present. */
  readonly version: Uint32Array
  /** Loaded keys; plus inserted ones, the next free indices are tracked by the cursors. */
  present: number
  nextRandomInsert: number
  nextSequentialInsert: number
  /** Key indices written by durable workloads, read back at the end. */
  readonly writtenDurably: number[] = []
  private keyToIdx: Map<number, number> | undefined
  readonly send: Send
  store!: KvStore
  storeDurable = false
  readonly dir: string
  /** The fresh store of the ingest workload while it exists (removed on a signal too). */
  ingestDir: string | undefined
  verified = 0

  constructor(config: ChildConfig, send: Send) {
    this.config = config
    this.send = send
    const n = config.scale
    let random = 0
    let sequential = 0
    for (const id of config.workloads) {
      const extra = insertsOf(workloadById(id), n)
      random += extra.random
      sequential += extra.sequential
    }
    this.ds = new Dataset(
      config.seed,
      config.distribution,
      { loaded: n, randomInserts: random, sequentialInserts: sequential },
      config.valueSize,
    )
    this.version = new Uint32Array(this.ds.keys.length)
    this.present = 0
    this.nextRandomInsert = this.ds.firstRandomInsert
    this.nextSequentialInsert = this.ds.firstSequentialInsert
    this.dir = mkdtempSync(join(config.tmpRoot, `alex-bench-${config.engine}-`))
  }

  /** Key index -> key lookup for scan verification (built on first use). */
  indexOf(key: number): number | undefined {
    if (this.keyToIdx === undefined) {
      const m = new Map<number, number>()
      const keys = this.ds.keys
      for (let i = 0; i < keys.length; i++) m.set(keys[i]!, i)
      this.keyToIdx = m
    }
    return this.keyToIdx.get(key)
  }

  fail(what: string, i: number, got: Uint8Array | undefined): never {
    const key = this.ds.keys[i]
    const v = this.version[i]
    const shown = got === undefined ? 'undefined' : `${got.length} bytes that differ`
    throw new CorrectnessError(
      `${this.config.engine}: ${what} of key ${key} (index ${i}) returned ${shown}; expected version ${v} of the value written`,
    )
  }

  check(v: Uint8Array | undefined, i: number, what: string): void {
    if (v === undefined || !this.ds.matches(v, i, this.version[i]!)) this.fail(what, i, v)
  }

  async ensureDurability(d: Durability): Promise<void> {
    if (d === 'none') return
    const durable = d === 'durable'
    if (durable === this.storeDurable) return
    // In-memory references have no durability to change (and would lose their data).
    if (!getEngine(this.config.engine).capabilities.persistent) {
      this.storeDurable = durable
      return
    }
    await this.store.close()
    this.store = await getEngine(this.config.engine).open(this.dir, { durable })
    this.storeDurable = durable
  }

  progress(workload: WorkloadId | 'setup' | 'verify', done: number, total: number): void {
    this.send({ type: 'progress', workload, done, total })
  }
}

type WorkloadId = ChildConfig['workloads'][number]

/** Seed of the random stream of one workload phase: the same in every engine's child. */
function phaseSeed(seed: number, workload: WorkloadId, phase: number): number {
  let h = seed ^ 0x5bd1e995
  for (let i = 0; i < workload.length; i++) h = Math.imul(h ^ workload.charCodeAt(i), 0x01000193)
  return (h ^ (phase * 0x27d4eb2d)) >>> 0
}

/** Builds the operation plan of a workload phase, advancing the insert cursors. */
function makePlan(run: Run, w: Workload, phase: number, ops: number): Plan {
  const random = new Random(phaseSeed(run.config.seed, w.id, phase))
  const types = new Uint8Array(ops)
  const idx = new Int32Array(ops)
  const lens = new Uint8Array(w.kind === 'scan' ? ops : 0)
  const loaded = run.config.scale
  const zipf = w.chooser === 'zipf' ? new ScrambledZipf(loaded) : undefined
  const latest = w.chooser === 'latest' ? new Zipf(loaded) : undefined
  let present = run.present
  const choose = (): number => {
    if (zipf !== undefined) return zipf.next(random)
    if (latest !== undefined) {
      // Newest first: the most recently inserted key is the most popular.
      const back = latest.next(random)
      const lastInserted = run.nextRandomInsert - 1
      const recent = lastInserted - back
      if (recent >= run.ds.firstRandomInsert) return recent
      return Math.max(0, loaded - 1 - (back - (lastInserted - run.ds.firstRandomInsert + 1)))
    }
    return random.below(loaded)
  }
  for (let i = 0; i < ops; i++) {
    if (w.kind === 'insert-seq') {
      types[i] = INSERT
      idx[i] = run.nextSequentialInsert++
      present++
      continue
    }
    const isRead = random.next() < w.readFraction
    if (!isRead && w.write === 'insert') {
      if (run.nextRandomInsert >= run.ds.firstSequentialInsert) {
        throw new Error(`${w.id}: ran out of pre-generated insert keys`)
      }
      types[i] = INSERT
      idx[i] = run.nextRandomInsert++
      present++
      continue
    }
    idx[i] = choose()
    if (w.kind === 'scan') {
      types[i] = isRead ? SCAN : UPDATE
      lens[i] = w.id === 'range-100' ? SCAN_LENGTH : 1 + random.below(SCAN_LENGTH)
    } else {
      types[i] = isRead ? READ : w.write === 'rmw' ? RMW : UPDATE
    }
  }
  run.present = present
  return { types, idx, lens }
}

/** Every `present` key in order, for checking that range-100 returns exactly the next keys. */
function sortedPresentKeys(run: Run): Float64Array {
  const out = new Float64Array(run.present)
  let n = 0
  const keys = run.ds.keys
  for (let i = 0; i < keys.length; i++) if (run.version[i]! > 0) out[n++] = keys[i]!
  return out.subarray(0, n).sort()
}

function lowerBound(sorted: Float64Array, key: number): number {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Checks a scan from key index `start`: bounds, order, values, and (given `sorted`) the set. */
function checkScan(
  run: Run,
  entries: KvEntry[],
  start: number,
  limit: number,
  sorted: Float64Array | undefined,
): void {
  const keys = run.ds.keys
  const startKey = keys[start]!
  const engine = run.config.engine
  if (entries.length > limit) {
    throw new CorrectnessError(
      `${engine}: scan from ${startKey} returned ${entries.length} > ${limit}`,
    )
  }
  if (entries.length === 0 || entries[0]![0] !== startKey) {
    throw new CorrectnessError(`${engine}: scan from existing key ${startKey} did not start at it`)
  }
  let pos = 0
  if (sorted !== undefined) {
    pos = lowerBound(sorted, startKey)
    const expected = Math.min(limit, sorted.length - pos)
    if (entries.length !== expected) {
      throw new CorrectnessError(
        `${engine}: scan from ${startKey} returned ${entries.length} entries, expected ${expected}`,
      )
    }
  }
  let prev = Number.NEGATIVE_INFINITY
  for (let j = 0; j < entries.length; j++) {
    const [k, v] = entries[j]!
    if (!(k > prev) || (sorted !== undefined && k !== sorted[pos + j])) {
      throw new CorrectnessError(`${engine}: scan from ${startKey} has key ${k} out of order`)
    }
    prev = k
    const i = run.indexOf(k)
    if (i === undefined || run.version[i] === 0) {
      throw new CorrectnessError(`${engine}: scan returned key ${k}, which was never written`)
    }
    run.check(v, i, 'scan')
  }
  run.verified += entries.length
}

async function runLoad(run: Run, measured: boolean): Promise<WorkloadResult | undefined> {
  const n = run.config.scale
  const keys = run.ds.keys
  const rec = new LatencyRecorder()
  let elapsed = 0
  const batches = Math.ceil(n / LOAD_BATCH)
  for (let b = 0; b < batches; b++) {
    const ops: { type: 'put'; key: number; value: Uint8Array }[] = []
    const end = Math.min(n, (b + 1) * LOAD_BATCH)
    for (let i = b * LOAD_BATCH; i < end; i++) {
      ops.push({ type: 'put', key: keys[i]!, value: run.ds.value(i, 1) })
    }
    const t0 = performance.now()
    await run.store.batch(ops)
    const dt = performance.now() - t0
    elapsed += dt
    rec.recordMs(dt)
    for (let i = b * LOAD_BATCH; i < end; i++) run.version[i] = 1
    if ((b & 63) === 0) run.progress('load', b * LOAD_BATCH, n)
  }
  const t0 = performance.now()
  await run.store.sync()
  elapsed += performance.now() - t0
  run.present = n
  if (!measured) return undefined
  return {
    workload: 'load',
    durability: 'end',
    unsupported: false,
    ops: n,
    elapsedMs: elapsed,
    opsPerSec: (n / elapsed) * 1e3,
    nsPerOp: (elapsed * 1e6) / n,
    latency: rec.summary(),
    verifiedValues: 0,
  }
}

/** Keys read back after the ingest workload's load (plus the first and the last). */
const INGEST_CHECKS = 10_000

/**
 * The `ingest` workload: the loaded keys, ascending, with their first values, into a fresh
 * store by one `bulkLoad` call (timed whole; building the columns is not). Then, untimed, the
 * store is closed and reopened (persistent engines) and a sample of keys read back and checked.
 */
async function runIngest(run: Run, w: Workload): Promise<WorkloadResult> {
  const n = run.config.scale
  const engine = getEngine(run.config.engine)
  const dsKeys = run.ds.keys
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  order.sort((a, b) => dsKeys[a]! - dsKeys[b]!)
  const keys = new Float64Array(n)
  const values: Uint8Array[] = new Array(n)
  for (let j = 0; j < n; j++) {
    keys[j] = dsKeys[order[j]!]!
    values[j] = run.ds.value(order[j]!, 1)
  }
  const dir = mkdtempSync(join(run.config.tmpRoot, `alex-bench-ingest-${run.config.engine}-`))
  run.ingestDir = dir
  const rec = new LatencyRecorder()
  let store = await engine.open(dir, { durable: false })
  try {
    run.progress(w.id, 0, n)
    const t0 = performance.now()
    await store.bulkLoad({ keys, values })
    const elapsed = performance.now() - t0
    rec.recordMs(elapsed)
    run.progress(w.id, n, n)
    if (engine.capabilities.persistent) {
      await store.close()
      store = await engine.open(dir, { durable: false })
    }
    const random = new Random(phaseSeed(run.config.seed, w.id, 1))
    let verified = 0
    for (let c = 0; c < Math.min(n, INGEST_CHECKS) + 2; c++) {
      const j = c === 0 ? 0 : c === 1 ? n - 1 : random.below(n)
      const i = order[j]!
      const v = await store.get(dsKeys[i]!)
      if (v === undefined || !run.ds.matches(v, i, 1)) {
        throw new CorrectnessError(
          `${run.config.engine}: after bulkLoad, key ${dsKeys[i]} (index ${i}) read ${v === undefined ? 'undefined' : 'a wrong value'}`,
        )
      }
      verified++
    }
    return {
      workload: w.id,
      durability: 'end',
      unsupported: false,
      ops: n,
      elapsedMs: elapsed,
      opsPerSec: (n / elapsed) * 1e3,
      nsPerOp: (elapsed * 1e6) / n,
      latency: rec.summary(),
      verifiedValues: verified,
    }
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
    run.ingestDir = undefined
  }
}

/** Point reads on an engine with synchronous `get`: a tight loop, no promises. */
function readsSync(run: Run, plan: Plan, rec: LatencyRecorder | undefined, id: WorkloadId): number {
  const { idx } = plan
  const keys = run.ds.keys
  const store = run.store
  const ops = idx.length
  const t0 = performance.now()
  let lastProgress = t0
  for (let i = 0; i < ops; i++) {
    const k = idx[i]!
    if (rec !== undefined && (i & SAMPLE_MASK) === 0) {
      const s = performance.now()
      const v = store.get(keys[k]!) as Uint8Array | undefined
      rec.recordMs(performance.now() - s)
      if (v === undefined || !run.ds.matches(v, k, run.version[k]!)) run.fail('get', k, v)
    } else {
      const v = store.get(keys[k]!) as Uint8Array | undefined
      if (v === undefined || !run.ds.matches(v, k, run.version[k]!)) run.fail('get', k, v)
    }
    if ((i & 0xffff) === 0xffff) {
      const now = performance.now()
      if (now - lastProgress > 200) {
        lastProgress = now
        run.progress(id, i, ops)
      }
    }
  }
  run.verified += ops
  return performance.now() - t0
}

/** Any mix of reads, updates, inserts, read-modify-writes and scans, one client. */
async function mixAsync(
  run: Run,
  w: Workload,
  plan: Plan,
  rec: LatencyRecorder | undefined,
  sorted: Float64Array | undefined,
): Promise<number> {
  const { types, idx, lens } = plan
  const keys = run.ds.keys
  const store = run.store
  const version = run.version
  const syncGet = getEngine(run.config.engine).capabilities.syncGet
  const syncRange = getEngine(run.config.engine).capabilities.syncRange
  // Times of writes in a scan workload count too (they are part of its operations).
  let busyRef = 0
  const record = (ms: number): void => {
    busyRef += ms
    rec?.recordMs(ms)
  }
  // Scans are timed one by one and their time excludes checking up to 100 entries (which
  // would otherwise dominate the fastest engines); a timer read is nothing next to a scan.
  const scans = w.kind === 'scan'
  const mask = w.kind === 'insert-seq' || w.kind === 'mix' ? SAMPLE_MASK : 0
  const ops = types.length
  const t0 = performance.now()
  let lastProgress = t0
  let busy = 0
  for (let i = 0; i < ops; i++) {
    const t = types[i]!
    const k = idx[i]!
    const timed = scans || (rec !== undefined && (i & mask) === 0)
    const s = timed ? performance.now() : 0
    if (t === READ) {
      const v = syncGet
        ? (store.get(keys[k]!) as Uint8Array | undefined)
        : await store.get(keys[k]!)
      if (timed) record(performance.now() - s)
      if (v === undefined || !run.ds.matches(v, k, version[k]!)) run.fail('get', k, v)
      run.verified++
    } else if (t === SCAN) {
      const o = { gte: keys[k]!, limit: lens[i]! }
      const entries = syncRange ? (store.range(o) as KvEntry[]) : await store.range(o)
      const dt = performance.now() - s
      busy += dt
      rec?.recordMs(dt)
      checkScan(run, entries, k, lens[i]!, sorted)
    } else if (t === RMW) {
      // The engine's read-modify-write (@alex/compare readModifyWrite): the read value is
      // checked inside `modify`, which then returns the next version.
      const current = version[k]!
      const next = current + 1
      let wrong: { v: Uint8Array | undefined } | undefined
      await store.readModifyWrite(keys[k]!, (v) => {
        if (v === undefined || !run.ds.matches(v, k, current)) {
          wrong = { v: v?.slice() }
          return undefined
        }
        return run.ds.value(k, next)
      })
      if (timed) record(performance.now() - s)
      if (wrong !== undefined) run.fail('read-modify-write', k, wrong.v)
      run.verified++
      version[k] = next
      if (run.storeDurable) run.writtenDurably.push(k)
    } else {
      // UPDATE or INSERT: both a put of the next version (inserts start at version 1).
      const next = version[k]! + 1
      await store.put(keys[k]!, run.ds.value(k, next))
      if (timed) record(performance.now() - s)
      version[k] = next
      if (run.storeDurable) run.writtenDurably.push(k)
    }
    if ((i & 0x3ff) === 0x3ff) {
      const now = performance.now()
      if (now - lastProgress > 200) {
        lastProgress = now
        run.progress(w.id, i, ops)
      }
    }
  }
  return scans ? busy + busyRef : performance.now() - t0
}

/** WRITERS concurrent writers, each awaiting its own durable put of distinct keys. */
async function concurrent(
  run: Run,
  w: Workload,
  ops: number,
  phase: number,
  rec: LatencyRecorder | undefined,
): Promise<number> {
  const random = new Random(phaseSeed(run.config.seed, w.id, phase))
  // Distinct keys (a partial Fisher-Yates shuffle), so no two writers race on one key.
  const loaded = run.config.scale
  const chosen = new Map<number, number>()
  const targets = new Int32Array(ops)
  for (let i = 0; i < ops; i++) {
    const j = i + random.below(loaded - i)
    targets[i] = chosen.get(j) ?? j
    chosen.set(j, chosen.get(i) ?? i)
  }
  const keys = run.ds.keys
  const store = run.store
  let done = 0
  const writer = async (wi: number): Promise<void> => {
    for (let i = wi; i < ops; i += WRITERS) {
      const k = targets[i]!
      const next = run.version[k]! + 1
      const s = performance.now()
      await store.put(keys[k]!, run.ds.value(k, next))
      if (rec !== undefined) rec.recordMs(performance.now() - s)
      run.version[k] = next
      run.writtenDurably.push(k)
      if ((++done & 0xff) === 0) run.progress(w.id, done, ops)
    }
  }
  const t0 = performance.now()
  const writers: Promise<void>[] = []
  for (let wi = 0; wi < WRITERS; wi++) writers.push(writer(wi))
  await Promise.all(writers)
  return performance.now() - t0
}

/** Runs one workload; undefined when it is not run in this repetition (readers after the first). */
async function runWorkload(run: Run, w: Workload): Promise<WorkloadResult | undefined> {
  const durability = effectiveDurability(w, run.config.durability)
  const caps = getEngine(run.config.engine).capabilities
  const n = run.config.scale
  const ops = w.ops(n)
  const empty: WorkloadResult = {
    workload: w.id,
    durability,
    unsupported: true,
    ops: 0,
    elapsedMs: 0,
    opsPerSec: 0,
    nsPerOp: 0,
    latency: { p50: 0, p99: 0, p999: 0, max: 0, samples: 0 },
    verifiedValues: 0,
  }
  if (w.kind === 'scan' && !caps.range) return empty
  if (w.kind === 'ingest') return runIngest(run, w)
  if (w.kind === 'readers') {
    // Timed phases of a few seconds each: AlexStorage and LMDB, first repetition only (no
    // result at all in the others, so the medians are of the one run).
    if (!READERS_ENGINES.includes(run.config.engine)) return empty
    if (run.config.rep !== 1) return undefined
    return readersWorkload(run, w, durability)
  }
  await run.ensureDurability(durability)
  const rec = new LatencyRecorder()
  let elapsed: number
  const before = run.verified
  if (w.kind === 'concurrent') {
    await concurrent(run, w, w.warmup(n), 0, undefined)
    elapsed = await concurrent(run, w, ops, 1, rec)
  } else {
    const warm = makePlan(run, w, 0, w.warmup(n))
    const sortedWarm = w.id === 'range-100' ? sortedPresentKeys(run) : undefined
    const pureSyncReads = w.kind === 'mix' && w.readFraction === 1 && caps.syncGet
    if (pureSyncReads) readsSync(run, warm, undefined, w.id)
    else await mixAsync(run, w, warm, undefined, sortedWarm)
    const plan = makePlan(run, w, 1, ops)
    run.verified = before
    elapsed = pureSyncReads
      ? readsSync(run, plan, rec, w.id)
      : await mixAsync(run, w, plan, rec, sortedWarm)
  }
  return {
    workload: w.id,
    durability,
    unsupported: false,
    ops,
    elapsedMs: elapsed,
    opsPerSec: (ops / elapsed) * 1e3,
    nsPerOp: (elapsed * 1e6) / ops,
    latency: rec.summary(),
    verifiedValues: run.verified - before,
  }
}

/** The `readers` workload (src/readers/) on this child's store; its headline is 2 reader processes. */
async function readersWorkload(
  run: Run,
  w: Workload,
  durability: Durability,
): Promise<WorkloadResult> {
  const config = run.config
  const detail = await runReaders({
    engine: config.engine,
    scale: config.scale,
    seed: config.seed,
    distribution: config.distribution,
    valueSize: config.valueSize,
    shape: run.ds.shape,
    dir: run.dir,
    ds: run.ds,
    version: run.version,
    written: run.writtenDurably,
    closeStore: () => run.store.close(),
    reopenStore: async () => {
      run.store = await getEngine(config.engine).open(run.dir, { durable: true })
      run.storeDurable = true
    },
    progress: (done, total) => run.progress(w.id, done, total),
    fail: (message) => {
      throw new CorrectnessError(message)
    },
  })
  run.verified += detail.verified
  const h = headlinePhase(detail)
  return {
    workload: w.id,
    durability,
    unsupported: false,
    ops: h.reads,
    elapsedMs: detail.windowMs,
    opsPerSec: h.readsPerSec,
    nsPerOp: h.readsPerSec > 0 ? 1e9 / h.readsPerSec : 0,
    latency: h.readLatency,
    verifiedValues: detail.verified,
    readers: detail,
  }
}

/**
 * The cost of the harness around one point read (random key choice over the whole key set,
 * key and version lookups, sampling, byte comparison against a random place in the value
 * pool), measured with a stand-in store that returns the right value from a small hot set.
 * It is included in every read figure and reported next to them.
 */
function harnessNsPerRead(run: Run): number {
  const hot = 1024
  const views: Uint8Array[] = []
  for (let i = 0; i < hot; i++) views.push(run.ds.value(i, 1))
  const fake = {
    get: (i: number, _key: number): Uint8Array | undefined => views[i & (hot - 1)],
  }
  const ops = 200_000
  const random = new Random(1)
  const idx = new Int32Array(ops)
  for (let i = 0; i < ops; i++) idx[i] = random.below(run.config.scale)
  const keys = run.ds.keys
  const version = run.version
  const rec = new LatencyRecorder()
  let best = Number.POSITIVE_INFINITY
  let sink = 0
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now()
    for (let i = 0; i < ops; i++) {
      const k = idx[i]!
      let v: Uint8Array | undefined
      if ((i & SAMPLE_MASK) === 0) {
        const s = performance.now()
        v = fake.get(k, keys[k]!)
        rec.recordMs(performance.now() - s)
      } else {
        v = fake.get(k, keys[k]!)
      }
      // The version lookup and the comparison a real read does (against the hot value).
      sink += version[k]!
      if (v === undefined || !run.ds.matches(v, k & (hot - 1), 1)) {
        throw new Error('calibration mismatch')
      }
    }
    best = Math.min(best, ((performance.now() - t0) * 1e6) / ops)
  }
  if (sink < 0) throw new Error('unreachable')
  return best
}

/** Reads back every durably written key and a sample of the rest; returns values checked. */
function finalVerify(run: Run, random: Random): number {
  const keys = run.ds.keys
  const caps = getEngine(run.config.engine).capabilities
  if (!caps.syncGet || run.present === 0) return 0
  let checked = 0
  const seen = new Set<number>()
  const check = (k: number): void => {
    if (seen.has(k)) return
    seen.add(k)
    const v = run.store.get(keys[k]!) as Uint8Array | undefined
    run.check(v, k, 'final read-back')
    checked++
  }
  for (const k of run.writtenDurably) check(k)
  const sample = Math.min(run.config.scale, 10_000)
  for (let i = 0; i < sample; i++) check(random.below(run.config.scale))
  return checked
}

/** Runs one child's work: load, then each selected workload; reports through `send`. */
export async function runEngine(config: ChildConfig, send: Send): Promise<void> {
  const run = new Run(config, send)
  // Interrupted (Ctrl-C reaches the whole process group): remove the store before leaving.
  const onSignal = (): void => {
    rmSync(run.dir, { recursive: true, force: true })
    if (run.ingestDir !== undefined) rmSync(run.ingestDir, { recursive: true, force: true })
    process.exit(130)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    run.progress('setup', 0, 1)
    // The data set and the harness's arrays are built: what the child holds before any engine.
    const harnessRssBytes = process.memoryUsage().rss
    run.store = await getEngine(config.engine).open(run.dir, { durable: false })
    run.storeDurable = false
    const loadMeasured = config.workloads.includes('load')
    // The ingest workload loads a store of its own: alone, it needs no loaded store.
    const needsLoad = config.workloads.some((id) => id !== 'ingest')
    const loadResult = needsLoad ? await runLoad(run, loadMeasured) : undefined
    if (loadResult !== undefined) send({ type: 'result', result: loadResult })
    const keysAfterLoad = run.present
    const diskAfterLoad: DiskSize = directorySize(run.dir)
    for (const id of config.workloads) {
      if (id === 'load') continue
      const result = await runWorkload(run, workloadById(id))
      if (result !== undefined) send({ type: 'result', result })
    }
    const keysAfterWorkloads = run.present
    const diskAfterWorkloads = directorySize(run.dir)
    run.progress('verify', 0, 1)
    const finalVerified = finalVerify(run, new Random(config.seed ^ 0xabcdef))
    const harness = harnessNsPerRead(run)
    send({
      type: 'done',
      harnessNsPerRead: harness,
      finalVerified,
      footprint: {
        peakRssBytes: peakRssBytes(),
        harnessRssBytes,
        keysAfterLoad,
        diskAfterLoad,
        keysAfterWorkloads,
        diskAfterWorkloads,
      },
    })
  } finally {
    try {
      await run.store?.close()
    } finally {
      rmSync(run.dir, { recursive: true, force: true })
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
