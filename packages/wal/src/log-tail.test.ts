import { join } from 'node:path'
import { rng } from '@alex/test-support'
import { describe, expect, it } from 'vitest'
import { tempDir, valueFor } from '../test/helpers.js'
import { FaultInjectionFileSystem } from './fault-injection-file-system.js'
import type { FileSystem } from './file-system.js'
import { LogTail, type LogTailVisitor } from './log-tail.js'
import { nodeFileSystem } from './node-file-system.js'
import { encodeBatch, encodePut } from './record-codec.js'
import { decodeSegmentHeader, encodeSegmentHeader, segmentFileName } from './segment.js'
import type { WalOp } from './types.js'
import { getU64 } from './u64.js'
import { Wal } from './wal.js'

const DIR = '/db/wal'

/** One delivered (or expected) operation, value copied. */
interface Op {
  lsn: number
  type: 'put' | 'delete'
  key: number
  value: number[] | undefined
  last: boolean
}

/** A visitor that copies what it is given, and the calls' boundaries. */
function collector(): { got: Op[]; visit: LogTailVisitor } {
  const got: Op[] = []
  const visit: LogTailVisitor = (lsn, type, key, value, last) => {
    got.push({ lsn, type, key, value: value ? [...value] : undefined, last })
  }
  return { got, visit }
}

/** What the log holds, as the appends made it: every operation, `last` on each record's end. */
class Model {
  readonly ops: Op[] = []

  add(ops: readonly WalOp[], lastLsn: number): void {
    ops.forEach((op, i) => {
      this.ops.push({
        lsn: lastLsn - ops.length + 1 + i,
        type: op.type,
        key: op.key,
        value: op.type === 'put' ? [...op.value] : undefined,
        last: i === ops.length - 1,
      })
    })
  }

  /** The operations after `after` (a batch cut by `after` keeps its tail, `last` and all). */
  after(after: number, upTo = Number.POSITIVE_INFINITY): Op[] {
    return this.ops.filter((o) => o.lsn > after && o.lsn <= upTo)
  }
}

function randomOp(r: () => number, key: number): WalOp {
  return r() < 0.25
    ? { type: 'delete', key }
    : { type: 'put', key, value: valueFor(key, 0, Math.floor(r() * 300)) }
}

/** Appends a random put, delete or batch through the seam; returns its last LSN. */
function appendRandom(wal: Wal, r: () => number, model: Model): number {
  const key = Math.floor(r() * 1e6) / 8
  if (r() < 0.35) {
    const ops = Array.from({ length: 1 + Math.floor(r() * 6) }, (_, i) => randomOp(r, key + i))
    const lsn = wal.appendBatchValidated(ops)
    model.add(ops, lsn)
    return lsn
  }
  const op = randomOp(r, key)
  const lsn = wal.appendValidated(op)
  model.add([op], lsn)
  return lsn
}

/** A log of `n` random records (several segments), closed; its model. */
async function writtenLog(fs: FileSystem, n: number, seed = 3): Promise<Model> {
  const wal = await Wal.open(DIR, { fs, segmentBytes: 4096 })
  const model = new Model()
  const r = rng(seed)
  for (let i = 0; i < n; i++) await wal.whenDurable(appendRandom(wal, r, model))
  await wal.close()
  return model
}

/** Frame starts of a segment's bytes, with their type and (operation frames) first LSN. */
function frames(bytes: Uint8Array): Array<{ offset: number; type: number; lsn: number }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = []
  for (let at = 56; at + 9 <= bytes.length && bytes[at + 8] !== 0; ) {
    const type = bytes[at + 8] as number
    out.push({ offset: at, type, lsn: type <= 3 ? getU64(view, at + 9) : -1 })
    at += 9 + view.getUint32(at + 4, true)
  }
  return out
}

const segPath = (id: number, dir = DIR) => join(dir, segmentFileName(id))

describe.each([
  ['in-memory file system', false],
  ['real file system', true],
])('LogTail on a live Wal in the same process (%s)', (_name, real) => {
  it('delivers every operation in LSN order, batches whole, across rotations and checkpoints', async () => {
    const temp = real ? tempDir('alex-wal-tail-') : undefined
    const fs: FileSystem = real ? nodeFileSystem : new FaultInjectionFileSystem()
    const dir = temp ? temp.dir : DIR
    try {
      const wal = await Wal.open(dir, { fs, segmentBytes: 4096 })
      const tail = LogTail.open(dir, { fs })
      wal.setRetentionFloor(() => tail.position + 1)
      const model = new Model()
      const { got, visit } = collector()
      const r = rng(11)
      for (let round = 0; round < 60; round++) {
        let lastLsn = 0
        const burst = 1 + Math.floor(r() * 25)
        for (let i = 0; i < burst; i++) lastLsn = appendRandom(wal, r, model)
        let settled = false
        const durable = wal.whenDurable(lastLsn).then(() => {
          settled = true
        })
        // Read while the group is being written, synced, rotated: only up to what is written.
        while (!settled) {
          tail.read(wal.lastWrittenLsn, visit)
          await new Promise((resolve) => setImmediate(resolve))
        }
        await durable
        expect(tail.read(wal.lastWrittenLsn, visit)).toBe(lastLsn)
        if (round % 15 === 14) await wal.checkpointUpTo(lastLsn)
      }
      expect(got).toEqual(model.after(0))
      expect(tail.position).toBe(wal.lastWrittenLsn)
      expect(wal.stats().segmentsCreated).toBeGreaterThan(8)
      expect(wal.stats().segmentsDeleted).toBeGreaterThan(0)
      tail.close()
      await wal.close()
      if (fs instanceof FaultInjectionFileSystem) expect(fs.openHandles).toBe(0)
    } finally {
      temp?.cleanup()
    }
  })
})

describe('LogTail: positioning and bounds', () => {
  it('starts after any LSN: mid-segment, at segment boundaries, inside a batch', async () => {
    const fs = new FaultInjectionFileSystem()
    const model = await writtenLog(fs, 300)
    const last = (model.ops[model.ops.length - 1] as Op).lsn
    const boundaries = fs
      .listFiles()
      .filter((p) => p.endsWith('.wal'))
      .map((p, i) => {
        const h = decodeSegmentHeader(fs.readFile(p), i + 1)
        return h.ok ? h.header.baseLsn : -1
      })
    const midBatch = model.ops.find((o) => !o.last)?.lsn as number
    for (const after of [
      0,
      1,
      2,
      midBatch,
      150,
      last - 1,
      last,
      ...boundaries.flatMap((b) => [b - 1, b]),
    ]) {
      const tail = LogTail.open(DIR, { fs, after })
      const { got, visit } = collector()
      expect(tail.read(last, visit)).toBe(Math.max(after, last))
      expect(got).toEqual(model.after(after))
      tail.close()
    }
    expect(fs.openHandles).toBe(0)
  })

  it('never splits a batch: with maxOps 1 each call delivers one whole record', async () => {
    const fs = new FaultInjectionFileSystem()
    const model = await writtenLog(fs, 200, 5)
    const last = (model.ops[model.ops.length - 1] as Op).lsn
    const tail = LogTail.open(DIR, { fs })
    const all: Op[] = []
    while (tail.position < last) {
      const { got, visit } = collector()
      const before = tail.position
      const now = tail.read(last, visit, 1)
      expect(now).toBeGreaterThan(before)
      // One record: consecutive LSNs, `last` only on the final one, ending at the position.
      expect(got.map((o) => o.last)).toEqual(got.map((_, i) => i === got.length - 1))
      expect((got[got.length - 1] as Op).lsn).toBe(now)
      all.push(...got)
    }
    expect(all).toEqual(model.after(0))
    tail.close()
  })

  it('stops before a batch that goes past upTo, and maxOps bounds whole records', async () => {
    const fs = new FaultInjectionFileSystem()
    const model = await writtenLog(fs, 200, 9)
    const batch = model.ops.filter((o) => !o.last)
    const first = (batch[0] as Op).lsn
    const batchLast = (model.ops.find((o) => o.lsn > first && o.last) as Op).lsn
    const tail = LogTail.open(DIR, { fs })
    const { got, visit } = collector()
    expect(tail.read(batchLast - 1, visit)).toBe(first - 1)
    expect(got).toEqual(model.after(0, first - 1))
    // With room for 3 operations, a batch of more than that still comes whole, alone.
    const more = collector()
    const at = tail.read(Number.MAX_SAFE_INTEGER, more.visit, 3)
    expect(more.got[0]?.lsn).toBe(first)
    expect(at).toBeGreaterThanOrEqual(batchLast)
    expect(more.got[more.got.length - 1]?.last).toBe(true)
    tail.close()
  })

  it('reads version-1 segments and then the version-2 ones a newer writer added', async () => {
    const fs = new FaultInjectionFileSystem()
    const buf = new Uint8Array(4096)
    buf.set(
      encodeSegmentHeader({
        segmentId: 1,
        prevEndLsn: 1,
        baseLsn: 1,
        checkpointLsn: 0,
        version: 1,
      }),
    )
    const view = new DataView(buf.buffer)
    let end = encodePut(buf, view, 56, 1, 1, new Uint8Array([1, 2]))
    const ops: WalOp[] = [
      { type: 'put', key: 2, value: new Uint8Array([3]) },
      { type: 'delete', key: 3 },
    ]
    end = encodeBatch(buf, view, end, 2, ops, 9 + 12 + 14 + 9)
    fs.writeFile(segPath(1), buf.slice(0, end))
    const wal = await Wal.open(DIR, { fs })
    expect(await wal.append({ type: 'delete', key: 4 })).toBe(4n)
    const tail = LogTail.open(DIR, { fs })
    const { got, visit } = collector()
    expect(tail.read(4, visit)).toBe(4)
    expect(got).toEqual([
      { lsn: 1, type: 'put', key: 1, value: [1, 2], last: true },
      { lsn: 2, type: 'put', key: 2, value: [3], last: false },
      { lsn: 3, type: 'delete', key: 3, value: undefined, last: true },
      { lsn: 4, type: 'delete', key: 4, value: undefined, last: true },
    ])
    tail.close()
    await wal.close()
  })

  it('refuses a bad after, a directory without segments, and reads after close', async () => {
    const fs = new FaultInjectionFileSystem()
    expect(() => LogTail.open(DIR, { fs, after: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    expect(() => LogTail.open(DIR, { fs })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    await writtenLog(fs, 3)
    expect(() => LogTail.open(DIR, { fs, after: 1.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    const tail = LogTail.open(DIR, { fs })
    tail.close()
    tail.close()
    expect(() => tail.read(3, () => {})).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })
})

describe('LogTail: trimmed segments', () => {
  it('after below the oldest retained LSN is ERR_LSN_TRIMMED with the oldest LSN', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs, segmentBytes: 4096 })
    const model = new Model()
    const r = rng(21)
    let last = 0
    for (let i = 0; i < 200; i++) last = await wal.whenDurable(appendRandom(wal, r, model))
    const middle = model.ops[Math.floor(model.ops.length / 2)] as Op
    await wal.checkpoint(BigInt(middle.lsn))
    const oldest = wal.oldestLsn
    expect(oldest).toBeGreaterThan(1)
    expect(oldest).toBeLessThanOrEqual(middle.lsn + 1)
    for (const after of [1, oldest - 2]) {
      let err: unknown
      try {
        LogTail.open(DIR, { fs, after })
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ code: 'ERR_LSN_TRIMMED', oldestLsn: oldest })
    }
    // From the oldest on (or from 0: the oldest retained), everything left is there.
    for (const after of [0, oldest - 1]) {
      const tail = LogTail.open(DIR, { fs, after })
      expect(tail.oldestLsn()).toBe(oldest)
      const { got, visit } = collector()
      expect(tail.read(last, visit)).toBe(last)
      expect(got).toEqual(model.after(oldest - 1))
      tail.close()
    }
    await wal.close()
  })

  it('keeps reading a segment deleted under it; a next segment deleted before it got there is ERR_LSN_TRIMMED', async () => {
    const fs = new FaultInjectionFileSystem()
    const wal = await Wal.open(DIR, { fs, segmentBytes: 4096 })
    const model = new Model()
    const r = rng(33)
    let last = 0
    while (!fs.exists(segPath(3))) last = await wal.whenDurable(appendRandom(wal, r, model))
    await wal.whenDurable(last)
    const tail = LogTail.open(DIR, { fs })
    const { got, visit } = collector()
    tail.read(3, visit)
    // Delete segment 1 only (checkpoint at its last LSN): the tail reads on through its handle.
    const h2 = decodeSegmentHeader(fs.readFile(segPath(2)), 2)
    if (!h2.ok) throw new Error('segment 2 header')
    await wal.checkpoint(BigInt(h2.header.baseLsn - 1))
    expect(fs.exists(segPath(1))).toBe(false)
    expect(tail.read(last, visit)).toBe(last)
    expect(got).toEqual(model.after(0))

    // Now the tail is in segment 3; checkpoint everything: 3 and 4 go (5 is the new active).
    const before = tail.position
    while (!fs.exists(segPath(4))) last = await wal.whenDurable(appendRandom(wal, r, model))
    await wal.whenDurable(last)
    await wal.checkpoint(BigInt(last))
    expect(fs.exists(segPath(3))).toBe(false)
    let err: unknown
    try {
      tail.read(wal.lastWrittenLsn, visit)
    } catch (e) {
      err = e
    }
    // It read what segment 3 still had, then found 4 gone.
    expect(err).toMatchObject({ code: 'ERR_LSN_TRIMMED', oldestLsn: wal.oldestLsn })
    expect(tail.position).toBeGreaterThanOrEqual(before)
    expect(got).toEqual(model.after(0, tail.position))
    tail.close()
    await wal.close()
  })
})

describe('LogTail: what it trusts', () => {
  it('an incomplete final frame, garbage or zeros beyond upTo is nothing more yet', async () => {
    const fs = new FaultInjectionFileSystem()
    const model = await writtenLog(fs, 40)
    const last = (model.ops[model.ops.length - 1] as Op).lsn
    const newest = fs
      .listFiles()
      .filter((p) => p.endsWith('.wal'))
      .pop() as string
    const full = new Uint8Array(9 + 16 + 50)
    encodePut(full, new DataView(full.buffer), 0, last + 1, 7, new Uint8Array(50).fill(9))
    const tails: Array<[string, Uint8Array]> = [
      ['half a frame', full.subarray(0, 40)],
      ['a frame header only', full.subarray(0, 9)],
      ['zero padding', new Uint8Array(5000)],
      ['a frame then zeros', new Uint8Array([...full.subarray(0, 60), ...new Uint8Array(100)])],
      ['garbage', new Uint8Array(77).fill(0xa5)],
    ]
    const bytes = fs.readFile(newest)
    for (const [name, extra] of tails) {
      fs.writeFile(newest, new Uint8Array([...bytes, ...extra]))
      const tail = LogTail.open(DIR, { fs })
      const { got, visit } = collector()
      expect(tail.read(last, visit), name).toBe(last)
      expect(got, name).toEqual(model.after(0))
      // Asked for the next LSN, which is not (yet) written whole: that is damage.
      expect(() => tail.read(last + 1, visit), name).toThrow(
        expect.objectContaining({ code: 'ERR_CORRUPTION', file: newest, offset: bytes.length }),
      )
      expect(tail.position).toBe(last)
      tail.close()
    }
    // The complete frame, once there, is read.
    fs.writeFile(newest, new Uint8Array([...bytes, ...full]))
    const tail = LogTail.open(DIR, { fs, after: last })
    const { got, visit } = collector()
    expect(tail.read(last + 1, visit)).toBe(last + 1)
    expect(got).toEqual([
      { lsn: last + 1, type: 'put', key: 7, value: [...full.subarray(25)], last: true },
    ])
    tail.close()
  })

  it('a damaged frame at or below upTo is ERR_CORRUPTION with file and offset', async () => {
    const fs = new FaultInjectionFileSystem()
    const model = await writtenLog(fs, 30)
    const path = segPath(1)
    const bytes = fs.readFile(path)
    const victim = frames(bytes).find((f) => f.type === 1 && f.lsn > 5) as {
      offset: number
      lsn: number
    }
    const cases: Array<[string, number, number, string]> = [
      ['checksum', victim.offset + 20, 0x01, 'checksum-mismatch'],
      ['type byte', victim.offset + 8, 0x0f, 'bad-record-type'],
    ]
    for (const [name, index, mask, reason] of cases) {
      const damaged = bytes.slice()
      damaged[index] = (damaged[index] as number) ^ mask
      fs.writeFile(path, damaged)
      const tail = LogTail.open(DIR, { fs })
      const { got, visit } = collector()
      // Up to the LSN before it: fine, it is never looked at.
      expect(tail.read(victim.lsn - 1, visit), name).toBe(victim.lsn - 1)
      expect(() => tail.read(victim.lsn, visit), name).toThrow(
        expect.objectContaining({
          code: 'ERR_CORRUPTION',
          file: path,
          offset: victim.offset,
          reason,
        }),
      )
      expect(tail.position).toBe(victim.lsn - 1)
      expect(got).toEqual(model.after(0, victim.lsn - 1))
      tail.close()
    }
  })

  it('damage at the end of a sealed segment is corruption even with a next segment', async () => {
    const fs = new FaultInjectionFileSystem()
    const model = await writtenLog(fs, 100)
    const last = (model.ops[model.ops.length - 1] as Op).lsn
    const bytes = fs.readFile(segPath(1))
    fs.writeFile(segPath(1), new Uint8Array([...bytes, 1, 2, 3]))
    const tail = LogTail.open(DIR, { fs })
    expect(() => tail.read(last, () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_CORRUPTION', offset: bytes.length }),
    )
    tail.close()
  })
})
