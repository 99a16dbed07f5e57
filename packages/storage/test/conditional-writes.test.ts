import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlexStorage, type AlexStorageError } from '../src/index.js'
import { hashDir, tempDir, valueFor } from './helpers.js'

/**
 * Conditional writes (`batch(ops, { ifVersion })`), `version(key)` and `getMany(keys)`: exact
 * read-modify-write under contention, conflicts that write nothing (same LSNs, same bytes on
 * disk), conflicts with writes still in flight, validation.
 */

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-conditional-'))
})
afterEach(() => cleanup())

const code = (c: string) => expect.objectContaining({ code: c })
const encode = (n: number) => new Uint8Array(new Float64Array([n]).buffer)
const decode = (v: Uint8Array | undefined) =>
  v === undefined ? 0 : new Float64Array(v.slice().buffer)[0]!

/** Increments the counter at `key` by one, retrying on ERR_CONFLICT; returns the attempts. */
async function increment(db: AlexStorage, key: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const version = db.version(key)
    const next = decode(db.get(key)) + 1
    try {
      await db.batch([{ type: 'put', key, value: encode(next) }], { ifVersion: [[key, version]] })
      return attempt
    } catch (err) {
      if ((err as AlexStorageError).code !== 'ERR_CONFLICT') throw err
    }
  }
}

describe('conditional batches', () => {
  for (const sync of ['always', 'none'] as const) {
    it(`20 concurrent read-modify-write callers count exactly (sync '${sync}')`, async () => {
      const db = await AlexStorage.open(dir, { sync })
      const callers = 20
      const each = 5
      let attempts = 0
      await Promise.all(
        Array.from({ length: callers }, async () => {
          for (let i = 0; i < each; i++) {
            const n = await increment(db, 7)
            attempts += n
          }
        }),
      )
      expect(decode(db.get(7))).toBe(callers * each)
      expect(attempts).toBeGreaterThan(callers * each) // there was contention
      // Every successful increment is one logged operation; conflicts logged nothing.
      expect(db.stats().lsn).toBe(callers * each)
      await db.close()
    })
  }

  it('a refused batch writes nothing: same LSNs, same files', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, valueFor(1, 1, 10))
    await db.put(2, valueFor(2, 1, 10))
    const v1 = db.version(1)!
    const before = { stats: db.stats(), hash: hashDir(dir) }
    const refused = db.batch(
      [
        { type: 'put', key: 1, value: valueFor(1, 2, 10) },
        { type: 'delete', key: 2 },
        { type: 'put', key: 3, value: valueFor(3, 2, 10) },
      ],
      {
        ifVersion: [
          [1, v1],
          [2, v1],
          [3, undefined],
        ],
      }, // key 2 is not at v1
    )
    await expect(refused).rejects.toThrow(code('ERR_CONFLICT'))
    await expect(refused).rejects.toThrow(/key 2 is version 2, not version 1/)
    const after = db.stats()
    expect(after.lsn).toBe(before.stats.lsn)
    expect(after.wal.lastAppendedLsn).toBe(before.stats.wal.lastAppendedLsn)
    expect(after.walBytes).toBe(before.stats.walBytes)
    expect(hashDir(dir)).toBe(before.hash)
    expect(db.get(1)).toEqual(valueFor(1, 1, 10))
    expect(db.get(3)).toBeUndefined()
    await db.close()
  })

  it('counts writes issued but not yet durable, and rejects once they are visible', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, valueFor(1, 1, 10))
    const seen = db.version(1)
    const inFlight = db.put(1, valueFor(1, 2, 10)) // issued, not yet applied
    expect(db.version(1)).toBe(seen)
    const refused = db.batch([{ type: 'put', key: 1, value: valueFor(1, 3, 10) }], {
      ifVersion: [[1, seen]],
    })
    let visibleAtRejection: number | undefined
    await refused.catch((err: AlexStorageError) => {
      expect(err.code).toBe('ERR_CONFLICT')
      visibleAtRejection = db.version(1)
    })
    expect(visibleAtRejection).toBe(seen! + 1) // the retry will read the in-flight write
    await inFlight
    expect(db.get(1)).toEqual(valueFor(1, 2, 10))
    // A pending delete counts as absent; a pending put as its LSN.
    const del = db.delete(1)
    const lsnOfDelete = db.stats().wal.lastAppendedLsn
    await db.batch([{ type: 'put', key: 1, value: valueFor(1, 4, 10) }], {
      ifVersion: [[1, undefined]],
    })
    await del
    expect(db.version(1)).toBe(lsnOfDelete + 1)
    await db.close()
  })

  it('undefined means absent: create-if-absent succeeds once', async () => {
    const db = await AlexStorage.open(dir)
    const create = () =>
      db.batch([{ type: 'put', key: 5, value: new Uint8Array([1]) }], {
        ifVersion: [[5, undefined]],
      })
    const [a, b] = await Promise.allSettled([create(), create()])
    expect(a.status).toBe('fulfilled')
    expect(b.status).toBe('rejected')
    expect((b as PromiseRejectedResult).reason.code).toBe('ERR_CONFLICT')
    await expect(create()).rejects.toThrow(code('ERR_CONFLICT'))
    await db.close()
  })

  it('an empty batch with conditions only checks them; an empty list is unconditional', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, new Uint8Array([1]))
    const lsn = db.stats().lsn
    await db.batch([], { ifVersion: [[1, lsn]] })
    await expect(db.batch([], { ifVersion: [[1, lsn + 1]] })).rejects.toThrow(code('ERR_CONFLICT'))
    await db.batch([{ type: 'delete', key: 1 }], { ifVersion: [] })
    await db.batch([{ type: 'put', key: 1, value: new Uint8Array([2]) }], {})
    expect(db.stats().lsn).toBe(lsn + 2)
    await db.close()
  })

  it('validates the options before anything is written', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, new Uint8Array([1]))
    const lsn = db.stats().wal.lastAppendedLsn
    const put = [{ type: 'put' as const, key: 1, value: new Uint8Array([2]) }]
    const bad = (options: unknown) => db.batch(put, options as never)
    await expect(bad(null)).rejects.toThrow(code('ERR_INVALID_ARGUMENT'))
    await expect(bad(5)).rejects.toThrow(code('ERR_INVALID_ARGUMENT'))
    await expect(bad({ ifVersions: [] })).rejects.toThrow(/did you mean 'ifVersion'/)
    await expect(bad({ ifVersion: 1 })).rejects.toThrow(code('ERR_INVALID_ARGUMENT'))
    await expect(bad({ ifVersion: [1] })).rejects.toThrow(code('ERR_INVALID_ARGUMENT'))
    await expect(bad({ ifVersion: [[1]] })).rejects.toThrow(code('ERR_INVALID_ARGUMENT'))
    await expect(bad({ ifVersion: [[Number.NaN, 1]] })).rejects.toThrow(code('ERR_INVALID_KEY'))
    for (const version of [0, -1, 1.5, '1', Number.NaN, 2 ** 53, null]) {
      await expect(bad({ ifVersion: [[1, version]] })).rejects.toThrow(code('ERR_INVALID_ARGUMENT'))
    }
    await expect(
      db.batch([{ type: 'del', key: 1 } as never], { ifVersion: [[1, 1]] }),
    ).rejects.toThrow(code('ERR_INVALID_OP'))
    expect(db.stats().wal.lastAppendedLsn).toBe(lsn)
    await db.close()
    await expect(db.batch(put, { ifVersion: [] })).rejects.toThrow(code('ERR_CLOSED'))
    const ro = await AlexStorage.open(dir, { readOnly: true })
    await expect(ro.batch(put, { ifVersion: [] })).rejects.toThrow(code('ERR_READ_ONLY'))
    await ro.close()
  })
})

describe('version', () => {
  it('is the LSN of the visible write, unchanged by checkpoints, compactions and reopens', async () => {
    const options = {
      sync: 'none',
      segmentBytes: 4096,
      cacheBytes: 0,
      autoCompaction: false,
    } as const
    let db = await AlexStorage.open(dir, options)
    expect(db.version(1)).toBeUndefined()
    await db.put(1, valueFor(1, 1, 3000)) // a long value: its length is not in the location
    expect(db.version(1)).toBe(1)
    for (let k = 2; k < 100; k++) await db.put(k, valueFor(k, 1, 100))
    await db.put(1, valueFor(1, 2, 10))
    expect(db.version(1)).toBe(100)
    expect(db.version(50)).toBe(50)
    await db.delete(50)
    expect(db.version(50)).toBeUndefined()
    await db.compact()
    await db.checkpoint()
    expect(db.version(1)).toBe(100)
    expect(db.version(2)).toBe(2)
    await db.close()
    db = await AlexStorage.open(dir, options) // cold: read from the files
    expect(db.version(2)).toBe(2)
    expect(db.version(1)).toBe(100)
    expect(db.version(-0)).toBeUndefined()
    expect(() => db.version(Number.POSITIVE_INFINITY)).toThrow(code('ERR_INVALID_KEY'))
    await db.close()
    expect(() => db.version(1)).toThrow(code('ERR_CLOSED'))
  })
})

describe('getMany', () => {
  it('returns values in order, undefined for missing keys; validates every key first', async () => {
    const db = await AlexStorage.open(dir)
    await db.batch([
      { type: 'put', key: 1, value: new Uint8Array([1]) },
      { type: 'put', key: 3, value: new Uint8Array([3]) },
    ])
    expect(db.getMany([3, 2, 1, 3, -0])).toEqual([
      new Uint8Array([3]),
      undefined,
      new Uint8Array([1]),
      new Uint8Array([3]),
      undefined,
    ])
    expect(db.getMany([])).toEqual([])
    expect(() => db.getMany([1, Number.NaN])).toThrow(code('ERR_INVALID_KEY'))
    expect(() => db.getMany(1 as never)).toThrow(code('ERR_INVALID_ARGUMENT'))
    await db.close()
    expect(() => db.getMany([1])).toThrow(code('ERR_CLOSED'))
  })
})
