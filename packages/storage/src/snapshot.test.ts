import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeFileSystem } from '@alex/wal'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { snapshotName } from './file-names.js'
import { packLocation } from './location.js'
import {
  buildSnapshot,
  decodeSnapshot,
  readSnapshot,
  type SnapshotHeader,
  sealSnapshot,
  snapshotSize,
  writeSnapshot,
} from './snapshot.js'

const fs = new NodeFileSystem()
let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alex-snap-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const header: SnapshotHeader = {
  seq: 3,
  lsn: 2 ** 40 + 5,
  nextSegmentId: 12,
  checkpoints: 7,
  compactions: 2,
  retireBelow: 3,
  segments: [
    { slot: 0, id: 4, length: 1000, liveBytes: 500 },
    { slot: 5, id: 11, length: 64, liveBytes: 0 },
  ],
}

function sample(keys: number[], locations: number[], h = header): Uint8Array {
  const b = buildSnapshot(h, keys.length)
  b.keys.set(keys)
  b.locations.set(locations)
  sealSnapshot(b.bytes)
  return b.bytes
}

const good = () =>
  sample(
    [-5, 0, 1.5, 1e300],
    [packLocation(0, 16, 10), packLocation(0, 900, 75), packLocation(5, 16, 0), 16 * 2048],
  )

describe('snapshot', () => {
  it('round-trips header, table, keys and locations', () => {
    const bytes = good()
    expect(bytes.length).toBe(snapshotSize(4, 2))
    const s = decodeSnapshot(bytes, 'x', 3)
    expect(s).toMatchObject({ seq: 3, lsn: 2 ** 40 + 5, nextSegmentId: 12, checkpoints: 7 })
    expect(s.compactions).toBe(2)
    expect(s.retireBelow).toBe(3)
    expect(s.segments).toEqual(header.segments)
    expect([...s.keys]).toEqual([-5, 0, 1.5, 1e300])
    expect(s.locations[1]).toBe(packLocation(0, 900, 75))
  })

  it('writes durably through a temp file and reads back', async () => {
    const bytes = good()
    expect(await writeSnapshot(fs, dir, 3, bytes)).toBe(2)
    expect(readdirSync(dir)).toEqual([snapshotName(3)])
    const s = readSnapshot(fs, dir, 3)
    expect(s.keys.length).toBe(4)
    expect(() => readSnapshot(fs, dir, 4)).toThrow(/ENOENT/)
  })

  it('detects every single-bit flip', () => {
    const bytes = good()
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const copy = bytes.slice()
      copy[bit >> 3]! ^= 1 << (bit & 7)
      expect(() => decodeSnapshot(copy, 'f', 3)).toThrow(
        expect.objectContaining({ code: 'ERR_CORRUPTION', file: 'f' }),
      )
    }
  })

  it('names each defect with its offset', async () => {
    const bytes = good()
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated', bytes.subarray(0, 70), /too short/],
      ['cut tail', bytes.subarray(0, bytes.length - 1), /does not match the file size/],
      ['empty', new Uint8Array(0), /too short/],
    ]
    for (const [, b, message] of cases) expect(() => decodeSnapshot(b, 'f', 3)).toThrow(message)
    expect(() => decodeSnapshot(bytes, 'f', 4)).toThrow(/sequence number/)
    const path = join(dir, snapshotName(3))
    writeFileSync(path, Buffer.concat([bytes, Buffer.from([0])]))
    expect(() => readSnapshot(fs, dir, 3)).toThrow(
      expect.objectContaining({ code: 'ERR_CORRUPTION', file: path, offset: 32 }),
    )
  })

  it('rejects well-checksummed snapshots whose content is impossible', () => {
    const loc = packLocation(0, 16, 0)
    expect(() => decodeSnapshot(sample([2, 1], [loc, loc]), 'f', 3)).toThrow(/strictly/)
    expect(() => decodeSnapshot(sample([1, 1], [loc, loc]), 'f', 3)).toThrow(/strictly/)
    expect(() => decodeSnapshot(sample([Number.NaN], [loc]), 'f', 3)).toThrow(/strictly/)
    expect(() => decodeSnapshot(sample([Number.POSITIVE_INFINITY], [loc]), 'f', 3)).toThrow(
      /strictly/,
    )
    expect(() => decodeSnapshot(sample([1], [packLocation(1, 16, 0)]), 'f', 3)).toThrow(
      /no segment/,
    )
    expect(() => decodeSnapshot(sample([1], [packLocation(0, 980, 0)]), 'f', 3)).toThrow(/outside/)
    expect(() => decodeSnapshot(sample([1], [packLocation(0, 3, 0)]), 'f', 3)).toThrow(/outside/)
    expect(() => decodeSnapshot(sample([1], [0.5]), 'f', 3)).toThrow(/integer/)
    expect(() => decodeSnapshot(sample([1], [packLocation(0, 900, 100)]), 'f', 3)).toThrow(
      /outside/,
    )
    const dupSlot = {
      ...header,
      segments: [header.segments[0]!, { ...header.segments[0]!, id: 5 }],
    }
    expect(() => decodeSnapshot(sample([], [], dupSlot), 'f', 3)).toThrow(/slot/)
    const dupId = { ...header, segments: [header.segments[0]!, { ...header.segments[1]!, id: 4 }] }
    expect(() => decodeSnapshot(sample([], [], dupId), 'f', 3)).toThrow(/segment id/)
    const floor = { ...header, retireBelow: 13 }
    expect(() => decodeSnapshot(sample([], [], floor), 'f', 3)).toThrow(/retirement floor/)
    const future = { ...header, nextSegmentId: 11 }
    expect(() => decodeSnapshot(sample([], [], future), 'f', 3)).toThrow(/segment id/)
    const short = { ...header, segments: [{ slot: 0, id: 1, length: 8, liveBytes: 0 }] }
    expect(() => decodeSnapshot(sample([], [], short), 'f', 3)).toThrow(/length/)
  })

  it('leaves no temp file after a successful write', async () => {
    await writeSnapshot(fs, dir, 9, good().slice())
    expect(existsSync(join(dir, `${snapshotName(9)}.tmp`))).toBe(false)
    expect(readFileSync(join(dir, snapshotName(9))).length).toBe(snapshotSize(4, 2))
  })
})
