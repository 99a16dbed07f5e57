import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeFileSystem } from '@alex/wal'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DataSegment } from './data-segment.js'
import { TYPE_PUT } from './format.js'
import { SegmentCache } from './value-cache.js'

const fs = new NodeFileSystem()
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alex-cache-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/** A sealed, fully written, resident segment of `capacity` bytes. */
function sealed(id: number, slot: number, capacity = 1000): DataSegment {
  const s = DataSegment.create(fs, dir, id, slot, capacity)
  s.append(TYPE_PUT, id, id, new Uint8Array(100).fill(id))
  s.markApplied(s.length)
  s.flush()
  s.seal()
  return s
}

describe('SegmentCache', () => {
  it('evicts by CLOCK, giving referenced segments a second chance', () => {
    const evicted: number[] = []
    const cache = new SegmentCache(3000, (s) => evicted.push(s.id))
    const segs = [sealed(1, 0), sealed(2, 1), sealed(3, 2)]
    for (const s of segs) cache.admit(s)
    expect(cache.residentBytes).toBe(3000)
    expect(cache.hasRoom(1)).toBe(false)
    cache.ref.fill(0)
    cache.ref[1] = 1 // segment 2 was read recently
    expect(cache.makeRoom(1500)).toBe(true)
    expect(evicted).toEqual([1, 3])
    expect(segs[0]!.bytes).toBeUndefined()
    expect(segs[1]!.bytes).toBeDefined()
    expect(cache.residentSegments).toBe(1)
    expect(cache.evictions).toBe(2)
    for (const s of segs) s.close()
  })

  it('never evicts the active segment or unwritten bytes', () => {
    const cache = new SegmentCache(1000, () => {})
    const active = DataSegment.create(fs, dir, 1, 0, 1000)
    cache.admit(active)
    expect(cache.makeRoom(10)).toBe(false)
    active.seal()
    active.append(TYPE_PUT, 1, 1, new Uint8Array(10)) // appended but not written yet
    expect(cache.makeRoom(10)).toBe(false)
    active.markApplied(active.length)
    active.flush()
    cache.ref.fill(0)
    expect(cache.makeRoom(10)).toBe(true)
    active.close()
  })

  it('loads a missed segment when it fits, or after enough piecemeal reads', () => {
    const cache = new SegmentCache(1100, () => {})
    const hot = sealed(1, 0)
    cache.admit(hot)
    const cold = sealed(2, 1)
    cold.evict()
    expect(cache.shouldLoad(cold)).toBe(false) // would need an eviction, and few misses so far
    cold.readValue(16, 2)
    expect(cold.missBytes).toBe(125)
    expect(cache.shouldLoad(cold)).toBe(true) // read piecemeal for more than half its length
    expect(hot.bytes).toBeUndefined()
    forgetAndClose(cache, [hot, cold])
  })

  it('has reference bits for every slot and forgets segments', () => {
    const cache = new SegmentCache(10_000, () => {})
    const s = sealed(1, 32767)
    cache.admit(s)
    expect(cache.ref[32767]).toBe(1)
    cache.forget(s)
    cache.forget(s)
    expect(cache.residentBytes).toBe(0)
    s.close()
  })
})

function forgetAndClose(cache: SegmentCache, segs: DataSegment[]) {
  for (const s of segs) {
    cache.forget(s)
    s.close()
  }
}
