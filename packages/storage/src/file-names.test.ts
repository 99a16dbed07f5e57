import { describe, expect, it } from 'vitest'
import { classifyNames, retiredName, segmentName, snapshotName, tempName } from './file-names.js'

describe('file names', () => {
  it('formats zero-padded names', () => {
    expect(segmentName(1)).toBe('data-0000000001.seg')
    expect(snapshotName(42)).toBe('snapshot-0000000042.snap')
    expect(tempName(snapshotName(42))).toBe('snapshot-0000000042.snap.tmp')
    expect(retiredName(9)).toBe('retired-0000000009')
    expect(segmentName(12345678901)).toBe('data-12345678901.seg')
  })

  it('classifies a directory listing and ignores foreign names', () => {
    const listing = classifyNames([
      'LOCK',
      'wal',
      segmentName(3),
      segmentName(1),
      segmentName(12345678901),
      snapshotName(2),
      snapshotName(7),
      tempName(snapshotName(8)),
      retiredName(4),
      retiredName(12),
      'retired-x',
      'data-1.seg',
      'notes.txt',
      'snapshot-x.snap',
    ])
    expect(listing.segments).toEqual([1, 3, 12345678901])
    expect(listing.snapshots).toEqual([7, 2])
    expect(listing.temps).toEqual(['snapshot-0000000008.snap.tmp'])
    expect(listing.retired).toEqual([12, 4])
  })
})
