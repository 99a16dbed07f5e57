/**
 * `readModifyWrite` and `bulkLoad`, against every engine in the registry: what they write,
 * what they refuse (writing nothing), the isolation each engine claims under concurrent
 * callers, and bulk loads into empty and non-empty stores, sorted and not, across reopen.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { engines } from '../src/registry.js'
import type { KvEngine, KvEntry, KvStore } from '../src/types.js'

const root = mkdtempSync(join(tmpdir(), 'alex-compare-rmw-bulk-'))
let dirCount = 0
const freshDir = (): string => join(root, `store-${dirCount++}`)

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

/** A counter value: 4 bytes, little endian. */
const counter = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}
const countOf = (v: Uint8Array | undefined): number =>
  v === undefined ? 0 : new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(0, true)
const increment = (v: Uint8Array | undefined): Uint8Array => counter(countOf(v) + 1)

async function withStore(
  engine: KvEngine,
  durable: boolean,
  fn: (store: KvStore, dir: string) => Promise<KvStore | undefined>,
): Promise<void> {
  const dir = freshDir()
  let store = await engine.open(dir, { durable })
  try {
    store = (await fn(store, dir)) ?? store
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function allEntries(store: KvStore, engine: KvEngine, keys: number[]): Promise<string[]> {
  if (engine.capabilities.range) {
    const entries: KvEntry[] = await store.range()
    return entries.map(([k, v]) => `${k}=${Buffer.from(v).toString('hex')}`)
  }
  const out: string[] = []
  for (const k of [...keys].sort((a, b) => a - b)) {
    const v = await store.get(k)
    if (v !== undefined) out.push(`${k}=${Buffer.from(v).toString('hex')}`)
  }
  return out
}

describe.each(engines.map((e) => [e.id, e] as const))('%s', (_id, engine) => {
  const isolated = engine.capabilities.readModifyWrite !== 'none'

  it('readModifyWrite reads the current value and writes what modify returns', async () => {
    await withStore(engine, false, async (store) => {
      const seen: (number | undefined)[] = []
      const r1 = await store.readModifyWrite(5, (v) => {
        seen.push(v === undefined ? undefined : countOf(v))
        return counter(10)
      })
      expect(r1.written).toBe(true)
      expect(r1.attempts).toBe(1)
      await store.readModifyWrite(5, (v) => {
        seen.push(countOf(v))
        return counter(countOf(v) + 1)
      })
      expect(seen).toEqual([undefined, 10])
      expect(countOf(await store.get(5))).toBe(11)
      // undefined from modify: nothing written.
      const r3 = await store.readModifyWrite(6, () => undefined)
      expect(r3.written).toBe(false)
      expect(await store.get(6)).toBeUndefined()
      return undefined
    })
  })

  it('readModifyWrite rejects a bad key or value and writes nothing', async () => {
    await withStore(engine, false, async (store) => {
      await store.put(1, counter(1))
      await expect(store.readModifyWrite(Number.NaN, increment)).rejects.toMatchObject({
        code: 'ERR_INVALID_KEY',
      })
      const bad = (() => 'not bytes') as unknown as () => Uint8Array
      await expect(store.readModifyWrite(1, bad)).rejects.toMatchObject({
        code: expect.stringMatching(/^ERR_INVALID_(VALUE|ARGUMENT)$/),
      })
      expect(countOf(await store.get(1))).toBe(1)
      await store.close()
      await expect(store.readModifyWrite(1, increment)).rejects.toMatchObject({
        code: 'ERR_CLOSED',
      })
      return undefined
    })
  })

  it.runIf(isolated)(
    'readModifyWrite from concurrent callers loses no increment (isolated engines)',
    async () => {
      await withStore(engine, false, async (store) => {
        const callers = 16
        const each = 8
        let attempts = 0
        await Promise.all(
          Array.from({ length: callers }, async () => {
            for (let i = 0; i < each; i++) {
              const r = await store.readModifyWrite(7, increment)
              attempts += r.attempts
            }
          }),
        )
        expect(countOf(await store.get(7))).toBe(callers * each)
        // Optimistic engines retry: the callers' first writes race for one version.
        if (engine.capabilities.readModifyWrite === 'conditional') {
          expect(attempts).toBeGreaterThan(callers * each)
        } else expect(attempts).toBe(callers * each)
        return undefined
      })
    },
  )

  it('bulkLoad loads sorted columns into an empty store, readable after reopen', async () => {
    const n = 2500
    const keys = new Float64Array(n)
    const values: Uint8Array[] = []
    for (let i = 0; i < n; i++) {
      keys[i] = i * 2 - 1000.5
      values.push(counter(i))
    }
    await withStore(engine, false, async (store, dir) => {
      await store.bulkLoad({ keys, values })
      // The caller may reuse its buffers once it resolved (the in-memory references keep them).
      if (!engine.capabilities.inMemory) values[0]!.fill(0xff)
      for (const i of [0, 1, 1234, n - 1]) expect(countOf(await store.get(keys[i]!))).toBe(i)
      const want = Array.from(keys, (k, i) => `${k}=${Buffer.from(counter(i)).toString('hex')}`)
      expect(await allEntries(store, engine, [...keys])).toEqual(want)
      if (!engine.capabilities.persistent) return undefined
      await store.close()
      const reopened = await engine.open(dir, { durable: false })
      expect(await allEntries(reopened, engine, [...keys])).toEqual(want)
      return reopened
    })
  })

  it('bulkLoad into a non-empty store overwrites, keeps the rest; unsorted: last wins', async () => {
    await withStore(engine, false, async (store) => {
      await store.batch([
        { type: 'put', key: 1, value: counter(100) },
        { type: 'put', key: 50, value: counter(500) },
      ])
      // Sorted, below and between existing keys (LMDB cannot append here).
      await store.bulkLoad({ keys: [0, 1, 2], values: [counter(0), counter(1), counter(2)] })
      await store.bulkLoad(
        { keys: [9, 3, 9, 60], values: [counter(90), counter(3), counter(91), counter(6)] },
        { sorted: false },
      )
      const want = [0, 1, 2, 3, 9, 50, 60].map(
        (k, i) => `${k}=${Buffer.from(counter([0, 1, 2, 3, 91, 500, 6][i]!)).toString('hex')}`,
      )
      expect(await allEntries(store, engine, [0, 1, 2, 3, 9, 50, 60])).toEqual(want)
      return undefined
    })
  })

  it('bulkLoad refuses bad input and writes nothing', async () => {
    await withStore(engine, false, async (store) => {
      await store.put(1, counter(1))
      const v = counter(9)
      const refused = async (entries: unknown, code: string, sorted = true): Promise<void> => {
        await expect(
          store.bulkLoad(entries as { keys: number[]; values: Uint8Array[] }, { sorted }),
        ).rejects.toMatchObject({ code })
      }
      await refused({ keys: [3, 2], values: [v, v] }, 'ERR_INVALID_ARGUMENT')
      await refused({ keys: [2, 2], values: [v, v] }, 'ERR_INVALID_ARGUMENT')
      await refused({ keys: [2, 3], values: [v] }, 'ERR_INVALID_ARGUMENT')
      await refused({ keys: [2, Number.NaN], values: [v, v] }, 'ERR_INVALID_KEY', false)
      await refused({ keys: [2, 3], values: [v, 'x'] }, 'ERR_INVALID_VALUE')
      await refused(null, 'ERR_INVALID_ARGUMENT')
      for (const k of [2, 3]) expect(await store.get(k)).toBeUndefined()
      expect(countOf(await store.get(1))).toBe(1)
      return undefined
    })
  })
})
