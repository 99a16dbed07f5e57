import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeFileSystem } from '@alex/wal'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readValueLength } from './data-record.js'
import { DataSegment } from './data-segment.js'
import { segmentName } from './file-names.js'
import { RECORD_HEADER_SIZE, SEGMENT_HEADER_SIZE, TYPE_PUT, TYPE_TOMBSTONE } from './format.js'
import { scanSegmentFile } from './segment-scanner.js'

const fs = new NodeFileSystem()
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alex-seg-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function value(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill)
}

describe('DataSegment', () => {
  it('appends into memory, writes only the flushable prefix, and reads back', async () => {
    const seg = DataSegment.create(fs, dir, 1, 0, 4096)
    const a = seg.append(TYPE_PUT, 1, 10, value(100, 1))
    const b = seg.append(TYPE_PUT, 2, 20, value(50, 2))
    const c = seg.append(TYPE_TOMBSTONE, 3, 10, undefined)
    expect(a).toBe(SEGMENT_HEADER_SIZE)
    expect(b).toBe(a + RECORD_HEADER_SIZE + 100)
    // Only the first record is durable in the log: only it may reach the file.
    seg.markApplied(b)
    seg.flush()
    expect(seg.fileSize()).toBe(b)
    seg.markApplied(seg.length)
    seg.flush()
    expect(seg.fileSize()).toBe(seg.length)
    expect(await seg.sync()).toBe(true)
    expect(await seg.sync()).toBe(false)
    seg.seal()
    expect(seg.evictable).toBe(true)
    seg.evict()
    expect(seg.readValue(b, 20)).toEqual(value(50, 2))
    expect(seg.readValue(a, 10)).toEqual(value(100, 1))
    // Identity, not only integrity: a valid record of another key is corruption.
    expect(() => seg.readValue(b, 10)).toThrow(
      expect.objectContaining({ code: 'ERR_CORRUPTION', offset: b }),
    )
    expect(seg.recordSizeAt(c)).toBe(RECORD_HEADER_SIZE)
    expect(() => seg.readValue(c, 10)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPTION' }))
    seg.load()
    expect(readValueLength(seg.bytes!, b)).toBe(50)
    seg.close()
  })

  it('refuses to create a segment that exists', () => {
    DataSegment.create(fs, dir, 5, 0, 64).close()
    expect(() => DataSegment.create(fs, dir, 5, 0, 64)).toThrow(/EEXIST/)
  })

  it('reports a damaged record with file and offset on load and on a disk read', () => {
    const seg = DataSegment.create(fs, dir, 2, 0, 4096)
    seg.append(TYPE_PUT, 1, 1, value(10, 7))
    const bad = seg.append(TYPE_PUT, 2, 2, value(10, 8))
    seg.markApplied(seg.length)
    seg.flush()
    seg.close()
    const path = join(dir, segmentName(2))
    const bytes = new Uint8Array(readFileSync(path))
    bytes[bad + RECORD_HEADER_SIZE + 3]! ^= 0x10
    writeFileSync(path, bytes)
    const reopened = DataSegment.open(fs, dir, 2, 0, bytes.length, true)
    expect(() => reopened.readValue(bad, 2)).toThrow(
      expect.objectContaining({ code: 'ERR_CORRUPTION', file: path, offset: bad }),
    )
    expect(() => reopened.load()).toThrow(
      expect.objectContaining({ code: 'ERR_CORRUPTION', file: path, offset: bad }),
    )
    reopened.close()
    truncateSync(path, 10)
    const short = DataSegment.open(fs, dir, 2, 0, bytes.length, true)
    expect(() => short.load()).toThrow(expect.objectContaining({ code: 'ERR_CORRUPTION' }))
    short.close()
  })

  it('copies records byte for byte and reads cold records into a buffer', () => {
    const src = DataSegment.create(fs, dir, 3, 0, 4096)
    const off = src.append(TYPE_PUT, 9, 99, value(33, 3))
    src.markApplied(src.length)
    src.flush()
    src.seal()
    const size = RECORD_HEADER_SIZE + 33
    const hot = new Uint8Array(size)
    expect(src.readRecordInto(off, hot, 0)).toBe(size)
    src.evict()
    const cold = new Uint8Array(size + 5)
    expect(src.readRecordInto(off, cold, 5)).toBe(size)
    expect(cold.subarray(5)).toEqual(hot)
    const dst = DataSegment.create(fs, dir, 4, 1, 4096)
    const at = dst.appendRecordFrom(src, off, size, 99) // src is cold: read from its file
    expect(dst.bytes!.subarray(at, at + size)).toEqual(hot)
    src.load()
    const again = dst.appendRecordFrom(src, off, size, 99) // now from its image
    expect(dst.bytes!.subarray(again, again + size)).toEqual(hot)
    // The copy must be the record of the key the index names.
    expect(() => dst.appendRecordFrom(src, off, size, 98)).toThrow(
      expect.objectContaining({ code: 'ERR_CORRUPTION', file: src.path, offset: off }),
    )
    src.close()
    dst.close()
  })

  it('keeps a memory-only segment out of the file system', async () => {
    const seg = DataSegment.memory(9, 3, 1024)
    seg.append(TYPE_PUT, 1, 1, value(5, 5))
    seg.markApplied(seg.length)
    seg.flush()
    expect(await seg.sync()).toBe(false)
    expect(seg.fileSize()).toBe(seg.length)
    expect(seg.evictable).toBe(false)
  })
})

describe('scanSegmentFile', () => {
  it('visits every valid record and stops at a torn tail', () => {
    const seg = DataSegment.create(fs, dir, 7, 0, 4096)
    for (let i = 1; i <= 5; i++) seg.append(TYPE_PUT, i, i * 10, value(i * 3, i))
    seg.markApplied(seg.length)
    seg.flush()
    seg.close()
    const path = join(dir, segmentName(7))
    const full = seg.length
    const keys: number[] = []
    const clean = scanSegmentFile(fs, path, 7, (scan, offset) => {
      keys.push(scan.view.getFloat64(offset + 17, true))
    })
    expect(clean).toMatchObject({ headerProblem: undefined, status: 0, validEnd: full, records: 5 })
    expect(keys).toEqual([10, 20, 30, 40, 50])
    truncateSync(path, full - 2)
    const torn = scanSegmentFile(fs, path, 7, () => {})
    expect(torn.records).toBe(4)
    expect(torn.status).toBeLessThan(0)
    expect(torn.validEnd).toBe(full - RECORD_HEADER_SIZE - 15)
    expect(scanSegmentFile(fs, path, 8, () => {}).headerProblem).toMatch(/id/)
  })
})
