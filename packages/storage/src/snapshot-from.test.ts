import { FaultInjectionFileSystem } from '@alex/wal/testing'
import { describe, expect, it } from 'vitest'
import { buildSnapshot, readSnapshot, sealSnapshot, writeSnapshotFrom } from './snapshot.js'

describe('writeSnapshotFrom', () => {
  it('writes the bytes buildSnapshot + sealSnapshot make, and they read back', async () => {
    const header = {
      seq: 3,
      lsn: 77,
      nextSegmentId: 9,
      checkpoints: 2,
      compactions: 1,
      retireBelow: 4,
      segments: [
        { slot: 0, id: 5, length: 4096, liveBytes: 100 },
        { slot: 2, id: 8, length: 1000, liveBytes: 0 },
      ],
    }
    const n = 50
    const keys = new Float64Array(n)
    const locations = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      keys[i] = i * 1.5 - 10
      locations[i] = (0 * 2 ** 27 + 16 + i) * 2048 + 1
    }
    const builder = buildSnapshot(header, n)
    builder.keys.set(keys)
    builder.locations.set(locations)
    sealSnapshot(builder.bytes)
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/db')
    await writeSnapshotFrom(fs, '/db', 3, header, keys, locations)
    expect(fs.readFile('/db/snapshot-0000000003.snap')).toEqual(builder.bytes)
    const back = readSnapshot(fs, '/db', 3)
    expect(back.lsn).toBe(77)
    expect([...back.keys]).toEqual([...keys])
    expect(fs.listFiles().some((f) => f.endsWith('.tmp'))).toBe(false)
  })
})
