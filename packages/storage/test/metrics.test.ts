import { metrics } from '@opentelemetry/api'
import {
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { AlexStorage, instruments, type MeterLike } from '../src/index.js'
import { loadMeter } from '../src/metrics.js'
import { tempDir, valueFor } from './helpers.js'

/**
 * The store's OpenTelemetry instruments (metrics.ts) read through the real SDK: every
 * instrument's values against what the store reports by other means (stats(), the number of
 * calls), the option's forms, and nothing observed after close.
 */

/** Size of a log segment file's header (docs/wal-format.md). */
const WAL_SEGMENT_HEADER_BYTES = 56

/** A reader the test collects from on demand. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

let dir: string
let cleanup: () => void
let provider: MeterProvider
let reader: TestReader
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-metrics-'))
  reader = new TestReader()
  provider = new MeterProvider({ readers: [reader] })
})
afterEach(async () => {
  await provider.shutdown()
  cleanup()
})

/** Every metric collected now, by name. */
async function collect(): Promise<Map<string, MetricData>> {
  const { resourceMetrics } = await reader.collect()
  const out = new Map<string, MetricData>()
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) out.set(metric.descriptor.name, metric)
  }
  return out
}

/** The value of a sum or gauge metric's one data point of `store`, or undefined. */
function pointOf(metric: MetricData | undefined, store: AlexStorage): number | undefined {
  const p = metric?.dataPoints.find((d) => d.attributes['alexstorage.dir'] === store.dir)
  return p === undefined ? undefined : (p.value as number)
}

/** Count and sum of a histogram metric's data point of `store`. */
function histogramOf(metric: MetricData | undefined, store: AlexStorage) {
  expect(metric?.dataPointType).toBe(DataPointType.HISTOGRAM)
  const p = (metric as HistogramMetricData).dataPoints.find(
    (d) => d.attributes['alexstorage.dir'] === store.dir,
  )
  return { count: p?.value.count ?? 0, sum: p?.value.sum ?? 0, boundaries: p?.value.buckets }
}

describe('metrics', () => {
  it('an OpenTelemetry Meter is a MeterLike (typed without @opentelemetry/api)', () => {
    const meter: MeterLike = provider.getMeter('x')
    expect(typeof meter.createHistogram).toBe('function')
  })

  it('records every instrument, matching stats() and the calls made', async () => {
    const meter = provider.getMeter('test')
    const db = await AlexStorage.open(dir, {
      metrics: { meter },
      segmentBytes: 8192,
      autoCompaction: false,
    })
    const walBefore = db.stats().wal
    for (let k = 0; k < 100; k++) await db.put(k, valueFor(k, 1, 100))
    await Promise.all(Array.from({ length: 50 }, (_, k) => db.put(k, valueFor(k, 2, 100))))
    await db.batch([{ type: 'delete', key: 1 }])
    await db.checkpoint()
    for (let k = 0; k < 100; k++) db.get(k)
    const reader = await AlexStorage.open(dir, { readOnly: true })
    const m = await collect()
    const s = db.stats()

    const put = histogramOf(m.get(instruments.putDuration.name), db)
    expect(put.count).toBe(150) // put() only: the batch is not a put
    expect(put.boundaries?.boundaries[0]).toBe(0.00005) // the bucket advice was applied
    const groups = histogramOf(m.get(instruments.groupSize.name), db)
    expect(groups.sum).toBe(151)
    // Every group write but the checkpoint's (a group holding only its checkpoint frame).
    const checkpointGroups = s.wal.checkpoints - walBefore.checkpoints
    expect(groups.count).toBe(s.wal.groupCommits - walBefore.groupCommits - checkpointGroups)
    const fsyncs = histogramOf(m.get(instruments.fsyncDuration.name), db)
    // sync 'always': each of those groups was fdatasynced, and so was the checkpoint's (the
    // log's other fsyncs, of a new segment file at a rotation, are not group commits).
    expect(fsyncs.count).toBe(groups.count + checkpointGroups)
    expect(fsyncs.count).toBeLessThanOrEqual(s.wal.fsyncs - walBefore.fsyncs)
    // The log's bytes are the groups' plus the header of each segment file it started.
    const headers = (s.wal.segmentsCreated - walBefore.segmentsCreated) * WAL_SEGMENT_HEADER_BYTES
    expect(pointOf(m.get(instruments.logBytes.name), db)).toBe(
      s.wal.bytesWritten - walBefore.bytesWritten - headers,
    )
    expect(histogramOf(m.get(instruments.checkpointDuration.name), db).count).toBe(1)
    expect(pointOf(m.get(instruments.deadBytes.name), db)).toBe(s.deadBytes)
    expect(s.deadBytes).toBeGreaterThan(0)
    expect(pointOf(m.get(instruments.cacheHits.name), db)).toBe(s.cache.hits)
    expect(s.cache.hits).toBeGreaterThanOrEqual(99)
    expect(pointOf(m.get(instruments.cacheMisses.name), db)).toBe(s.cache.diskReads)
    const lag = m.get(instruments.readerLag.name)?.dataPoints ?? []
    expect(lag.map((p) => [p.attributes['process.pid'], p.value])).toEqual([[process.pid, 0]])

    await db.compact()
    const after = await collect()
    expect(histogramOf(after.get(instruments.compactionDuration.name), db).count).toBe(1)
    expect(pointOf(after.get(instruments.compactionReclaimed.name), db)).toBe(s.deadBytes)
    expect(pointOf(after.get(instruments.deadBytes.name), db)).toBe(0)
    for (const d of Object.values(instruments)) {
      expect(after.get(d.name)?.descriptor.unit, d.name).toBe(d.unit)
    }
    await reader.close()
    await db.close()
  })

  it('metrics: true records on the global meter provider; a closed store stops observing', async () => {
    expect(metrics.setGlobalMeterProvider(provider)).toBe(true)
    // The provider hands out one meter per name: the one the store gets.
    const meter = provider.getMeter('@alex/storage')
    const added = vi.spyOn(meter, 'addBatchObservableCallback')
    const removed = vi.spyOn(meter, 'removeBatchObservableCallback')
    try {
      const db = await AlexStorage.open(dir, { metrics: true })
      await db.put(1, valueFor(1, 1, 10))
      const m = await collect()
      expect(histogramOf(m.get(instruments.putDuration.name), db).count).toBe(1)
      expect(pointOf(m.get(instruments.deadBytes.name), db)).toBe(0)
      expect(added).toHaveBeenCalledTimes(1)
      expect(removed).not.toHaveBeenCalled()
      await db.close()
      expect(removed).toHaveBeenCalledTimes(1)
      expect(removed.mock.calls[0]![0]).toBe(added.mock.calls[0]![0])
    } finally {
      metrics.disable()
    }
  })

  it('two stores on one meter: one series each, told apart by alexstorage.dir', async () => {
    const meter = provider.getMeter('test')
    const a = await AlexStorage.open(dir, { metrics: { meter } })
    const b = await AlexStorage.open(`${dir}/b`, { metrics: { meter } })
    await a.put(1, valueFor(1, 1, 10))
    for (let k = 0; k < 3; k++) await b.put(k, valueFor(k, 1, 10))
    const m = await collect()
    expect(histogramOf(m.get(instruments.putDuration.name), a).count).toBe(1)
    expect(histogramOf(m.get(instruments.putDuration.name), b).count).toBe(3)
    const roles = m.get(instruments.deadBytes.name)?.dataPoints.map((p) => p.attributes)
    expect(roles).toEqual([
      { 'alexstorage.dir': a.dir, 'alexstorage.role': 'writer' },
      { 'alexstorage.dir': b.dir, 'alexstorage.role': 'writer' },
    ])
    await b.close()
    await a.close()
  })

  it('off by default: nothing loaded, no instrument created', async () => {
    const load = vi.fn(async () => ({ metrics: { getMeter: () => provider.getMeter('x') } }))
    expect(await loadMeter(undefined, load)).toBeUndefined()
    expect(await loadMeter(false, load)).toBeUndefined()
    expect(load).not.toHaveBeenCalled()
    const db = await AlexStorage.open(dir)
    await db.put(1, valueFor(1, 1, 10))
    expect((await collect()).size).toBe(0)
    await db.close()
  })

  it('without @opentelemetry/api: no metrics and one process warning', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    try {
      const missing = async () => {
        throw new Error("Cannot find package '@opentelemetry/api'")
      }
      expect(await loadMeter(true, missing)).toBeUndefined()
      expect(await loadMeter({}, missing)).toBeUndefined()
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]![0])).toContain('@opentelemetry/api')
    } finally {
      warn.mockRestore()
    }
  })

  it('rejects a bad metrics option with ERR_INVALID_ARGUMENT', async () => {
    for (const bad of ['yes', 1, null, { meter: {} }, { meters: provider.getMeter('x') }]) {
      await expect(AlexStorage.open(dir, { metrics: bad as never })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
      })
    }
  })
})
