import { join } from 'node:path'
import type { AlexIndex } from '@alex/index'
import type { FileSystem, Wal } from '@alex/wal'
import type { DataSegment } from './data-segment.js'
import { classifyNames, retiredName, snapshotName } from './file-names.js'
import { SegmentRetention } from './segment-retention.js'
import type { SegmentSet } from './segment-set.js'
import { buildSnapshot, sealSnapshot, writeSnapshot, writeSnapshotFrom } from './snapshot.js'
import type { StoreFailure } from './store-failure.js'
import type { VersionHistory } from './version-history.js'
import type { WritePipeline } from './write-pipeline.js'

/** What the checkpoint procedure starts from (recovery's result). */
export interface CheckpointState {
  /** Highest snapshot sequence number present (valid or not). */
  snapshotSeq: number
  /** LSN the newest snapshot covers (0 if none). */
  snapshotLsn: number
  /** Checkpoints and compactions completed over the store's life. */
  checkpoints: number
  compactions: number
  /** Segments with an id below this were retired by the newest completed compaction. */
  retireBelow: number
}

/**
 * Told about each completed checkpoint: the LSN it covers, the snapshot's bytes, its duration in
 * ms, and whether it ended a compaction (the store's `alexstorage:checkpoint` event, metrics).
 */
export type CheckpointObserver = (
  lsn: number,
  bytes: number,
  durationMs: number,
  compaction: boolean,
) => void

/**
 * The checkpoint procedure (docs/storage-format.md, section 9; the crash argument for every gap
 * is in docs/architecture.md, section 4): capture the applied state, make every segment durable,
 * write the snapshot, (for a compaction) the retirement marker, checkpoint the log, then delete
 * what the snapshot replaced. Holds the snapshot bookkeeping: sequence, LSN, life counters.
 */
export class Checkpointer {
  private readonly fs: FileSystem
  private readonly dir: string
  private readonly segments: SegmentSet
  private readonly index: AlexIndex
  private readonly wal: Wal
  private readonly writes: WritePipeline
  private readonly failure: StoreFailure
  /** Retired segments kept while open snapshots may read them (step 6). */
  readonly retention: SegmentRetention
  private seq: number
  private lsn: number
  private count: number
  private compactionCount: number
  private retireBelow: number
  private ownFsyncs = 0
  private readonly observer: CheckpointObserver | undefined

  constructor(
    fs: FileSystem,
    dir: string,
    layers: {
      segments: SegmentSet
      index: AlexIndex
      wal: Wal
      writes: WritePipeline
      history: VersionHistory
    },
    failure: StoreFailure,
    state: CheckpointState,
    observer?: CheckpointObserver,
  ) {
    this.observer = observer
    this.fs = fs
    this.dir = dir
    this.segments = layers.segments
    this.index = layers.index
    this.wal = layers.wal
    this.writes = layers.writes
    this.failure = failure
    this.retention = new SegmentRetention(layers.segments, layers.history)
    this.seq = state.snapshotSeq
    this.lsn = state.snapshotLsn
    this.count = state.checkpoints
    this.compactionCount = state.compactions
    this.retireBelow = state.retireBelow
  }

  /** LSN covered by the newest snapshot. */
  get snapshotLsn(): number {
    return this.lsn
  }

  /** Checkpoints completed over the store's life. */
  get checkpoints(): number {
    return this.count
  }

  /** Compactions completed over the store's life. */
  get compactions(): number {
    return this.compactionCount
  }

  /** fsyncs this procedure made (segments, snapshots, directory) since open. */
  get fsyncs(): number {
    return this.ownFsyncs
  }

  /** True if writes were applied or segments created since the newest snapshot. */
  isBehind(): boolean {
    return this.writes.appliedLsn > this.lsn || this.segments.hasUnsyncedDirectory()
  }

  /**
   * Runs a checkpoint. `retire` are segments the snapshot must no longer name (compaction
   * inputs, deleted after it is durable); `floor` > 0 marks a compaction: every segment with an
   * id below it is among `retire`. Any failure fails the store.
   */
  async run(retire: readonly DataSegment[], floor: number): Promise<void> {
    await this.writes.settle()
    this.failure.check()
    const started = performance.now()
    // 1. Capture (synchronous): the applied state at LSN L. Sealed segments without a record
    //    hold nothing: retire them too.
    const lsn = this.writes.appliedLsn
    const retired = [...retire]
    for (const s of this.segments.emptySealed()) if (!retired.includes(s)) retired.push(s)
    const seq = this.seq + 1
    const bytes = this.capture(seq, lsn, retired, floor)
    const ops = this.writes.opsSinceCheckpoint
    const recordBytes = this.writes.bytesSinceCheckpoint
    try {
      // 2. Every record up to L is durable in the segments, the retired ones included (a full
      //    scan must find the tombstones they hold as long as they exist), and so is every
      //    segment's directory entry.
      this.ownFsyncs += await this.segments.syncAll()
      // 3. The snapshot: temp, fsync, rename, fsync the directory. It is now the store's state.
      this.ownFsyncs += await writeSnapshot(this.fs, this.dir, seq, bytes)
      this.seq = seq
      this.lsn = lsn
      // 4. A compaction's retirement marker, durable before any input is deleted and before the
      //    log forgets the operations whose tombstones only the inputs hold.
      if (floor > 0) {
        await this.writeRetiredMarker(floor)
        this.retireBelow = floor
      }
      // 5. The log may drop what the snapshot covers.
      await this.wal.checkpointUpTo(lsn)
      // 6. Only now delete what the snapshot replaced.
      await this.deleteReplaced(seq, lsn, retired)
    } catch (err) {
      throw this.failure.fail(err)
    }
    this.count++
    if (floor > 0) this.compactionCount++
    this.writes.checkpointed(ops, recordBytes)
    this.observer?.(lsn, bytes.length, performance.now() - started, floor > 0)
  }

  /**
   * A checkpoint of a state the index does not hold yet: the bulk ingest's (ingest.ts). The
   * snapshot at `lsn` holds `keys` (strictly increasing) and `locations` and names every segment;
   * steps 2, 3, 5 and 6 are those of `run`. Once the snapshot is durable, `install()` makes that
   * state the store's, in one synchronous step, before the log is checkpointed: what the store
   * shows is durable first (docs/architecture.md, "Bulk ingest"). Any failure fails the store.
   */
  async runPrepared(
    lsn: number,
    keys: Float64Array,
    locations: Float64Array,
    install: () => void,
  ): Promise<void> {
    await this.writes.settle()
    this.failure.check()
    const seq = this.seq + 1
    const header = {
      seq,
      lsn,
      nextSegmentId: this.segments.nextId,
      checkpoints: this.count + 1,
      compactions: this.compactionCount,
      retireBelow: this.retireBelow,
      segments: this.segments.tableExcept([]),
    }
    const ops = this.writes.opsSinceCheckpoint
    const recordBytes = this.writes.bytesSinceCheckpoint
    try {
      this.ownFsyncs += await this.segments.syncAll()
      this.ownFsyncs += await writeSnapshotFrom(this.fs, this.dir, seq, header, keys, locations)
      this.seq = seq
      this.lsn = lsn
      install()
      await this.wal.checkpointUpTo(lsn)
      await this.deleteReplaced(seq, lsn, [])
    } catch (err) {
      throw this.failure.fail(err)
    }
    this.count++
    this.writes.checkpointed(ops, recordBytes)
  }

  /** Step 1: the snapshot of the index at `lsn`, sealed, in its file layout. */
  private capture(
    seq: number,
    lsn: number,
    retired: readonly DataSegment[],
    floor: number,
  ): Uint8Array {
    for (const r of retired) {
      if (r.liveBytes !== 0) throw new Error(`bug: retiring segment ${r.id} still has live records`)
    }
    const n = this.index.size
    const builder = buildSnapshot(
      {
        seq,
        lsn,
        nextSegmentId: this.segments.nextId,
        checkpoints: this.count + 1,
        compactions: this.compactionCount + (floor > 0 ? 1 : 0),
        retireBelow: floor > 0 ? floor : this.retireBelow,
        segments: this.segments.tableExcept(retired),
      },
      n,
    )
    const i = this.index.scan(builder.keys, builder.locations)
    if (i !== n) throw new Error(`bug: index size ${n} but iteration gave ${i} keys`)
    sealSnapshot(builder.bytes)
    return builder.bytes
  }

  /** Creates the empty marker `retired-<floor>` and makes it durable. */
  private async writeRetiredMarker(floor: number): Promise<void> {
    try {
      this.fs.open(join(this.dir, retiredName(floor)), 'wx+').close()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    await this.fs.syncDir(this.dir)
    this.ownFsyncs++
  }

  /**
   * Step 6: older snapshots, retired segments, older markers; then the directory fsync. A retired
   * segment an open snapshot older than `lsn` may still read is kept until it is released
   * (`SegmentRetention`).
   */
  private async deleteReplaced(
    seq: number,
    lsn: number,
    retired: readonly DataSegment[],
  ): Promise<void> {
    const listing = classifyNames(this.fs.readdir(this.dir))
    let deleted = 0
    for (const s of listing.snapshots) {
      if (s < seq) {
        this.fs.unlink(join(this.dir, snapshotName(s)))
        deleted++
      }
    }
    for (const r of retired) if (this.retention.retire(r, lsn)) deleted++
    for (const m of listing.retired) {
      if (m < this.retireBelow) {
        this.fs.unlink(join(this.dir, retiredName(m)))
        deleted++
      }
    }
    if (deleted > 0) {
      await this.fs.syncDir(this.dir)
      this.ownFsyncs++
    }
  }
}
