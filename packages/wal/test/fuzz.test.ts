import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type FileHandle, type FileSystem, type OpenFlags, Wal, WalError } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { collect, del, expected, type PlainRecord, put } from './helpers.js'

const DIR = '/db/wal'
const SEG1 = `${DIR}/00000000000000000001.wal`
const SEG2 = `${DIR}/00000000000000000002.wal`

/** Wraps a file system to record the largest read any file was asked for, against its size. */
class ReadWatch implements FileSystem {
  worst = 0
  constructor(private readonly inner: FileSystem) {}
  open(path: string, flags: OpenFlags): FileHandle {
    const h = this.inner.open(path, flags)
    const read = h.read.bind(h)
    h.read = (buffer, offset, length, position) => {
      this.worst = Math.max(this.worst, length - h.size())
      if (buffer.length > h.size()) this.worst = Math.max(this.worst, buffer.length - h.size())
      return read(buffer, offset, length, position)
    }
    return h
  }
  readdir(dir: string) {
    return this.inner.readdir(dir)
  }
  mkdir(dir: string) {
    this.inner.mkdir(dir)
  }
  exists(path: string) {
    return this.inner.exists(path)
  }
  rename(from: string, to: string) {
    this.inner.rename(from, to)
  }
  unlink(path: string) {
    this.inner.unlink(path)
  }
  syncDir(dir: string) {
    return this.inner.syncDir(dir)
  }
}

/** Opens the files in `files` under every recovery mode; returns what each mode replayed. */
async function openAll(files: Record<string, Uint8Array>) {
  const outcomes: Array<{ records?: PlainRecord[]; code?: string }> = []
  for (const recovery of ['tolerate-torn-tail', 'absolute-consistency', 'point-in-time'] as const) {
    const fs = new FaultInjectionFileSystem()
    for (const [path, bytes] of Object.entries(files)) fs.writeFile(path, bytes)
    const watch = new ReadWatch(fs)
    const start = performance.now()
    try {
      const wal = await Wal.open(DIR, { fs: watch, recovery })
      outcomes.push({ records: collect(wal) })
      await wal.close()
    } catch (err) {
      // Garbage must give a typed error, nothing else.
      expect(err).toBeInstanceOf(WalError)
      expect(['ERR_CORRUPTION', 'ERR_UNSUPPORTED_VERSION']).toContain((err as WalError).code)
      outcomes.push({ code: (err as WalError).code })
    }
    expect(performance.now() - start).toBeLessThan(2000)
    // No read (hence no buffer) larger than the file it reads.
    expect(watch.worst).toBeLessThanOrEqual(0)
  }
  return outcomes
}

/** A valid two-segment log and the records it holds. */
async function validLog() {
  const fs = new FaultInjectionFileSystem()
  const records: PlainRecord[] = []
  let wal = await Wal.open(DIR, { fs })
  const first = [put(1, 10), del(2), put(3, 0)]
  for (const op of first) records.push(expected(op, await wal.append(op)))
  await wal.close()
  wal = await Wal.open(DIR, { fs })
  const batch = [put(4, 20), del(5)]
  const last = await wal.appendBatch(batch)
  batch.forEach((op, i) => {
    records.push(expected(op, last - BigInt(batch.length - 1 - i)))
  })
  records.push(expected(put(6, 5), await wal.append(put(6, 5))))
  await wal.close()
  return { seg1: fs.readFile(SEG1), seg2: fs.readFile(SEG2), records }
}

describe('fuzzed and garbage files', () => {
  it('random bytes as a segment: a typed error or an empty log, fast, with bounded reads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        const outcomes = await openAll({ [SEG1]: bytes })
        for (const o of outcomes) if (o.records) expect(o.records).toEqual([])
      }),
      { numRuns: 150 },
    )
  })

  it('a valid header followed by garbage, including huge length fields', async () => {
    const { seg1 } = await validLog()
    const header = seg1.subarray(0, 56)
    const frameish = fc.tuple(
      fc.nat(),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.nat(6),
      fc.uint8Array({ maxLength: 64 }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 100 }), frameish), { maxLength: 12 }),
        async (parts) => {
          const chunks: Uint8Array[] = [header]
          for (const p of parts) {
            if (p instanceof Uint8Array) chunks.push(p)
            else {
              const [crc, len, type, body] = p
              const f = new Uint8Array(9 + body.length)
              const v = new DataView(f.buffer)
              v.setUint32(0, crc >>> 0, true)
              v.setUint32(4, len, true)
              f[8] = type
              f.set(body, 9)
              chunks.push(f)
            }
          }
          const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
          let at = 0
          for (const c of chunks) {
            bytes.set(c, at)
            at += c.length
          }
          const outcomes = await openAll({ [SEG1]: bytes })
          for (const o of outcomes) if (o.records) expect(o.records).toEqual([])
        },
      ),
      { numRuns: 150 },
    )
  })

  it('a mutated valid log never yields a record that was not written', async () => {
    const { seg1, seg2, records } = await validLog()
    const mutation = fc.record({
      file: fc.constantFrom(0, 1),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      truncate: fc.option(fc.nat(), { nil: undefined }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const files: Uint8Array[] = [seg1.slice(), seg2.slice()]
        for (const m of mutations) {
          let f: Uint8Array = files[m.file] as Uint8Array
          if (m.truncate !== undefined) f = f.slice(0, m.truncate % (f.length + 1))
          if (f.length > 0)
            f.set(m.bytes.subarray(0, Math.max(0, f.length - (m.at % f.length))), m.at % f.length)
          files[m.file] = f
        }
        const outcomes = await openAll({
          [SEG1]: files[0] as Uint8Array,
          [SEG2]: files[1] as Uint8Array,
        })
        for (const o of outcomes) {
          // Whatever survives is a prefix of what was written, record for record.
          if (o.records) expect(o.records).toEqual(records.slice(0, o.records.length))
        }
      }),
      { numRuns: 200 },
    )
  })
})
