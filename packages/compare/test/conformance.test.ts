/**
 * The conformance suite: the same tests against every engine in the registry. An adapter that
 * passes here gives the same answers as a Map plus a sort, for point operations, batches and
 * ordered scans, in both durability modes, across close and reopen where it persists.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { engines } from '../src/registry.js'
import type { BatchOp, KvEngine, KvEntry, KvStore, RangeOptions } from '../src/types.js'

const root = mkdtempSync(join(tmpdir(), 'alex-compare-conformance-'))
let dirCount = 0
const freshDir = (): string => join(root, `store-${dirCount++}`)

afterAll(() => {
  rmSync(root, { recursive: true, force: true })
})

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)
const text = (s: string): Uint8Array => new TextEncoder().encode(s)
const hex = (v: Uint8Array | undefined): string | undefined =>
  v === undefined ? undefined : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')

async function get(store: KvStore, key: number): Promise<string | undefined> {
  return hex(await store.get(key))
}

async function range(store: KvStore, options?: RangeOptions): Promise<[number, string][]> {
  const entries: KvEntry[] = await store.range(options)
  return entries.map(([k, v]) => [k, hex(v)!])
}

/** The model: a Map, with ranges computed by sorting its keys. */
function modelRange(model: Map<number, string>, o: RangeOptions): [number, string][] {
  let keys = [...model.keys()].sort((a, b) => a - b)
  if (o.gt !== undefined) keys = keys.filter((k) => k > o.gt!)
  if (o.gte !== undefined) keys = keys.filter((k) => k >= o.gte!)
  if (o.lt !== undefined) keys = keys.filter((k) => k < o.lt!)
  if (o.lte !== undefined) keys = keys.filter((k) => k <= o.lte!)
  if (o.reverse) keys.reverse()
  if (o.limit !== undefined) keys = keys.slice(0, o.limit)
  return keys.map((k) => [k, model.get(k)!])
}

async function withStore(
  engine: KvEngine,
  durable: boolean,
  fn: (store: KvStore, dir: string) => Promise<void>,
): Promise<void> {
  const dir = freshDir()
  const store = await engine.open(dir, { durable })
  try {
    await fn(store, dir)
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

const SCAN_KEYS = [-1e300, -7.5, -1, -Number.MIN_VALUE, 0, Number.MIN_VALUE, 0.5, 1, 2, 3, 1e15]

describe.each(engines.map((e) => [e.id, e] as const))('%s conforms', (_id, engine) => {
  const caps = engine.capabilities

  it('reports a name, a version and durability settings', () => {
    expect(engine.name.length).toBeGreaterThan(0)
    expect(engine.version()).not.toBe('not installed')
    expect(engine.durability.durable.length).toBeGreaterThan(0)
    expect(engine.durability.fast.length).toBeGreaterThan(0)
  })

  it('puts, gets, overwrites and deletes; missing keys read undefined', async () => {
    await withStore(engine, false, async (store) => {
      expect(await get(store, 1)).toBeUndefined()
      await store.put(1, text('one'))
      await store.put(-2.5, bytes())
      expect(await get(store, 1)).toBe(hex(text('one')))
      expect(await get(store, -2.5)).toBe('')
      await store.put(1, text('uno'))
      expect(await get(store, 1)).toBe(hex(text('uno')))
      await store.delete(1)
      await store.delete(12345)
      expect(await get(store, 1)).toBeUndefined()
      expect(await get(store, -2.5)).toBe('')
      if (caps.syncGet) expect(store.get(-2.5)).toBeInstanceOf(Uint8Array)
    })
  })

  it('treats -0 and +0 as one key', async () => {
    await withStore(engine, false, async (store) => {
      await store.put(-0, text('zero'))
      expect(await get(store, 0)).toBe(hex(text('zero')))
      await store.put(0, text('plus'))
      expect(await get(store, -0)).toBe(hex(text('plus')))
      if (caps.range) expect(await range(store)).toEqual([[0, hex(text('plus'))]])
    })
  })

  it('copies written values: mutating the caller buffer later changes nothing', async () => {
    await withStore(engine, false, async (store) => {
      const value = text('abc')
      await store.put(7, value)
      await store.batch([{ type: 'put', key: 8, value }])
      value.fill(0)
      expect(await get(store, 7)).toBe(hex(text('abc')))
      expect(await get(store, 8)).toBe(hex(text('abc')))
      // A Node Buffer too, whose own slice() returns a view of the same memory.
      const buffer = Buffer.from('xyz')
      await store.put(9, buffer)
      await store.batch([{ type: 'put', key: 10, value: buffer }])
      await store.readModifyWrite(11, () => buffer)
      buffer.fill(0)
      for (const key of [9, 10, 11]) expect(await get(store, key)).toBe(hex(text('xyz')))
    })
  })

  it('applies a batch in order: a later op on the same key wins', async () => {
    await withStore(engine, false, async (store) => {
      await store.put(3, text('old'))
      await store.batch([
        { type: 'put', key: 1, value: text('a') },
        { type: 'delete', key: 1 },
        { type: 'delete', key: 2 },
        { type: 'put', key: 2, value: text('b') },
        { type: 'delete', key: 3 },
      ])
      expect(await get(store, 1)).toBeUndefined()
      expect(await get(store, 2)).toBe(hex(text('b')))
      expect(await get(store, 3)).toBeUndefined()
    })
  })

  it('makes a batch visible all at once to concurrent readers', async () => {
    await withStore(engine, false, async (store) => {
      const ops: BatchOp[] = []
      for (let i = 0; i < 2000; i++) ops.push({ type: 'put', key: i, value: bytes(i & 0xff) })
      let done = false
      const write = store.batch(ops).then(() => {
        done = true
      })
      // Two reads are not one snapshot: the batch may land between them. What atomicity
      // forbids is a read seeing part of the batch and a later read missing another part, so
      // once any key of the batch was seen, every key read after it must be there too. Reading
      // in both directions catches a store that applies a batch front to back or back to front.
      const visible = async (key: number) => (await store.get(key)) !== undefined
      let polls = 0
      while (!done) {
        const order = polls % 2 === 0 ? [0, 1000, 1999] : [1999, 1000, 0]
        let seen = false
        for (const key of order) {
          const now = await visible(key)
          if (seen) expect(now, `key ${key} read after another key of the batch`).toBe(true)
          seen ||= now
        }
        polls++
        await new Promise((r) => setImmediate(r))
      }
      await write
      expect(polls).toBeGreaterThan(0)
      expect(await get(store, 1999)).toBe('cf')
    })
  })

  it('rejects bad keys, values and ranges with typed errors and writes nothing', async () => {
    await withStore(engine, false, async (store) => {
      await store.put(1, text('keep'))
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        await expect(async () => store.get(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
        await expect(async () => store.put(bad, text('x'))).rejects.toMatchObject({
          code: 'ERR_INVALID_KEY',
        })
      }
      await expect(async () => store.put(2, 'str' as unknown as Uint8Array)).rejects.toMatchObject({
        code: 'ERR_INVALID_VALUE',
      })
      await expect(async () =>
        store.batch([
          { type: 'put', key: 5, value: text('five') },
          { type: 'put', key: Number.NaN, value: text('nan') },
        ]),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_KEY' })
      expect(await get(store, 2)).toBeUndefined()
      expect(await get(store, 5)).toBeUndefined()
      expect(await get(store, 1)).toBe(hex(text('keep')))
      if (caps.range) {
        await expect(async () => store.range({ gt: 1, gte: 1 })).rejects.toMatchObject({
          code: /ERR_INVALID_ARGUMENT/,
        })
      }
    })
  })

  it('fails with ERR_CLOSED after close', async () => {
    const store = await engine.open(freshDir(), { durable: false })
    await store.close()
    await expect(async () => store.get(1)).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(async () => store.put(1, text('x'))).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  if (caps.getMany) {
    it('getMany returns values in key order with undefined for missing keys', async () => {
      await withStore(engine, false, async (store) => {
        await store.batch([
          { type: 'put', key: 1, value: text('a') },
          { type: 'put', key: 3, value: text('c') },
        ])
        const values = await store.getMany!([3, 2, 1])
        expect(values.map(hex)).toEqual([hex(text('c')), undefined, hex(text('a'))])
      })
    })
  }

  if (!caps.range) {
    it('refuses ordered scans with ERR_UNSUPPORTED', async () => {
      await withStore(engine, false, async (store) => {
        await expect(async () => store.range()).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED' })
      })
    })
  } else {
    it('scans in key order within bounds, forwards and backwards, with limits', async () => {
      await withStore(engine, false, async (store) => {
        const model = new Map<number, string>()
        for (const k of [...SCAN_KEYS].reverse()) {
          const v = text(`v${k}`)
          await store.put(k, v)
          model.set(k, hex(v)!)
        }
        const cases: RangeOptions[] = [
          {},
          { reverse: true },
          { gte: 0 },
          { gt: 0 },
          { lt: 0 },
          { lte: 0 },
          { gt: -1, lt: 2 },
          { gte: -1, lte: 2 },
          { gt: -1, lte: 2, reverse: true },
          { gte: -7.5, lt: 1, reverse: true, limit: 2 },
          { gt: 1.5, lt: 1.7 },
          { gt: 2, lt: 2 },
          { gte: 2, lte: 2 },
          { gte: 3, lte: 2 },
          { limit: 0 },
          { limit: 3 },
          { reverse: true, limit: 1 },
          { gt: 1e15 },
          { lt: -1e300 },
          { gte: -1e308, lte: 1e308 },
        ]
        for (const c of cases) {
          expect({ c, got: await range(store, c) }).toEqual({ c, got: modelRange(model, c) })
        }
        if (caps.syncRange) expect(Array.isArray(store.range({ limit: 1 }))).toBe(true)
      })
    })
  }

  if (caps.persistent) {
    for (const durable of [true, false]) {
      it(`keeps every write across close and reopen (durable: ${durable})`, async () => {
        const dir = freshDir()
        let store = await engine.open(dir, { durable })
        await store.put(1, text('one'))
        await store.put(2, text('two'))
        await store.batch([
          { type: 'put', key: -3, value: text('minus three') },
          { type: 'delete', key: 2 },
        ])
        await store.delete(99)
        await store.sync()
        await store.close()
        store = await engine.open(dir, { durable })
        expect(await get(store, 1)).toBe(hex(text('one')))
        expect(await get(store, 2)).toBeUndefined()
        expect(await get(store, -3)).toBe(hex(text('minus three')))
        expect(await range(store)).toEqual([
          [-3, hex(text('minus three'))],
          [1, hex(text('one'))],
        ])
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      })
    }
  }

  it('matches a Map + sort model on random operation sequences', async () => {
    const key = fc.oneof(
      fc.integer({ min: -6, max: 6 }),
      fc.constantFrom(-0, 0.5, -2.25, 1e9, -1e-9),
    )
    const value = fc.uint8Array({ maxLength: 12 })
    const op = fc.oneof(
      fc.record({ t: fc.constant('put' as const), key, value }),
      fc.record({ t: fc.constant('delete' as const), key }),
      fc.record({ t: fc.constant('get' as const), key }),
      fc.record({
        t: fc.constant('batch' as const),
        ops: fc.array(
          fc.oneof(
            fc.record({ type: fc.constant('put' as const), key, value }),
            fc.record({ type: fc.constant('delete' as const), key }),
          ),
          { maxLength: 6 },
        ),
      }),
      fc.record({
        t: fc.constant('range' as const),
        low: fc.option(key, { nil: undefined }),
        lowInclusive: fc.boolean(),
        high: fc.option(key, { nil: undefined }),
        highInclusive: fc.boolean(),
        reverse: fc.boolean(),
        limit: fc.option(fc.nat({ max: 8 }), { nil: undefined }),
      }),
      fc.record({ t: fc.constant('reopen' as const) }),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const dir = freshDir()
        let store = await engine.open(dir, { durable: false })
        const model = new Map<number, string>()
        try {
          for (const o of ops) {
            if (o.t === 'put') {
              await store.put(o.key, o.value)
              model.set(o.key + 0, hex(o.value)!)
            } else if (o.t === 'delete') {
              await store.delete(o.key)
              model.delete(o.key + 0)
            } else if (o.t === 'get') {
              expect(await get(store, o.key)).toBe(model.get(o.key + 0))
            } else if (o.t === 'batch') {
              await store.batch(o.ops)
              for (const b of o.ops) {
                if (b.type === 'put') model.set(b.key + 0, hex(b.value)!)
                else model.delete(b.key + 0)
              }
            } else if (o.t === 'range') {
              if (!caps.range) continue
              const r: { -readonly [K in keyof RangeOptions]: RangeOptions[K] } = {
                reverse: o.reverse,
              }
              if (o.low !== undefined) r[o.lowInclusive ? 'gte' : 'gt'] = o.low
              if (o.high !== undefined) r[o.highInclusive ? 'lte' : 'lt'] = o.high
              if (o.limit !== undefined) r.limit = o.limit
              expect(await range(store, r)).toEqual(modelRange(model, r))
            } else if (caps.persistent) {
              await store.close()
              store = await engine.open(dir, { durable: false })
            }
          }
          for (const [k, v] of model) expect(await get(store, k)).toBe(v)
        } finally {
          await store.close()
          rmSync(dir, { recursive: true, force: true })
        }
      }),
      { numRuns: 100 },
    )
  })
})
