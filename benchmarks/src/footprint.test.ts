import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  bytesPerKey,
  directorySize,
  type Footprint,
  formatBytes,
  medianFootprint,
  peakRssBytes,
} from './footprint.js'
import { renderFootprintSection, renderFootprintText } from './footprint-report.js'
import type { BenchResults } from './results.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'footprint-test-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

const blocksOf = (path: string): number => Number(statSync(path).blocks) * 512

describe('directorySize', () => {
  it('sums the files of the whole tree, apparent and allocated', () => {
    writeFileSync(join(dir, 'a'), Buffer.alloc(10_000, 1))
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true })
    writeFileSync(join(dir, 'sub', 'b'), Buffer.alloc(3000, 2))
    writeFileSync(join(dir, 'sub', 'deeper', 'c'), Buffer.alloc(1, 3))
    const size = directorySize(dir)
    expect(size.apparent).toBe(13_001)
    // Allocated: every file's and directory's blocks, the root included (what `du -s -B1` says).
    const expected =
      blocksOf(dir) +
      blocksOf(join(dir, 'a')) +
      blocksOf(join(dir, 'sub')) +
      blocksOf(join(dir, 'sub', 'b')) +
      blocksOf(join(dir, 'sub', 'deeper')) +
      blocksOf(join(dir, 'sub', 'deeper', 'c'))
    expect(size.allocated).toBe(expected)
    expect(size.allocated).toBeGreaterThanOrEqual(13_001)
  })

  it('tells a sparse (preallocated-looking) file apart: large apparent size, few blocks', () => {
    const fd = openSync(join(dir, 'map.mdb'), 'w')
    ftruncateSync(fd, 64 * 1024 * 1024)
    closeSync(fd)
    const size = directorySize(dir)
    expect(size.apparent).toBe(64 * 1024 * 1024)
    expect(size.allocated).toBeLessThan(1024 * 1024)
  })

  it('counts a symbolic link as itself, never what it points to', () => {
    const outside = mkdtempSync(join(tmpdir(), 'footprint-outside-'))
    try {
      writeFileSync(join(outside, 'big'), Buffer.alloc(100_000))
      symlinkSync(outside, join(dir, 'link'))
      symlinkSync(join(outside, 'big'), join(dir, 'file-link'))
      expect(directorySize(dir).apparent).toBe(0)
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  it('gives zero for a directory that does not exist', () => {
    expect(directorySize(join(dir, 'missing'))).toEqual({ apparent: 0, allocated: 0 })
  })
})

describe('peak RSS', () => {
  it('is in bytes and at least the current RSS', () => {
    const rss = process.memoryUsage().rss
    const peak = peakRssBytes()
    // maxRSS is in KiB: a value in bytes is over 10 MB for any Node process.
    expect(peak).toBeGreaterThan(10 * 1024 * 1024)
    expect(peak).toBeGreaterThanOrEqual(rss - 1024 * 1024)
  })
})

const fp = (rss: number, disk: number, apparent = disk): Footprint => ({
  peakRssBytes: rss,
  harnessRssBytes: 100 * 1024 * 1024,
  keysAfterLoad: 1000,
  diskAfterLoad: { apparent, allocated: disk },
  keysAfterWorkloads: 1100,
  diskAfterWorkloads: { apparent, allocated: disk * 2 },
})

describe('footprint figures', () => {
  it('takes the median of each figure over the repetitions', () => {
    const m = medianFootprint('alex', [fp(300, 10), fp(100, 30), fp(200, 20)])!
    expect(m.peakRssBytes).toBe(200)
    expect(m.diskAfterLoad.allocated).toBe(20)
    expect(m.diskAfterWorkloads.allocated).toBe(40)
    expect(m.reps).toHaveLength(3)
    expect(medianFootprint('alex', [])).toBeUndefined()
  })

  it('formats bytes in binary units and bytes per key', () => {
    expect(formatBytes(812)).toBe('812 B')
    expect(formatBytes(1536)).toBe('1.50 KiB')
    expect(formatBytes(37.25 * 1024 * 1024)).toBe('37.3 MiB')
    expect(formatBytes(1.29 * 1024 ** 3)).toBe('1.29 GiB')
    expect(bytesPerKey(1_500_000, 10_000)).toBe('150.0')
    expect(bytesPerKey(10, 0)).toBe('n/a')
  })

  it('renders the Memory and disk table: allocated bytes, apparent size apart, none for in-memory', () => {
    const MiB = 1024 * 1024
    const results = {
      config: { reps: 1 },
      engines: [
        { id: 'lmdb', name: 'LMDB' },
        { id: 'map', name: 'Map' },
      ],
      footprints: [
        { ...fp(500 * MiB, 150 * MiB, 1024 * MiB), engine: 'lmdb', reps: [] },
        { ...fp(900 * MiB, 0), engine: 'map', reps: [] },
      ],
    } as unknown as BenchResults
    const md = renderFootprintSection(results)
    expect(md).toContain('### Memory and disk')
    expect(md).toContain('| LMDB | 500 MiB | 100 MiB | 150 MiB | 157286.4 | 300 MiB | 1.00 GiB |')
    expect(md).toContain(
      '| Map ¹ | 900 MiB | 100 MiB | none (in memory) |  | none (in memory) |  |',
    )
    const text = renderFootprintText(results)
    expect(text).toContain('Memory and disk')
    expect(text).toMatch(/LMDB\s+500 MiB\s+100 MiB\s+150 MiB/)
    expect(renderFootprintSection({ ...results, footprints: undefined })).toBe('')
    expect(renderFootprintText({ ...results, footprints: [] })).toBe('')
  })
})
