import { FaultInjectionFileSystem, forEachCrashPoint, type PowerCutMode } from '@alex/wal/testing'
import { describe, expect, it } from 'vitest'
import { AlexStorage, type AlexStorageOptions } from '../src/index.js'
import { valueFor } from './helpers.js'

/**
 * `sync()` under `sync: 'none'`: once it resolves, every write issued before it survives a power
 * cut (unsynced bytes dropped, zeroed, garbled or partly kept; directory changes not covered by a
 * directory sync undone), on @alex/wal's fault-injecting file system. Without it the same cut
 * loses writes, which shows the test can tell the difference.
 */

const DIR = '/db'
const OPTIONS: AlexStorageOptions = {
  sync: 'none',
  segmentBytes: 4096, // several data segments, so rotation is covered
  autoCompaction: false,
}
const MODES: PowerCutMode[] = ['drop', 'zero', 'garble', 'prefix']

type Model = Map<number, Uint8Array>

/**
 * A mix of puts (short, long, empty), overwrites, deletes and batches, some concurrent, on keys
 * above `base`. `model` gets the final state; `written` every value each key was given (in
 * order), before its write is issued.
 */
async function writeMix(
  db: AlexStorage,
  model: Model,
  base: number,
  written = new Map<number, Uint8Array[]>(),
): Promise<void> {
  const note = (key: number, value: Uint8Array | undefined) => {
    if (value === undefined) model.delete(key)
    else {
      model.set(key, value)
      written.set(key, [...(written.get(key) ?? []), value])
    }
  }
  const put = (key: number, v: number, len: number) => {
    note(key, valueFor(key, v, len))
    return db.put(key, valueFor(key, v, len))
  }
  const del = (key: number) => {
    note(key, undefined)
    return db.delete(key)
  }
  await put(base + 1, 1, 100)
  await put(base + 2, 1, 3000) // a value too long for the location's length field
  await put(base + 3, 1, 0)
  await Promise.all(Array.from({ length: 40 }, (_, i) => put(base + 10 + i, 1, 60 + i)))
  await del(base + 1)
  await put(base + 2, 2, 500)
  const a = valueFor(base + 100, 1, 700)
  const b = valueFor(base + 101, 1, 20)
  note(base + 100, a)
  note(base + 10, undefined)
  note(base + 101, b)
  await db.batch([
    { type: 'put', key: base + 100, value: a },
    { type: 'delete', key: base + 10 },
    { type: 'put', key: base + 101, value: b },
  ])
}

async function stateOf(fs: FaultInjectionFileSystem): Promise<Model> {
  const db = await AlexStorage.open(DIR, { ...OPTIONS, fs })
  const state: Model = new Map()
  for (const [k, v] of db.entries()) state.set(k, v.slice())
  await db.close()
  return state
}

function same1(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0
}

function same(a: Model, b: Model): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) {
    const w = b.get(k)
    if (w === undefined || Buffer.compare(v, w) !== 0) return false
  }
  return true
}

describe("sync() under sync: 'none'", () => {
  it('makes every earlier write survive a power cut, in every cut mode', async () => {
    for (const mode of MODES) {
      const fs = new FaultInjectionFileSystem({ seed: 11 })
      const db = await AlexStorage.open(DIR, { ...OPTIONS, fs })
      const model: Model = new Map()
      await writeMix(db, model, 0)
      await db.checkpoint() // a snapshot and a trimmed log, then more writes after it
      await writeMix(db, model, 1000)
      await db.sync()
      expect(db.stats().checkpoints, 'sync is not a checkpoint').toBe(1)
      const state = await stateOf(fs.powerCut({ mode, seed: 5 }))
      expect(same(state, model), `cut mode ${mode}`).toBe(true)
      await db.close().catch(() => {})
    }
  })

  it('is needed: without it the same cut loses acknowledged writes', async () => {
    const fs = new FaultInjectionFileSystem({ seed: 11 })
    const db = await AlexStorage.open(DIR, { ...OPTIONS, fs })
    const model: Model = new Map()
    await writeMix(db, model, 0)
    const state = await stateOf(fs.powerCut({ mode: 'drop', seed: 5 }))
    expect(state.size).toBeLessThan(model.size)
    await db.close().catch(() => {})
  })

  it('holds at every crash point: what a resolved sync() covered is never lost', async () => {
    // Each round writes fresh keys, then syncs. A cut anywhere must leave every key a resolved
    // sync() covered as it was synced (null: absent), and any other key either absent or
    // holding a value some write gave it.
    let synced = new Map<number, Uint8Array | null>()
    let written = new Map<number, Uint8Array[]>()
    let syncsResolved = 0
    const checked = await forEachCrashPoint({
      base: new FaultInjectionFileSystem({ seed: 3 }),
      modes: ['garble', 'prefix'],
      workload: async (fs) => {
        synced = new Map()
        written = new Map()
        const db = await AlexStorage.open(DIR, { ...OPTIONS, fs })
        for (let round = 0; round < 3; round++) {
          const model: Model = new Map()
          const touched = new Map<number, Uint8Array[]>()
          const writing = writeMix(db, model, round * 1000, touched)
          written = touched
          await writing
          await db.sync()
          syncsResolved++
          for (const k of touched.keys()) synced.set(k, model.get(k) ?? null)
        }
        await db.close()
      },
      check: async (survivor, point) => {
        const where = `cut at op ${point.index}/${point.total} (${point.op?.op ?? 'end'} ${point.op?.path ?? ''}), mode ${point.mode}`
        const state = await stateOf(survivor)
        for (const [k, v] of synced) {
          const got = state.get(k)
          const ok = v === null ? got === undefined : got !== undefined && same1(got, v)
          expect(ok, `${where}: synced key ${k}`).toBe(true)
        }
        for (const [k, v] of state) {
          if (synced.has(k)) continue
          const allowed = written.get(k) ?? []
          expect(
            allowed.some((a) => same1(a, v)),
            `${where}: key ${k} holds a value never written to it`,
          ).toBe(true)
        }
      },
    })
    expect(checked).toBeGreaterThan(20)
    expect(syncsResolved).toBeGreaterThan(0)
  }, 60_000)
})
