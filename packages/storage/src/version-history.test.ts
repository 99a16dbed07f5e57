import { normalizeRange } from '@alex/index'
import { describe, expect, it } from 'vitest'
import { rng } from '../test/helpers.js'
import { ABSENT, CURRENT, VersionHistory } from './version-history.js'

describe('VersionHistory', () => {
  it('records nothing while no snapshot is open', () => {
    const h = new VersionHistory()
    expect(h.recording).toBe(false)
    h.changed(1, 100, 5)
    expect(h.size).toBe(0)
    expect(h.locationAt(1, 0)).toBe(CURRENT)
    expect(h.oldestLsn).toBe(Number.POSITIVE_INFINITY)
  })

  it('answers with the old location of the first change after the LSN', () => {
    const h = new VersionHistory()
    const s = h.acquire(10)
    h.changed(1, undefined, 11) // created at 11
    h.changed(1, 500, 12) // overwritten at 12 (500: the record of 11)
    h.changed(2, 700, 12)
    h.changed(1, 600, 14) // deleted at 14
    expect(h.locationAt(1, 10)).toBe(ABSENT)
    expect(h.locationAt(1, 11)).toBe(500)
    expect(h.locationAt(1, 12)).toBe(600)
    expect(h.locationAt(1, 13)).toBe(600)
    expect(h.locationAt(1, 14)).toBe(CURRENT)
    expect(h.locationAt(2, 11)).toBe(700)
    expect(h.locationAt(2, 12)).toBe(CURRENT)
    expect(h.locationAt(3, 0)).toBe(CURRENT)
    const keys = new Float64Array(4)
    expect(h.scanKeys(keys, normalizeRange({}))).toBe(2)
    expect([...keys.subarray(0, 2)]).toEqual([1, 2])
    h.release(s)
    expect(h.size).toBe(0)
    expect(h.recording).toBe(false)
  })

  it('drops the changes at or below the oldest open snapshot when it is released', () => {
    const h = new VersionHistory()
    const a = h.acquire(10)
    h.changed(1, 100, 11)
    const b = h.acquire(11)
    h.changed(1, 200, 12)
    h.changed(2, 300, 13)
    const c = h.acquire(13)
    h.release(b) // not the oldest: nothing moves
    expect(h.size).toBe(3)
    expect(h.oldestLsn).toBe(10)
    h.release(a) // oldest now 13: the changes at 11, 12 and 13 go
    expect(h.oldestLsn).toBe(13)
    expect(h.size).toBe(0)
    expect(h.keyCount).toBe(0)
    h.changed(1, 400, 14)
    expect(h.locationAt(1, 13)).toBe(400)
    h.release(c)
    expect(h.size).toBe(0)
  })

  it('keeps the exact boundary: the change at oldest + 1 stays', () => {
    const h = new VersionHistory()
    const a = h.acquire(5)
    h.changed(1, 100, 6)
    const b = h.acquire(6)
    h.changed(1, 200, 7)
    h.release(a)
    expect(h.size).toBe(1) // the change at 7 is the first after b
    expect(h.locationAt(1, 6)).toBe(200)
    h.release(b)
  })

  it('counts several snapshots at one LSN, and out-of-order acquires', () => {
    const h = new VersionHistory()
    const a1 = h.acquire(8)
    const a2 = h.acquire(8)
    const late = h.acquire(20)
    const early = h.acquire(3) // out of order (not from the store)
    expect(h.openSnapshots).toBe(4)
    expect(h.oldestLsn).toBe(3)
    h.release(early)
    expect(h.oldestLsn).toBe(8)
    h.release(a1)
    expect(h.oldestLsn).toBe(8)
    h.release(a2)
    h.release(a2) // idempotent
    expect(h.oldestLsn).toBe(20)
    h.release(late)
    expect(h.openSnapshots).toBe(0)
  })

  it('releaseAll ends every hold; later releases of them are no-ops', () => {
    const h = new VersionHistory()
    const oldest: number[] = []
    h.setReleaseListener((lsn) => oldest.push(lsn))
    const a = h.acquire(1)
    h.changed(1, 10, 2)
    h.releaseAll()
    expect(h.isReleased(a)).toBe(true)
    expect(oldest).toEqual([Number.POSITIVE_INFINITY])
    const b = h.acquire(2)
    h.release(a) // from the old generation: must not touch b's count
    expect(h.openSnapshots).toBe(1)
    expect(h.isReleased(b)).toBe(false)
    h.release(b)
    expect(oldest).toEqual([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY])
  })

  it('agrees with a brute-force model through growth, sliding and pruning', () => {
    const random = rng(42)
    const int = (n: number) => Math.floor(random() * n)
    const h = new VersionHistory()
    // The model: every change ever made, and the open snapshots.
    const log: { key: number; old: number; lsn: number }[] = []
    const holds: ReturnType<VersionHistory['acquire']>[] = []
    let lsn = 0
    for (let step = 0; step < 20000; step++) {
      const r = int(100)
      if (r < 3) holds.push(h.acquire(lsn))
      else if (r < 6 && holds.length > 0) h.release(holds.splice(int(holds.length), 1)[0]!)
      else {
        lsn++
        const key = int(50)
        const old = int(3) === 0 ? undefined : int(1000)
        h.changed(key, old, lsn)
        if (h.recording) log.push({ key, old: old ?? ABSENT, lsn })
      }
      if (step % 97 === 0 && holds.length > 0) {
        const s = holds[int(holds.length)]!
        for (let key = 0; key < 50; key++) {
          const first = log.find((c) => c.key === key && c.lsn > s.lsn)
          expect(h.locationAt(key, s.lsn)).toBe(first === undefined ? CURRENT : first.old)
        }
        const oldest = Math.min(...holds.map((x) => x.lsn))
        expect(h.size).toBe(log.filter((c) => c.lsn > oldest).length)
      }
    }
  })
})
