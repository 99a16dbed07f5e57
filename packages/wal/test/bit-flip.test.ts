import { describe, expect, it } from 'vitest'
import { Wal, type WalOp } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { collect, del, expected, flipBits, type PlainRecord, put } from './helpers.js'

const DIR = '/db/wal'

async function writeLog() {
  const fs = new FaultInjectionFileSystem()
  const wal = await Wal.open(DIR, { fs })
  const file = fs.listFiles()[0] as string
  const items: Array<WalOp | WalOp[]> = [put(1, 4), [put(2, 3), del(3)], del(4), put(5, 6)]
  const ends: number[] = []
  const records: PlainRecord[] = []
  let lsn = 1n
  for (const item of items) {
    const ops = Array.isArray(item) ? item : [item]
    if (Array.isArray(item)) await wal.appendBatch(item)
    else await wal.append(item)
    for (const op of ops) records.push(expected(op, lsn++))
    ends.push(wal.stats().bytesWritten) // the file itself is longer: zero padding
  }
  await wal.close()
  return { file, bytes: fs.readFile(file), ends, records }
}

async function openFlipped(file: string, bytes: Uint8Array, bit: number) {
  const image = new FaultInjectionFileSystem()
  const copy = bytes.slice()
  flipBits(copy, bit >> 3, 1 << (bit & 7))
  image.writeFile(file, copy)
  try {
    const wal = await Wal.open(DIR, { fs: image })
    const result = { wal, records: collect(wal), error: undefined }
    await wal.close()
    return result
  } catch (error) {
    return { wal: undefined, records: [], error: error as { code?: string } }
  }
}

describe('every single-bit flip is detected', () => {
  it('in a record: never replayed as data; corruption unless it is in the last record', async () => {
    const { file, bytes, ends, records } = await writeLog()
    let flips = 0
    for (let bit = 56 * 8; bit < bytes.length * 8; bit++) {
      const { wal, records: got, error } = await openFlipped(file, bytes, bit)
      const frame = ends.findIndex((end) => bit >> 3 < end)
      const inLast = frame === ends.length - 1
      if (!inLast) {
        // Valid records follow the damaged one: that is corruption, not a torn tail.
        expect(error, `bit ${bit}`).toMatchObject({ code: 'ERR_CORRUPTION' })
      } else {
        expect(error, `bit ${bit}`).toBeUndefined()
        expect(wal?.recovery.dropped.length, `bit ${bit}`).toBe(1)
        expect(got).toEqual(records.slice(0, -1))
      }
      flips++
    }
    expect(flips).toBe((bytes.length - 56) * 8)
  })

  it('in the segment header: the log is refused with a typed error', async () => {
    const { file, bytes } = await writeLog()
    for (let bit = 0; bit < 56 * 8; bit++) {
      const { error } = await openFlipped(file, bytes, bit)
      expect(['ERR_CORRUPTION', 'ERR_UNSUPPORTED_VERSION'], `bit ${bit}`).toContain(error?.code)
    }
  })
})
