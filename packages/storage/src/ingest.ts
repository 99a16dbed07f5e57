import { AlexIndex } from '@alex/index'
import type { FileSystem, Wal } from '@alex/wal'
import type { Checkpointer } from './checkpoint.js'
import type { IngestInput } from './ingest-input.js'
import { type IngestSegments, writeIngestSegments } from './ingest-writer.js'
import type { SegmentSet } from './segment-set.js'
import type { StoreFailure } from './store-failure.js'
import type { VersionHistory } from './version-history.js'
import type { WritePipeline } from './write-pipeline.js'

/**
 * The bulk ingest (docs/architecture.md, "Bulk ingest"): writes data segments directly, without
 * the log, and commits them with one snapshot. In order:
 *
 * 1. Every write issued before is applied (the store holds later ones back: ingest-gate.ts).
 *    A store that never wrote a snapshot writes one first, so that a crash before the commit
 *    recovers from a snapshot (which ignores segments it does not name).
 * 2. The active segment is sealed, so that segment ids keep following LSN order.
 * 3. `wal.reserve(n)`: LSNs A..B for the entries, durable in the log before any data file holds
 *    them (recovery's "the log must cover the data" check counts reserved LSNs).
 * 4. The records are encoded into segment images and written to new segment files flagged
 *    `SEGMENT_FLAG_INGEST`, each fsynced; then the directory.
 * 5. The new index is built off to the side: `AlexIndex.from` on the entries for an empty store,
 *    else a merge of the current index with them (entries win); overwritten records are dead.
 * 6. The commit: a snapshot at B naming the new segments (`Checkpointer.runPrepared`). Once it
 *    is durable, the new state is installed in one synchronous step (index, open snapshots'
 *    history, applied LSN, the readers' beacon), then the log is checkpointed at B.
 */

/** What the ingest works with (the store's layers). */
export interface IngestContext {
  fs: FileSystem
  dir: string
  wal: Wal
  index: AlexIndex
  segments: SegmentSet
  writes: WritePipeline
  checkpointer: Checkpointer
  history: VersionHistory
  failure: StoreFailure
  segmentBytes: number
  maxValueBytes: number
  /** After the install: publishes the new LSN to readers and wakes change feeds. */
  published: () => void
}

/** What `db.ingest` resolves with. */
export interface IngestResult {
  /** Entries ingested (after dropping the earlier entries of a repeated key, unsorted input). */
  count: number
  /** LSN of the first entry (entries have consecutive LSNs in key order); 0 for none. */
  firstLsn: number
  /** LSN of the last entry; 0 for none. */
  lastLsn: number
}

/**
 * Below this ratio of existing keys to ingested ones, the new index is a rebuild of the merged
 * arrays (about 100 ns per key of the result); above it, the ingested keys are inserted one by
 * one into the current index (about 4x that per key inserted), which is cheaper then.
 */
const REBUILD_RATIO = 3

/** Runs the ingest of validated `input` (see the module comment). Any I/O failure fails the store. */
export async function runIngest(ctx: IngestContext, input: IngestInput): Promise<IngestResult> {
  const { segments, writes, checkpointer, failure } = ctx
  const n = input.count
  if (n === 0) return { count: 0, firstLsn: 0, lastLsn: 0 }
  // 1.
  await writes.settle()
  failure.check()
  if (checkpointer.checkpoints === 0) await checkpointer.run([], 0)
  // 2.
  segments.sealActive()
  // 3.
  const first = await ctx.wal.reserve(n)
  const last = first + n - 1
  // 4.
  const written: IngestSegments = { segments: [], syncs: [], locations: new Float64Array(n) }
  try {
    writeIngestSegments(
      ctx.fs,
      ctx.dir,
      segments,
      input,
      first,
      ctx.segmentBytes,
      ctx.maxValueBytes,
      written,
    )
  } catch (err) {
    await undo(segments, written)
    throw err
  }
  // 5. (while the fsyncs run in the thread pool)
  const next = nextState(ctx, input, written.locations)
  await Promise.all(written.syncs)
  await ctx.fs.syncDir(ctx.dir)
  // 6.
  await checkpointer.runPrepared(last, next.keys, next.locations, () => {
    install(ctx, input, written.locations, next, first, last)
  })
  return { count: n, firstLsn: first, lastLsn: last }
}

/**
 * Step 4 failed before anything was committed (the caller changed its arrays meanwhile, or a
 * write failed): the segments written so far are removed again, once their fsyncs settled. They
 * were never named by a snapshot, so the store is as it was (an OS error still fails it, through
 * the maintenance chain; a deletion lost to a crash is redone by the next open).
 */
async function undo(segments: SegmentSet, written: IngestSegments): Promise<void> {
  await Promise.allSettled(written.syncs)
  for (const s of written.segments) segments.remove(s)
}

/** The state after the ingest, prepared without touching what reads see. */
interface NextState {
  /** Every key after the ingest, in order, and its location (the snapshot's arrays). */
  keys: Float64Array
  locations: Float64Array
  /** The ingested keys, in order: the store's own copy (the caller's may change from now on). */
  entryKeys: Float64Array
  /** The new index (rebuild), or undefined: insert the entries into the current one. */
  index: AlexIndex | undefined
  /** Per entry, the location it replaces, or NaN (for open snapshots' history). */
  replaced: Float64Array | undefined
}

/** Step 5: the merged arrays, the new index, and the overwritten records made dead. */
function nextState(ctx: IngestContext, input: IngestInput, locations: Float64Array): NextState {
  const current = ctx.index
  const n = input.count
  const size = current.size
  // Borrowed keys were checked as they were encoded, in this same synchronous step; the steps
  // after the next await must not read the caller's array again.
  const entryKeys = input.borrowed === true ? input.keys.slice(0, n) : input.keys
  if (size === 0) {
    return {
      keys: entryKeys,
      locations,
      entryKeys,
      index: AlexIndex.from(entryKeys, locations),
      replaced: undefined,
    }
  }
  const oldKeys = new Float64Array(size)
  const oldLocations = new Float64Array(size)
  current.scan(oldKeys, oldLocations)
  const keys = new Float64Array(size + n)
  const merged = new Float64Array(size + n)
  const replaced = new Float64Array(n)
  const newKeys = entryKeys
  let i = 0
  let j = 0
  let m = 0
  while (i < size || j < n) {
    if (j >= n || (i < size && oldKeys[i]! < newKeys[j]!)) {
      keys[m] = oldKeys[i]!
      merged[m++] = oldLocations[i++]!
      continue
    }
    if (i < size && oldKeys[i] === newKeys[j]) {
      replaced[j] = oldLocations[i]!
      ctx.segments.kill(oldLocations[i++]!) // the ingested entry overwrites it
    } else {
      replaced[j] = Number.NaN
    }
    keys[m] = newKeys[j]!
    merged[m++] = locations[j++]!
  }
  const outKeys = keys.subarray(0, m)
  const outLocations = merged.subarray(0, m)
  const rebuild = size < REBUILD_RATIO * n
  return {
    keys: outKeys,
    locations: outLocations,
    entryKeys,
    index: rebuild ? AlexIndex.from(outKeys, outLocations) : undefined,
    replaced,
  }
}

/**
 * Step 6's install, one synchronous step once the snapshot is durable: the index, the history
 * open snapshots read (one change per entry, in LSN order), the applied LSN, the beacon.
 */
function install(
  ctx: IngestContext,
  input: IngestInput,
  locations: Float64Array,
  next: NextState,
  first: number,
  last: number,
): void {
  const { history, index } = ctx
  const { count } = input
  const keys = next.entryKeys
  if (history.recording) {
    const replaced = next.replaced
    for (let i = 0; i < count; i++) {
      const old = replaced === undefined ? Number.NaN : replaced[i]!
      history.changed(keys[i]!, Number.isNaN(old) ? undefined : old, first + i)
    }
  }
  if (next.index !== undefined) index.replaceWith(next.index)
  else for (let i = 0; i < count; i++) index.set(keys[i]!, locations[i]!)
  ctx.writes.followedTo(last)
  ctx.published()
}
