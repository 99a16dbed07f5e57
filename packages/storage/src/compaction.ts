import type { AlexIndex } from '@alex/index'
import type { Checkpointer } from './checkpoint.js'
import type { DataSegment } from './data-segment.js'
import { MAX_SLOTS, RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE } from './format.js'
import { slotOf } from './location.js'
import type { SegmentSet } from './segment-set.js'
import type { StoreFailure } from './store-failure.js'
import type { WritePipeline } from './write-pipeline.js'

/** Entries fetched from the index per step of a compaction. */
const COMPACTION_CHUNK = 2048

/** What a compaction works with. */
export interface CompactionContext {
  segments: SegmentSet
  index: AlexIndex
  writes: WritePipeline
  checkpointer: Checkpointer
  failure: StoreFailure
  /** Capacity of a new output segment (`segmentBytes`). */
  segmentBytes: number
  /** True once the store started closing: the copy stops at its next step. */
  stopping: () => boolean
}

/** What a completed compaction did (for its `alexstorage:compaction` event and metrics). */
export interface CompactionResult {
  /** Sealed segments rewritten. */
  segments: number
  /** Their record bytes (segment headers excluded). */
  inputBytes: number
  /** Live record bytes copied into new segments. */
  copiedBytes: number
}

/**
 * Compaction (docs/storage-format.md, section 10; docs/architecture.md, section 5): seals the
 * active segment, copies every live record of the sealed inputs byte for byte into new segments,
 * a chunk at a time with a yield to the event loop between chunks (reads and writes go on),
 * pointing each key at its copy; then a checkpoint names the copies and retires the inputs.
 */
export async function compact(ctx: CompactionContext): Promise<CompactionResult | undefined> {
  const { segments, writes, failure } = ctx
  await writes.settle()
  failure.check()
  // 1. Seal the active segment; everything before the seal is the input. Segments created from
  //    now on (outputs, a new active segment) get ids >= floor.
  segments.sealActive()
  const inputs = segments.list()
  const floor = segments.nextId
  if (inputs.length === 0) return undefined
  await writes.settle() // writes appended to the inputs before the seal are applied
  failure.check()
  let inputBytes = 0
  for (const s of inputs) inputBytes += s.length - SEGMENT_HEADER_SIZE
  // 2. Copy live records, pointing each key at its copy.
  const copiedBytes = await copyLive(ctx, inputs)
  if (copiedBytes < 0) return undefined
  // 3. A checkpoint naming the copies instead of the inputs; then the inputs go.
  await ctx.checkpointer.run(inputs, floor)
  return { segments: inputs.length, inputBytes, copiedBytes }
}

/**
 * Copies every live record found in `inputs`, a chunk of the index at a time, to output
 * segments. Returns the record bytes copied, or -1 if the store started closing or failed
 * meanwhile (stopped early).
 */
async function copyLive(ctx: CompactionContext, inputs: readonly DataSegment[]): Promise<number> {
  const { segments, index } = ctx
  const isInput = new Uint8Array(MAX_SLOTS)
  for (const s of inputs) isInput[s.slot] = 1
  const keys = new Float64Array(COMPACTION_CHUNK)
  const locations = new Float64Array(COMPACTION_CHUNK)
  let out: DataSegment | undefined
  let cursor: number | undefined
  let copied = 0
  try {
    for (;;) {
      if (ctx.stopping() || ctx.failure.error !== undefined) return -1
      let n = 0
      const step =
        cursor === undefined ? { limit: COMPACTION_CHUNK } : { gt: cursor, limit: COMPACTION_CHUNK }
      for (const [key, location] of index.entries(step)) {
        keys[n] = key
        locations[n] = location
        n++
      }
      for (let i = 0; i < n; i++) {
        const location = locations[i]!
        if (isInput[slotOf(location)] !== 1) continue
        const size = segments.sizeAt(location)
        if (out === undefined || !out.hasRoom(size - RECORD_HEADER_SIZE)) {
          if (out !== undefined) segments.seal(out)
          out = segments.create(Math.max(ctx.segmentBytes, SEGMENT_HEADER_SIZE + size))
        }
        index.set(keys[i]!, segments.copyRecord(location, size, keys[i]!, out))
        copied += size
      }
      if (n < COMPACTION_CHUNK) return copied
      cursor = keys[n - 1]!
      await new Promise<void>((r) => setImmediate(r))
    }
  } finally {
    if (out !== undefined) segments.seal(out)
  }
}
