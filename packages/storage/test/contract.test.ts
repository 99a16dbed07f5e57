import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FaultInjectionFileSystem } from '@alex/wal/testing'
import { describe, expect, it } from 'vitest'
import { AlexStorage, type AlexStorageOptions, type BatchOperation } from '../src/index.js'
import { tempDir, valueFor } from './helpers.js'

/**
 * The public contract's edges: unknown options and range keys, calls after close (`size` and a
 * running iterator included), `Symbol.asyncDispose`, batch operations read once, Level's `'del'`,
 * and OS errors at open, which all surface as AlexStorageErrors with a stable code.
 */

const DIR = '/db'
const OPTS: AlexStorageOptions = { segmentBytes: 4096, autoCompaction: false }

async function filled(fs: FaultInjectionFileSystem, n: number): Promise<AlexStorage> {
  const db = await AlexStorage.open(DIR, { ...OPTS, fs })
  await Promise.all(Array.from({ length: n }, (_, k) => db.put(k, valueFor(k, 1, 20))))
  return db
}

describe('unknown option and range keys', () => {
  it('refuses an unknown option with a hint, before touching the disk', async () => {
    const fs = new FaultInjectionFileSystem()
    const err = await AlexStorage.open(DIR, { fs, syncMode: 'none' } as never).catch((e) => e)
    expect(err).toMatchObject({
      name: 'AlexStorageError',
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/unknown option 'syncMode' \(did you mean 'sync'\?\)/),
    })
    expect(fs.exists(DIR)).toBe(false)
    expect(fs.mutatingOps).toBe(0)
  })

  it('refuses an unknown range key in entries, keys and values', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await filled(fs, 3)
    for (const call of [
      () => db.entries({ gtee: 1 } as never),
      () => db.keys({ start: 1 } as never),
      () => db.values({ limt: 1 } as never),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
    }
    expect(() => db.entries({ gtee: 1 } as never)).toThrow(/did you mean 'gte'/)
    await db.close()
  })
})

describe('after close', () => {
  it('size, stats, reads and writes throw ERR_CLOSED', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await filled(fs, 3)
    expect(db.size).toBe(3)
    await db.close()
    const closed = expect.objectContaining({ code: 'ERR_CLOSED' })
    expect(() => db.size).toThrow(closed)
    expect(() => db.stats()).toThrow(closed)
    expect(() => db.get(1)).toThrow(closed)
    expect(() => db.has(1)).toThrow(closed)
    expect(() => db.entries()).toThrow(closed)
    await expect(db.put(1, new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.batch([])).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.sync()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.checkpoint()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(db.compact()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('an iterator created before close throws ERR_CLOSED at its next step, mid-chunk', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await filled(fs, 10) // one chunk: the old per-chunk check would keep yielding
    for (const it of [db.entries(), db.keys(), db.values()]) {
      expect(it.next().done).toBe(false)
    }
    const it = db.keys()
    expect(it.next().value).toBe(0)
    await db.close()
    expect(() => it.next()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
  })
})

describe('Symbol.asyncDispose', () => {
  it('closes the store (await using), once', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await filled(fs, 2)
    const disposable: AsyncDisposable = db // typed for `await using`
    const key = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')
    expect(typeof (db as unknown as Record<symbol, unknown>)[key]).toBe('function')
    await disposable[Symbol.asyncDispose]()
    expect(() => db.size).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }))
    await disposable[Symbol.asyncDispose]() // a second dispose is a no-op, like close
    expect(fs.openHandles).toBe(0)
    const again = await AlexStorage.open(DIR, { ...OPTS, fs }) // the lock was released
    expect(again.get(1)).toEqual(valueFor(1, 1, 20))
    await again.close()
  })
})

describe('batch operations', () => {
  it("suggests 'delete' for Level's 'del'", async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await filled(fs, 1)
    const ops = [{ type: 'del', key: 0 }] as unknown as BatchOperation[]
    await expect(db.batch(ops)).rejects.toMatchObject({
      code: 'ERR_INVALID_OP',
      message: expect.stringMatching(/batch operation 0 has type "del".*did you mean 'delete'/),
    })
    expect(db.get(0)).toEqual(valueFor(0, 1, 20))
    await db.close()
  })

  it('reads every field of an operation once, so the live state is the logged one', async () => {
    const fs = new FaultInjectionFileSystem()
    const db = await filled(fs, 0)
    const reads = { type: 0, key: 0, value: 0 }
    let keyRead = 0
    // Each read of `key` gives the next key; `type` says 'put' only the first time.
    const shifty = {
      get type() {
        reads.type++
        return reads.type === 1 ? 'put' : 'delete'
      },
      get key() {
        reads.key++
        return 10 + keyRead++
      },
      get value() {
        reads.value++
        return valueFor(reads.value, 1, 8)
      },
    } as unknown as BatchOperation
    await db.batch([shifty, { type: 'put', key: 1, value: valueFor(1, 1, 8) }])
    expect(reads).toEqual({ type: 1, key: 1, value: 1 })
    const live = [...db.entries()]
    expect(live).toEqual([
      [1, valueFor(1, 1, 8)],
      [10, valueFor(1, 1, 8)],
    ])
    // A process crash: the reopen replays the log, which must hold the same operations.
    const recovered = await AlexStorage.open(DIR, { ...OPTS, fs: fs.processCrash() })
    expect([...recovered.entries()]).toEqual(live)
    await recovered.close()
  })
})

describe('OS errors at open', () => {
  it('a path that is a regular file, or under one, is ERR_INVALID_ARGUMENT with the cause', async () => {
    const { dir, cleanup } = tempDir()
    try {
      const file = join(dir, 'file')
      writeFileSync(file, 'x')
      for (const [path, code] of [
        [file, 'EEXIST'],
        [join(file, 'db'), 'ENOTDIR'],
      ] as const) {
        const err = await AlexStorage.open(path).catch((e) => e)
        expect(err).toMatchObject({ name: 'AlexStorageError', code: 'ERR_INVALID_ARGUMENT' })
        expect(err.cause).toMatchObject({ code })
      }
      const readOnly = await AlexStorage.open(file, { readOnly: true }).catch((e) => e)
      expect(readOnly).toMatchObject({ name: 'AlexStorageError', code: 'ERR_INVALID_ARGUMENT' })
      expect(readOnly.cause).toMatchObject({ code: 'ENOTDIR' })
      mkdirSync(join(dir, 'ok'))
      await (await AlexStorage.open(join(dir, 'ok'))).close()
    } finally {
      cleanup()
    }
  })

  it('EACCES or ENOSPC taking the lock is ERR_STORE_FAILED with the cause, and leaves no lock', async () => {
    for (const [op, code] of [
      ['create', 'EACCES'],
      ['write', 'ENOSPC'],
      ['sync', 'EIO'],
    ] as const) {
      const fs = new FaultInjectionFileSystem()
      fs.injectFault({ op, nth: 1, code, path: 'LOCK' })
      const err = await AlexStorage.open(DIR, { ...OPTS, fs }).catch((e) => e)
      expect(err).toMatchObject({ name: 'AlexStorageError', code: 'ERR_STORE_FAILED' })
      expect(err.cause).toMatchObject({ code })
      expect(fs.listFiles()).toEqual([])
      expect(fs.openHandles).toBe(0)
      await (await AlexStorage.open(DIR, { ...OPTS, fs })).close() // nothing held
    }
  })
})
