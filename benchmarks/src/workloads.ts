/**
 * The workloads: what each measures, its durability, and how many operations it runs at a
 * given scale. Workloads run in the order listed here on one store per engine and repetition.
 */

import { readersSeconds } from './readers/plan.js'

/** Workload ids, in run order. */
export const WORKLOAD_IDS = [
  'load',
  'ingest',
  'read-uniform',
  'read-zipf',
  'range-100',
  'ycsb-c',
  'ycsb-b',
  'ycsb-a',
  'ycsb-f',
  'ycsb-d',
  'ycsb-e',
  'mixed-80-20',
  'mixed-50-50',
  'insert-seq',
  'durable-put',
  'concurrent-64',
  'readers',
] as const

/** One workload id. */
export type WorkloadId = (typeof WORKLOAD_IDS)[number]

/**
 * Durability of a workload's writes: 'durable' (every acknowledged write fsynced), 'fast'
 * (the engine's non-syncing mode), 'end' (non-syncing writes, then one sync whose time counts),
 * or 'none' (read only).
 */
export type Durability = 'durable' | 'fast' | 'end' | 'none'

/** How a workload chooses keys. */
export type Chooser = 'uniform' | 'zipf' | 'latest'

/** A workload's definition. */
export interface Workload {
  readonly id: WorkloadId
  /** Short title for tables and charts. */
  readonly title: string
  /** One sentence for the report. */
  readonly description: string
  /** Operation mix. */
  readonly kind:
    | 'load'
    | 'ingest'
    | 'mix'
    | 'scan'
    | 'insert-seq'
    | 'durable-put'
    | 'concurrent'
    | 'readers'
  /** Fraction of reads (mix), or of scans (scan), the rest being writes. */
  readonly readFraction: number
  /** Writes: 'update' existing keys, 'insert' new keys, 'rmw' read-modify-write. */
  readonly write: 'update' | 'insert' | 'rmw'
  /** Key choice. */
  readonly chooser: Chooser
  /** Durability of its writes by default. */
  readonly durability: Durability
  /** Whether --durability may override the default (not for load and the durable workloads). */
  readonly overridable: boolean
  /** Whether it is in the default suite. */
  readonly inDefault: boolean
  /** Measured operations at `n` loaded keys. */
  ops(n: number): number
  /** Unmeasured warm-up operations before it. */
  warmup(n: number): number
  /** Unit of one measured operation, for reports. */
  readonly unit: string
  /**
   * Timed workloads (phases of fixed duration rather than a count of operations): seconds the
   * workload adds to the child of `engine` in repetition `rep`, for the estimate.
   */
  readonly seconds?: (n: number, engine: string, rep: number) => number
}

const clamp = (x: number, lo: number, hi: number): number =>
  Math.max(lo, Math.min(hi, Math.floor(x)))
const readOps = (n: number): number => clamp(n / 5, 1000, 1_000_000)
const mixOps = (n: number): number => clamp(n / 10, 1000, 400_000)
const scanOps = (n: number): number => clamp(n / 500, 100, 20_000)
const warm = (ops: number): number => Math.max(100, Math.floor(ops / 10))

const base = {
  readFraction: 1,
  write: 'update',
  chooser: 'uniform',
  overridable: true,
  inDefault: false,
  unit: 'op',
} as const

/** Every workload, in run order. */
export const WORKLOADS: readonly Workload[] = [
  {
    ...base,
    id: 'load',
    title: 'Bulk load',
    description:
      'Insert every key in batches of 1,000 (keys in random order, or ascending for the sequential distribution), then one sync; time per key.',
    kind: 'load',
    durability: 'end',
    overridable: false,
    inDefault: true,
    ops: (n) => n,
    warmup: () => 0,
    unit: 'key',
  },
  {
    ...base,
    id: 'ingest',
    title: 'Bulk ingest (fastest path)',
    description:
      "Every key loaded into a fresh, empty store by one call of the engine's fastest durable bulk path (@alex/compare `bulkLoad`: AlexStorage's `db.ingest`, write batches of 10,000 with the last one synced for LevelDB and RocksDB, LMDB transactions of 100,000 appends then a forced sync, one SQLite transaction committed with synchronous = FULL, a fill of the same value objects, no copy, for Map and sorted-btree), keys ascending, durable when it resolves; time per key, the one call timed whole.",
    kind: 'ingest',
    durability: 'end',
    overridable: false,
    ops: (n) => n,
    warmup: () => 0,
    unit: 'key',
  },
  {
    ...base,
    id: 'read-uniform',
    title: 'Random reads (uniform)',
    description: 'Point reads of existing keys chosen uniformly at random.',
    kind: 'mix',
    durability: 'none',
    inDefault: true,
    ops: readOps,
    warmup: (n) => warm(readOps(n)),
  },
  {
    ...base,
    id: 'read-zipf',
    title: 'Random reads (zipfian)',
    description: 'Point reads of existing keys, scrambled zipfian (theta 0.99) popularity.',
    kind: 'mix',
    durability: 'none',
    chooser: 'zipf',
    inDefault: true,
    ops: readOps,
    warmup: (n) => warm(readOps(n)),
  },
  {
    ...base,
    id: 'range-100',
    title: 'Range scans of 100',
    description: 'Forward scans of 100 entries from a uniformly chosen existing key.',
    kind: 'scan',
    durability: 'none',
    inDefault: true,
    ops: scanOps,
    warmup: (n) => warm(scanOps(n)),
    unit: 'scan',
  },
  {
    ...base,
    id: 'ycsb-c',
    title: 'YCSB C (read only)',
    description: 'YCSB workload C: 100% reads, zipfian.',
    kind: 'mix',
    durability: 'none',
    chooser: 'zipf',
    ops: mixOps,
    warmup: (n) => warm(mixOps(n)),
  },
  {
    ...base,
    id: 'ycsb-b',
    title: 'YCSB B (95/5)',
    description: 'YCSB workload B: 95% reads, 5% updates, zipfian.',
    kind: 'mix',
    readFraction: 0.95,
    chooser: 'zipf',
    durability: 'fast',
    ops: mixOps,
    warmup: (n) => warm(mixOps(n)),
  },
  {
    ...base,
    id: 'ycsb-a',
    title: 'YCSB A (50/50)',
    description: 'YCSB workload A: 50% reads, 50% updates, zipfian.',
    kind: 'mix',
    readFraction: 0.5,
    chooser: 'zipf',
    durability: 'fast',
    ops: mixOps,
    warmup: (n) => warm(mixOps(n)),
  },
  {
    ...base,
    id: 'ycsb-f',
    title: 'YCSB F (read-modify-write)',
    description:
      "YCSB workload F: 50% reads, 50% read-modify-writes (read a key, write its next value), scrambled zipfian (theta 0.99), one client, each operation awaited; the read-modify-write is @alex/compare's `readModifyWrite`: AlexStorage `version()` + `batch(..., { ifVersion })`, LMDB one synchronous write transaction (transactionSync), SQLite BEGIN IMMEDIATE + SELECT + INSERT OR REPLACE + COMMIT, Map and sorted-btree one synchronous step, LevelDB and RocksDB a get then a put with no isolation (a concurrent writer's update could be lost).",
    kind: 'mix',
    readFraction: 0.5,
    write: 'rmw',
    chooser: 'zipf',
    durability: 'fast',
    ops: mixOps,
    warmup: (n) => warm(mixOps(n)),
  },
  {
    ...base,
    id: 'ycsb-d',
    title: 'YCSB D (read latest)',
    description: 'YCSB workload D: 95% reads skewed to the newest keys, 5% inserts.',
    kind: 'mix',
    readFraction: 0.95,
    write: 'insert',
    chooser: 'latest',
    durability: 'fast',
    ops: mixOps,
    warmup: (n) => warm(mixOps(n)),
  },
  {
    ...base,
    id: 'ycsb-e',
    title: 'YCSB E (short scans)',
    description: 'YCSB workload E: 95% scans of 1 to 100 entries from a zipfian key, 5% inserts.',
    kind: 'scan',
    readFraction: 0.95,
    write: 'insert',
    chooser: 'zipf',
    durability: 'fast',
    ops: scanOps,
    warmup: (n) => warm(scanOps(n)),
  },
  {
    ...base,
    id: 'mixed-80-20',
    title: 'Mixed 80/20',
    description: '80% point reads, 20% updates, uniform keys, one client.',
    kind: 'mix',
    readFraction: 0.8,
    durability: 'fast',
    inDefault: true,
    ops: mixOps,
    warmup: (n) => warm(mixOps(n)),
  },
  {
    ...base,
    id: 'mixed-50-50',
    title: 'Mixed 50/50',
    description: '50% point reads, 50% updates, uniform keys, one client.',
    kind: 'mix',
    readFraction: 0.5,
    durability: 'fast',
    ops: mixOps,
    warmup: (n) => warm(mixOps(n)),
  },
  {
    ...base,
    id: 'insert-seq',
    title: 'Ascending inserts',
    description: 'Time-series inserts: new keys above every existing key, in ascending order.',
    kind: 'insert-seq',
    readFraction: 0,
    write: 'insert',
    durability: 'fast',
    ops: (n) => clamp(n / 10, 500, 200_000),
    warmup: (n) => warm(clamp(n / 10, 500, 200_000)),
  },
  {
    ...base,
    id: 'durable-put',
    title: 'Durable puts, one writer',
    description: 'One writer awaiting each durable update before the next: fsync latency.',
    kind: 'durable-put',
    readFraction: 0,
    durability: 'durable',
    overridable: false,
    inDefault: true,
    ops: (n) => clamp(n / 1000, 100, 2000),
    warmup: () => 50,
  },
  {
    ...base,
    id: 'concurrent-64',
    title: 'Durable puts, 64 writers',
    description:
      '64 concurrent writers in one event loop, each awaiting its own durable update: group commit.',
    kind: 'concurrent',
    readFraction: 0,
    durability: 'durable',
    overridable: false,
    inDefault: true,
    ops: (n) => 64 * clamp(n / 10_000, 10, 100),
    warmup: () => 64 * 5,
  },
  {
    ...base,
    id: 'readers',
    title: 'Readers following a live writer',
    description:
      'One writer doing 1,000 durable puts/s while 1, 2 and 4 reader processes (and, for AlexStorage, worker threads) do random gets for a fixed window, every value checked; the figure is the aggregate reads/s of 2 reader processes. AlexStorage and LMDB only, first repetition only (src/readers/).',
    kind: 'readers',
    durability: 'durable',
    overridable: false,
    inDefault: true,
    // Timed phases, not a count of operations (src/readers/plan.ts).
    ops: () => 0,
    warmup: () => 0,
    unit: 'read',
    seconds: readersSeconds,
  },
]

/** The workload with this id. */
export function workloadById(id: string): Workload {
  const w = WORKLOADS.find((x) => x.id === id)
  if (w === undefined) {
    throw new Error(`unknown workload "${id}"; known: ${WORKLOAD_IDS.join(', ')}`)
  }
  return w
}

/** The ids of the default suite. */
export const DEFAULT_WORKLOADS: readonly WorkloadId[] = WORKLOADS.filter((w) => w.inDefault).map(
  (w) => w.id,
)

/** Effective durability of workload `w` under the --durability flag. */
export function effectiveDurability(w: Workload, flag: 'default' | 'durable' | 'fast'): Durability {
  if (flag === 'default' || !w.overridable || w.durability === 'none') return w.durability
  return flag
}

/** Upper bound of keys a workload inserts (warm-up included), by kind of insert. */
export function insertsOf(w: Workload, n: number): { random: number; sequential: number } {
  const total = w.ops(n) + w.warmup(n)
  if (w.kind === 'insert-seq') return { random: 0, sequential: total }
  if (w.write !== 'insert') return { random: 0, sequential: 0 }
  // Inserts are 1 - readFraction of the operations; the plan draws them exactly, so allow
  // a generous margin rather than a statistical bound.
  return { random: Math.ceil(total * (1 - w.readFraction) * 1.5) + 100, sequential: 0 }
}
