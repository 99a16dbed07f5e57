import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlexStorage, type AlexStorageOptions, ErrorCode } from '../src/index.js'
import { hashDir, rng, tempDir, valueFor } from './helpers.js'

/**
 * Bulk ingest (`db.ingest`, docs/architecture.md, "Bulk ingest"): model-based runs mixing
 * ingests with writes, checkpoints, compactions and reopens; refusals that change nothing on
 * disk; writes issued during an ingest; snapshots; following readers.
 */

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-ingest-'))
})
afterEach(() => cleanup())

const SMALL: AlexStorageOptions = {
  segmentBytes: 8 * 1024,
  walSegmentBytes: 16 * 1024,
  autoCompaction: false,
}

type Model = Map<number, Uint8Array>

function expectEqual(db: AlexStorage, model: Model, where: string): void {
  expect(db.size, `${where}: size`).toBe(model.size)
  const keys = [...model.keys()].sort((a, b) => a - b)
  const got = [...db.entries()]
  expect(
    got.map(([k]) => k),
    `${where}: keys`,
  ).toEqual(keys)
  for (const [k, v] of got) expect(v, `${where}: value of ${k}`).toEqual(model.get(k))
  for (const k of keys.slice(0, 20)) expect(db.get(k), `${where}: get ${k}`).toEqual(model.get(k))
}

async function collect<T>(items: T[]): Promise<T[]> {
  return items
}

async function* asyncEntries(
  entries: [number, Uint8Array][],
): AsyncGenerator<[number, Uint8Array]> {
  for (const e of entries) {
    await Promise.resolve()
    yield e
  }
}

describe('ingest: model-based', () => {
  it('ingests into empty and non-empty stores mixed with writes; reopen equals the model', async () => {
    const random = rng(20261201)
    const model: Model = new Map()
    const options: AlexStorageOptions = { ...SMALL, sync: 'none' }
    let db = await AlexStorage.open(dir, options)
    let version = 0
    const randomKey = () => Math.floor(random() * 3000) / 2
    for (let step = 0; step < 45; step++) {
      const r = random()
      version++
      if (r < 0.35) {
        // An ingest: a random sorted set of keys (some existing), in one of the input forms.
        const n = 1 + Math.floor(random() * 400)
        const keys = [...new Set(Array.from({ length: n }, randomKey))].sort((a, b) => a - b)
        const values = keys.map((k) => valueFor(k, version, Math.floor(random() * 300)))
        const form = Math.floor(random() * 4)
        const entries: [number, Uint8Array][] = keys.map((k, i) => [k, values[i]!])
        let result: Awaited<ReturnType<AlexStorage['ingest']>>
        if (form === 0) result = await db.ingest({ keys: Float64Array.from(keys), values })
        else if (form === 1) result = await db.ingest({ keys, values })
        else if (form === 2) result = await db.ingest(await collect(entries))
        else result = await db.ingest(asyncEntries(entries))
        expect(result.count).toBe(keys.length)
        expect(result.lastLsn - result.firstLsn + 1).toBe(keys.length)
        for (let i = 0; i < keys.length; i += 37) {
          expect(db.version(keys[i]!)).toBe(result.firstLsn + i)
        }
        for (let i = 0; i < keys.length; i++) model.set(keys[i]!, values[i]!)
      } else if (r < 0.45) {
        // Unsorted, with repeats: the last entry of a key wins.
        const n = 1 + Math.floor(random() * 200)
        const entries: [number, Uint8Array][] = []
        for (let i = 0; i < n; i++) {
          const k = randomKey()
          entries.push([k, valueFor(k, version * 1000 + i, Math.floor(random() * 100))])
        }
        const result = await db.ingest(entries, { sorted: false })
        for (const [k, v] of entries) model.set(k, v)
        expect(result.count).toBe(new Set(entries.map(([k]) => k)).size)
      } else if (r < 0.7) {
        const k = randomKey()
        const v = valueFor(k, version, Math.floor(random() * 200))
        await db.put(k, v)
        model.set(k, v)
      } else if (r < 0.8) {
        const k = random() < 0.7 && model.size > 0 ? [...model.keys()][0]! : randomKey()
        await db.delete(k)
        model.delete(k)
      } else if (r < 0.85) {
        await db.checkpoint()
      } else if (r < 0.9) {
        await db.compact()
      } else {
        await db.close()
        db = await AlexStorage.open(dir, options)
        expectEqual(db, model, `step ${step}: reopened`)
      }
      expectEqual(db, model, `step ${step}`)
    }
    // New writes number after every ingested LSN, also after a reopen.
    const last = db.lsn
    await db.close()
    db = await AlexStorage.open(dir, options)
    expectEqual(db, model, 'final reopen')
    await db.put(-1, new Uint8Array([1]))
    expect(db.version(-1)).toBeGreaterThan(last)
    await db.close()
  })

  it('an empty ingest resolves at once and writes nothing', async () => {
    const db = await AlexStorage.open(dir)
    await db.put(1, new Uint8Array([1]))
    await db.checkpoint()
    const before = hashDir(dir, { skip: ['readers'] })
    expect(await db.ingest([])).toEqual({ count: 0, firstLsn: 0, lastLsn: 0 })
    expect(hashDir(dir, { skip: ['readers'] })).toBe(before)
    await db.close()
  })
  it('long values (past the location length field, past a segment) and -0 as a key', async () => {
    const db = await AlexStorage.open(dir, SMALL) // 8 KiB segments
    const keys = Float64Array.from([-5, -0, 1, 2, 3])
    const lengths = [10, 2047, 3000, 20_000, 0]
    const list = Array.from(keys, (k, i) => valueFor(k, 1, lengths[i]!))
    await db.ingest({ keys, values: list })
    for (let i = 0; i < keys.length; i++) expect(db.get(keys[i]!)).toEqual(list[i])
    expect(db.get(0)).toEqual(list[1])
    await db.close()
    const again = await AlexStorage.open(dir, SMALL)
    expect([...again.keys()]).toEqual([-5, 0, 1, 2, 3])
    expect(Object.is([...again.keys()][1], 0)).toBe(true) // stored as +0
    for (let i = 0; i < keys.length; i++) expect(again.get(keys[i]!)).toEqual(list[i])
    await again.close()
  })
})

describe('ingest: refusals change nothing', () => {
  it('unsorted, bad keys, bad values, too large, bad options, not iterable', async () => {
    const db = await AlexStorage.open(dir, { maxValueBytes: 1000 })
    await db.put(5, new Uint8Array([5]))
    await db.checkpoint()
    const before = hashDir(dir, { skip: ['readers'] })
    const v = new Uint8Array(10)
    const cases: [unknown, unknown, string][] = [
      [{ keys: [1, 3, 2], values: [v, v, v] }, undefined, ErrorCode.INVALID_ARGUMENT],
      [{ keys: [1, 1], values: [v, v] }, undefined, ErrorCode.INVALID_ARGUMENT],
      [
        [
          [1, v],
          [0, v],
        ],
        undefined,
        ErrorCode.INVALID_ARGUMENT,
      ],
      [{ keys: [1, Number.NaN], values: [v, v] }, undefined, ErrorCode.INVALID_KEY],
      [{ keys: [1, 2], values: [v, 'x'] }, undefined, ErrorCode.INVALID_VALUE],
      [{ keys: [1, 2], values: [v, new Uint8Array(1001)] }, undefined, ErrorCode.VALUE_TOO_LARGE],
      [{ keys: [1, 2], values: [v] }, undefined, ErrorCode.INVALID_ARGUMENT],
      [[[1, v]], { sorted: 'yes' }, ErrorCode.INVALID_ARGUMENT],
      [[[1, v]], { sort: true }, ErrorCode.INVALID_ARGUMENT],
      [42, undefined, ErrorCode.INVALID_ARGUMENT],
      [[[1, v], 7], undefined, ErrorCode.INVALID_ARGUMENT],
    ]
    for (const [entries, options, code] of cases) {
      await expect(
        db.ingest(entries as never, options as never),
        JSON.stringify(entries),
      ).rejects.toMatchObject({ code })
    }
    await expect(
      db.ingest({ keys: Float64Array.from([1, 2, 9, 4]), values: [v, v, v, v] }),
    ).rejects.toThrow(/key 4 is not above the previous key 9/)
    // An iterable that throws midway: its error, nothing written.
    const failing = (function* () {
      yield [1, v] as [number, Uint8Array]
      throw new Error('source failed')
    })()
    await expect(db.ingest(failing)).rejects.toThrow('source failed')
    expect(hashDir(dir, { skip: ['readers'] })).toBe(before)
    // The store goes on as before.
    expect(db.size).toBe(1)
    await db.ingest({ keys: [7], values: [v] })
    expect(db.get(7)).toEqual(v)
    await db.close()
  })

  it('columns changed while the ingest runs: refused, the store as before', async () => {
    const db = await AlexStorage.open(dir, SMALL)
    await db.put(1, new Uint8Array([1]))
    const keys = Float64Array.from({ length: 500 }, (_, i) => i + 10)
    const values = Array.from({ length: 500 }, (_, i) => valueFor(i, 1, 50))
    const pending = db.ingest({ keys, values })
    keys[300] = 0 // out of order now: the encoder sees it
    await expect(pending).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT })
    expect(db.failed).toBe(false)
    expect(db.size).toBe(1)
    await db.close()
    const again = await AlexStorage.open(dir, SMALL)
    expect([...again.keys()]).toEqual([1])
    expect(again.recovery.removedFiles).toEqual([])
    await again.close()
  })
})

describe('ingest: concurrency, snapshots, readers', () => {
  it('writes issued during an ingest wait and are ordered after it', async () => {
    const db = await AlexStorage.open(dir, SMALL)
    await db.put(1, valueFor(1, 0, 10))
    const keys = Array.from({ length: 2000 }, (_, i) => i)
    const values = keys.map((k) => valueFor(k, 1, 40))
    const ingest = db.ingest({ keys, values })
    const mine = new Uint8Array([9, 9, 9])
    const put = db.put(5, mine)
    mine[0] = 0 // the put copied its value at the call
    const del = db.delete(6)
    const batch = db.batch([{ type: 'put', key: 7, value: new Uint8Array([7]) }])
    // Nothing of the ingest or of the writes after it is visible before it resolves.
    expect(db.get(5)).toBeUndefined()
    expect(db.get(1)).toEqual(valueFor(1, 0, 10))
    const synced = db.sync() // waits for the held writes too
    const result = await ingest
    await Promise.all([put, del, batch, synced])
    expect(db.get(5)).toEqual(new Uint8Array([9, 9, 9]))
    expect(db.get(6)).toBeUndefined()
    expect(db.get(7)).toEqual(new Uint8Array([7]))
    expect(db.get(8)).toEqual(valueFor(8, 1, 40))
    expect(db.version(5)).toBeGreaterThan(result.lastLsn)
    // A conditional batch held by an ingest is checked against the state the ingest leaves.
    const second = db.ingest({ keys: [5], values: [new Uint8Array([1])] })
    const cas = db.batch([{ type: 'delete', key: 5 }], { ifVersion: [[5, db.version(5)]] })
    await second
    await expect(cas).rejects.toMatchObject({ code: ErrorCode.CONFLICT })
    await db.close()
    const again = await AlexStorage.open(dir, SMALL)
    expect(again.get(5)).toEqual(new Uint8Array([1]))
    expect(again.get(6)).toBeUndefined()
    expect(again.size).toBe(1999)
    await again.close()
  })

  it('a snapshot taken before an ingest does not see it', async () => {
    const db = await AlexStorage.open(dir, SMALL)
    for (let k = 0; k < 100; k += 2) await db.put(k, valueFor(k, 0, 20))
    const snap = db.snapshot()
    await db.ingest({
      keys: Array.from({ length: 100 }, (_, i) => i),
      values: Array.from({ length: 100 }, (_, i) => valueFor(i, 1, 30)),
    })
    expect(snap.get(2)).toEqual(valueFor(2, 0, 20))
    expect(snap.get(3)).toBeUndefined()
    expect([...snap.keys()].length).toBe(50)
    expect(db.get(2)).toEqual(valueFor(2, 1, 30))
    expect(db.size).toBe(100)
    snap.release()
    await db.close()
  })

  it('a following reader sees the ingest whole after catchUp (it reloads)', async () => {
    const db = await AlexStorage.open(dir, SMALL)
    for (let k = 0; k < 50; k++) await db.put(k, valueFor(k, 0, 20))
    const reader = await AlexStorage.open(dir, { readOnly: true, followIntervalMs: 5 })
    await reader.catchUp()
    expect(reader.size).toBe(50)
    const keys = Array.from({ length: 3000 }, (_, i) => i * 2)
    await db.ingest({ keys, values: keys.map((k) => valueFor(k, 1, 64)) })
    await db.put(-5, new Uint8Array([5]))
    await reader.catchUp()
    expect(reader.size).toBe(db.size)
    expect(reader.get(4)).toEqual(valueFor(4, 1, 64))
    expect(reader.get(5)).toEqual(valueFor(5, 0, 20))
    expect(reader.get(-5)).toEqual(new Uint8Array([5]))
    expect(reader.stats().follow?.reloads).toBeGreaterThanOrEqual(1)
    // A reader opened after the ingest sees it from the snapshot.
    const late = await AlexStorage.open(dir, { readOnly: true, follow: false })
    expect(late.size).toBe(db.size)
    await late.close()
    await reader.close()
    await db.close()
  })

  it('a change feed delivers the writes before an ingest, then ends with ERR_LSN_TRIMMED', async () => {
    const db = await AlexStorage.open(dir, SMALL)
    const feed = db.changes({ since: 0 })
    await db.put(1, new Uint8Array([1]))
    await db.put(2, new Uint8Array([2]))
    const result = await db.ingest({
      keys: [10, 11],
      values: [new Uint8Array(1), new Uint8Array(2)],
    })
    await db.put(3, new Uint8Array([3]))
    const seen: number[] = []
    const error = await (async () => {
      for await (const change of feed) seen.push(change.lsn)
    })().catch((e: unknown) => e as { code: string; oldestLsn: number })
    expect(seen).toEqual([1, 2])
    expect(error).toMatchObject({ code: ErrorCode.LSN_TRIMMED, oldestLsn: result.lastLsn + 1 })
    // A feed from after the ingest goes on normally.
    const after = db.changes({ since: result.lastLsn, limit: 1 })
    for await (const change of after) expect(change.key).toBe(3)
    await db.close()
  })

  it('close() during an ingest waits for it and for the writes it held', async () => {
    const db = await AlexStorage.open(dir, SMALL)
    const keys = Array.from({ length: 3000 }, (_, i) => i)
    const ingest = db.ingest({ keys, values: keys.map((k) => valueFor(k, 1, 30)) })
    const put = db.put(10_000, new Uint8Array([1]))
    const closed = db.close()
    // close() waits for the ingest, then for the write it held.
    expect((await ingest).count).toBe(3000)
    await put
    await closed
    const again = await AlexStorage.open(dir, SMALL)
    expect(again.size).toBe(3001)
    expect(again.version(10_000)).toBeGreaterThan(again.version(2999)!)
    await again.close()
  })
})
