import { AlexStorageError, ErrorCode } from './errors.js'
import type { ReaderStats } from './stats.js'

/**
 * Metrics through OpenTelemetry (`@opentelemetry/api`, an optional peer dependency): the store
 * creates its instruments on a `Meter` and records into them; what the application's meter
 * provider does with them (Prometheus, OTLP, nothing) is its business. The library imports
 * nothing from OpenTelemetry unless `metrics: true` asks it to find the global meter provider,
 * and then only lazily, at `open`; it is typed against the small structural `MeterLike` below,
 * which every OpenTelemetry `Meter` satisfies, so its type declarations need no
 * `@opentelemetry/api` either.
 *
 * Off by default: with `metrics` unset the store creates no instrument and the write path pays
 * one `undefined` check. Names and units follow the OpenTelemetry semantic conventions (seconds
 * for durations, `By` for bytes, `{operation}` and `{read}` as annotations for counts).
 */

/** Attributes attached to a measurement. */
export type MetricAttributes = Readonly<Record<string, string | number>>

/** What the store passes when it creates an instrument (a subset of OpenTelemetry's). */
export interface InstrumentOptions {
  description?: string
  unit?: string
  /** Bucket boundaries of a histogram (`advice` is in @opentelemetry/api since 1.7). */
  advice?: { explicitBucketBoundaries?: number[] }
}

/** An OpenTelemetry observable instrument, opaque to the store. */
export type ObservableLike = object

/** What a batch observable callback receives (OpenTelemetry's `BatchObservableResult`). */
export interface BatchResultLike {
  observe(observable: ObservableLike, value: number, attributes?: MetricAttributes): void
}

/** The part of an OpenTelemetry `Meter` the store uses. Pass any `Meter` where one is asked. */
export interface MeterLike {
  createHistogram(
    name: string,
    options?: InstrumentOptions,
  ): { record(value: number, attributes?: MetricAttributes): void }
  createCounter(
    name: string,
    options?: InstrumentOptions,
  ): { add(value: number, attributes?: MetricAttributes): void }
  createObservableGauge(name: string, options?: InstrumentOptions): ObservableLike
  createObservableCounter(name: string, options?: InstrumentOptions): ObservableLike
  addBatchObservableCallback(
    callback: (result: BatchResultLike) => void,
    observables: ObservableLike[],
  ): void
  removeBatchObservableCallback(
    callback: (result: BatchResultLike) => void,
    observables: ObservableLike[],
  ): void
}

/**
 * The `metrics` option: `true` records on the meter `@alex/storage` of the global meter provider
 * (`metrics.getMeter` of `@opentelemetry/api`; set the provider up before opening the store),
 * `{ meter }` records on that meter, `false` or unset: no metrics (the default).
 */
export type MetricsOption = boolean | { meter?: MeterLike }

/** Every instrument's name, unit and meaning: the README's table is generated from the same. */
export const instruments = {
  putDuration: {
    name: 'alexstorage.put.duration',
    unit: 's',
    description: 'Duration of put() calls, from the call until the write is durable and visible',
  },
  fsyncDuration: {
    name: 'alexstorage.fsync.duration',
    unit: 's',
    description: "Duration of the write-ahead log's fdatasyncs made by group commit",
  },
  groupSize: {
    name: 'alexstorage.commit.group.size',
    unit: '{operation}',
    description: 'Operations per group write of the write-ahead log',
  },
  logBytes: {
    name: 'alexstorage.log.bytes',
    unit: 'By',
    description: 'Bytes written to the write-ahead log by group writes',
  },
  checkpointDuration: {
    name: 'alexstorage.checkpoint.duration',
    unit: 's',
    description: 'Duration of checkpoints (capture, fsyncs, snapshot, log trim, deletions)',
  },
  compactionDuration: {
    name: 'alexstorage.compaction.duration',
    unit: 's',
    description: 'Duration of compactions, their final checkpoint included',
  },
  compactionReclaimed: {
    name: 'alexstorage.compaction.reclaimed',
    unit: 'By',
    description: 'Record bytes reclaimed by compactions',
  },
  deadBytes: {
    name: 'alexstorage.dead_bytes',
    unit: 'By',
    description: 'Bytes of overwritten and deleted records and tombstones: the compaction debt',
  },
  cacheHits: {
    name: 'alexstorage.cache.hits',
    unit: '{read}',
    description: 'Value reads served from a resident segment image (no I/O)',
  },
  cacheMisses: {
    name: 'alexstorage.cache.misses',
    unit: '{read}',
    description: 'Value reads served from a data file (the segment was not resident)',
  },
  readerLag: {
    name: 'alexstorage.reader.lag',
    unit: '{operation}',
    description: "Operations a registered reader is behind the writer's LSN",
  },
} as const

/** Latency buckets in seconds: 50 µs to 10 s (an fdatasync is 0.1-10 ms on most disks). */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  10,
]
/** Maintenance buckets in seconds: 1 ms to 10 min. */
const MAINTENANCE_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 600]
/** Group sizes: powers of two up to 4096 operations. */
const GROUP_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]

type Histogram = ReturnType<MeterLike['createHistogram']>
type Counter = ReturnType<MeterLike['createCounter']>

/** The instruments of one meter, created once and shared by every store recording on it. */
interface Instruments {
  putDuration: Histogram
  fsyncDuration: Histogram
  groupSize: Histogram
  logBytes: Counter
  checkpointDuration: Histogram
  compactionDuration: Histogram
  compactionReclaimed: Counter
  observables: ObservableLike[]
  deadBytes: ObservableLike
  cacheHits: ObservableLike
  cacheMisses: ObservableLike
  readerLag: ObservableLike
}

const byMeter = new WeakMap<MeterLike, Instruments>()

function instrumentsOf(meter: MeterLike): Instruments {
  const known = byMeter.get(meter)
  if (known !== undefined) return known
  const i = instruments
  const histogram = (d: { name: string; unit: string; description: string }, bounds: number[]) =>
    meter.createHistogram(d.name, {
      unit: d.unit,
      description: d.description,
      advice: { explicitBucketBoundaries: bounds },
    })
  const deadBytes = meter.createObservableGauge(i.deadBytes.name, i.deadBytes)
  const cacheHits = meter.createObservableCounter(i.cacheHits.name, i.cacheHits)
  const cacheMisses = meter.createObservableCounter(i.cacheMisses.name, i.cacheMisses)
  const readerLag = meter.createObservableGauge(i.readerLag.name, i.readerLag)
  const created: Instruments = {
    putDuration: histogram(i.putDuration, LATENCY_BUCKETS),
    fsyncDuration: histogram(i.fsyncDuration, LATENCY_BUCKETS),
    groupSize: histogram(i.groupSize, GROUP_BUCKETS),
    logBytes: meter.createCounter(i.logBytes.name, i.logBytes),
    checkpointDuration: histogram(i.checkpointDuration, MAINTENANCE_BUCKETS),
    compactionDuration: histogram(i.compactionDuration, MAINTENANCE_BUCKETS),
    compactionReclaimed: meter.createCounter(i.compactionReclaimed.name, i.compactionReclaimed),
    observables: [deadBytes, cacheHits, cacheMisses, readerLag],
    deadBytes,
    cacheHits,
    cacheMisses,
    readerLag,
  }
  byMeter.set(meter, created)
  return created
}

/** What the observable instruments read from the store at each collection. */
export interface MetricsSource {
  /** The store's segment set now (a following reader replaces it when it reloads). */
  segments(): { dataBytes: number; liveBytes: number; cacheHits: number; diskReads: number }
  /** The registered readers with their lag (writer only; `undefined` on a reader). */
  readers(): ReaderStats[] | undefined
}

/**
 * A counter read from an object a reload may replace (a reader's segment set): what the
 * replaced objects had counted is carried over, so the reported sum never goes back.
 */
class Carried {
  private base = 0
  private last = 0
  private owner: object | undefined

  read(owner: object, value: number): number {
    if (owner !== this.owner) {
      this.base += this.last
      this.owner = owner
    }
    this.last = value
    return this.base + value
  }
}

/**
 * One store's metrics: records into the shared instruments with the store's attributes
 * (`alexstorage.dir`, `alexstorage.role`), and observes its gauges while it is open.
 */
export class StoreMetrics {
  private readonly meter: MeterLike
  private readonly i: Instruments
  private readonly attributes: MetricAttributes
  private readonly source: MetricsSource
  private readonly hits = new Carried()
  private readonly misses = new Carried()
  private readonly observe = (result: BatchResultLike) => this.observeNow(result)
  private closed = false

  constructor(meter: MeterLike, dir: string, role: 'writer' | 'reader', source: MetricsSource) {
    this.meter = meter
    this.i = instrumentsOf(meter)
    this.attributes = Object.freeze({ 'alexstorage.dir': dir, 'alexstorage.role': role })
    this.source = source
    meter.addBatchObservableCallback(this.observe, this.i.observables)
  }

  /** Times `done` (a put started at `start`, `performance.now()`); resolves as it does. */
  timePut(start: number, done: Promise<void>): Promise<void> {
    return done.then(() => {
      this.i.putDuration.record((performance.now() - start) / 1000, this.attributes)
    })
  }

  /** A group write of the log (see `CommitObserver` of @alex/wal). */
  commit(ops: number, bytes: number, syncMs: number): void {
    const a = this.attributes
    if (ops > 0) this.i.groupSize.record(ops, a)
    if (bytes > 0) this.i.logBytes.add(bytes, a)
    if (syncMs >= 0) this.i.fsyncDuration.record(syncMs / 1000, a)
  }

  checkpoint(durationMs: number): void {
    this.i.checkpointDuration.record(durationMs / 1000, this.attributes)
  }

  compaction(durationMs: number, reclaimedBytes: number): void {
    this.i.compactionDuration.record(durationMs / 1000, this.attributes)
    if (reclaimedBytes > 0) this.i.compactionReclaimed.add(reclaimedBytes, this.attributes)
  }

  /** Stops observing (at close): a closed store reports nothing more. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.meter.removeBatchObservableCallback(this.observe, this.i.observables)
  }

  private observeNow(result: BatchResultLike): void {
    if (this.closed) return
    const a = this.attributes
    const s = this.source.segments()
    result.observe(this.i.deadBytes, s.dataBytes - s.liveBytes, a)
    result.observe(this.i.cacheHits, this.hits.read(s, s.cacheHits), a)
    result.observe(this.i.cacheMisses, this.misses.read(s, s.diskReads), a)
    for (const r of this.source.readers() ?? []) {
      result.observe(this.i.readerLag, r.lagLsn, {
        ...a,
        'process.pid': r.pid,
        'thread.id': r.thread,
        'host.name': r.host,
      })
    }
  }
}

/** Validates the `metrics` option (`ERR_INVALID_ARGUMENT`). */
export function checkMetricsOption(value: unknown): MetricsOption | undefined {
  if (value === undefined || typeof value === 'boolean') return value
  if (typeof value === 'object' && value !== null) {
    const meter = (value as { meter?: unknown }).meter
    for (const name in value) {
      if (name !== 'meter') throw badMetrics(`unknown key ${name}`)
    }
    if (meter === undefined) return value as MetricsOption
    const m = meter as Record<string, unknown>
    if (typeof m === 'object' && m !== null && typeof m.createHistogram === 'function') {
      return value as MetricsOption
    }
    throw badMetrics('meter must be an OpenTelemetry Meter')
  }
  throw badMetrics(`got ${String(value)}`)
}

function badMetrics(detail: string): AlexStorageError {
  return new AlexStorageError(
    ErrorCode.INVALID_ARGUMENT,
    `option metrics must be a boolean or { meter } (${detail})`,
  )
}

/** How the global meter is found: `@opentelemetry/api`, imported when first asked. */
export type ApiLoader = () => Promise<{
  metrics: { getMeter(name: string): MeterLike }
}>

const importApi: ApiLoader = () => import('@opentelemetry/api')

let warned = false

/**
 * The meter the `metrics` option asks for, or `undefined` for none: `{ meter }` as given; `true`
 * (or `{}`) the global provider's meter `@alex/storage`, if `@opentelemetry/api` can be loaded,
 * else none, with one process warning (`ALEXSTORAGE_NO_OPENTELEMETRY`).
 */
export async function loadMeter(
  option: MetricsOption | undefined,
  load: ApiLoader = importApi,
): Promise<MeterLike | undefined> {
  if (option === undefined || option === false) return undefined
  if (typeof option === 'object' && option.meter !== undefined) return option.meter
  try {
    const api = await load()
    return api.metrics.getMeter('@alex/storage')
  } catch (err) {
    if (!warned) {
      warned = true
      const detail = err instanceof Error ? err.message : String(err)
      process.emitWarning(
        `AlexStorage: the metrics option is set but @opentelemetry/api could not be loaded ` +
          `(${detail}); metrics are off. Install @opentelemetry/api or pass { meter }.`,
        { code: 'ALEXSTORAGE_NO_OPENTELEMETRY' },
      )
    }
    return undefined
  }
}
