import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { rng, tempDir } from '@alex/test-support'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { replicate, restore } from '../src/index.js'
import {
  contents,
  expectSameState,
  getObject,
  listKeys,
  Model,
  overwrite,
  removeObject,
  storm,
} from './helpers.js'
import { target } from './target.js'

/**
 * Restore: a write storm shipped with small log objects and frequent snapshots, then restored at
 * the newest LSN and at random older batch ends, each compared with a model of every write by
 * LSN; refusals (a gap, a damaged object, a bad target) leave the destination untouched.
 */

const { dir: root, cleanup } = tempDir('alex-repl-restore-')
afterAll(() => cleanup())
let n = 0
const fresh = (name: string) => join(root, `${name}-${n++}`)

describe('restore', () => {
  it('equals the model at the newest LSN and at random older batch ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 50, max: 400 }),
        async (seed, writes) => {
          const t = await target('restore-diff')
          const db = await AlexStorage.open(fresh('src'))
          const rep = await replicate(db, {
            ...t,
            intervalMs: 5,
            maxObjectBytes: 2048,
            snapshotEveryBytes: 8192,
            retainSnapshots: 0,
          })
          const model = new Model(db)
          const random = rng(seed)
          await storm(model, random, writes)
          await rep.flush()
          const stats = rep.stats()
          expect(stats.shippedLsn).toBe(model.lastLsn)
          expect(stats.lagLsn).toBe(0)
          expect(stats.failures).toBe(0)
          await rep.close()
          await db.close()

          const newest = await restore(t, fresh('newest'))
          expect(newest.lsn).toBe(model.lastLsn)
          const restored = await AlexStorage.open(join(root, `newest-${n - 1}`))
          expectSameState(contents(restored), model.stateAt(model.lastLsn), 'newest')
          await restored.put(1e6, new Uint8Array([1])) // opens as a normal writer
          await restored.close()

          const ends = Array.from({ length: model.lastLsn + 1 }, (_, i) => i).filter((l) =>
            model.isBatchEnd(l),
          )
          for (let i = 0; i < 3; i++) {
            const lsn = ends[Math.floor(random() * ends.length)]!
            const dir = fresh('pit')
            const result = await restore({ ...t, toLsn: lsn }, dir)
            expect(result.lsn).toBe(lsn)
            const at = await AlexStorage.open(dir)
            expectSameState(contents(at), model.stateAt(lsn), `LSN ${lsn} of ${model.lastLsn}`)
            await at.close()
          }
        },
      ),
      { numRuns: 3 },
    )
  })

  it('refuses a gap, a damaged object and a bad target, leaving the destination untouched', async () => {
    const t = await target('restore-refuse')
    const db = await AlexStorage.open(fresh('src'))
    const rep = await replicate(db, {
      ...t,
      intervalMs: 5,
      maxObjectBytes: 512,
      retainSnapshots: 0,
    })
    const model = new Model(db)
    await storm(model, rng(7), 200)
    await rep.flush()
    await rep.close()
    await db.close()
    const logs = await listKeys(t, 'log/')
    expect(logs.length).toBeGreaterThan(6)

    const refused = async (options: Parameters<typeof restore>[0], code: string) => {
      const absent = fresh('absent')
      await expect(restore(options, absent)).rejects.toMatchObject({ code })
      expect(existsSync(absent)).toBe(false)
      const empty = fresh('empty')
      mkdirSync(empty)
      await expect(restore(options, empty)).rejects.toMatchObject({ code })
      expect(readdirSync(empty)).toEqual([])
      expect(readdirSync(root).filter((name) => name.includes('.restore-'))).toEqual([])
    }

    // A target inside a batch, or beyond what was shipped.
    const inside = Array.from({ length: model.lastLsn }, (_, i) => i + 1).find(
      (l) => !model.isBatchEnd(l),
    )!
    await refused({ ...t, toLsn: inside }, 'ERR_REPLICATION_INVALID_ARGUMENT')
    await refused({ ...t, toLsn: model.lastLsn + 1 }, 'ERR_REPLICATION_INVALID_ARGUMENT')
    // A destination that is not empty.
    const full = fresh('full')
    mkdirSync(full)
    mkdirSync(join(full, 'mine'))
    await expect(restore(t, full)).rejects.toMatchObject({
      code: 'ERR_REPLICATION_INVALID_ARGUMENT',
    })
    expect(readdirSync(full)).toEqual(['mine'])

    // A damaged log object: one body byte flipped.
    const victim = logs[3]!
    const original = await getObject(t, victim)
    const damaged = original.slice()
    damaged[damaged.length - 40]! ^= 0xff
    await overwrite(t, victim, damaged)
    await refused(t, 'ERR_REPLICATION_CORRUPT_OBJECT')
    await overwrite(t, victim, original)

    // A missing log object.
    await removeObject(t, logs[4]!)
    await refused(t, 'ERR_REPLICATION_GAP')
    // Before the gap, the history is whole.
    const before = fresh('before')
    const lsnBefore = (await restore({ ...t, toLsn: 0 }, before)).lsn
    expect(lsnBefore).toBe(0)
  })
})

describe('retention', () => {
  it('keeps retainSnapshots snapshots and the log objects from the oldest kept one on', async () => {
    const t = await target('retention')
    const db = await AlexStorage.open(fresh('src'))
    const rep = await replicate(db, {
      ...t,
      intervalMs: 2,
      maxObjectBytes: 512,
      snapshotEveryBytes: 2048,
      retainSnapshots: 2,
    })
    const model = new Model(db)
    const random = rng(21)
    for (let i = 0; i < 8; i++) {
      await storm(model, random, 40)
      await rep.flush()
    }
    expect(rep.stats().snapshotsShipped).toBeGreaterThan(3)
    const snaps = await listKeys(t, 'snap/')
    expect(snaps.length).toBe(2)
    const oldest = Number(snaps[0]!.slice(-33, -17))
    const oldestLsn = Number(snaps[0]!.slice(-16))
    const logs = (await listKeys(t, 'log/')).map((k) => Number(k.slice(-16)))
    expect(logs[0]).toBe(oldest)
    expect(logs.at(-1)).toBe(rep.stats().seq)
    // Point in time works from the oldest kept snapshot on, and not before it.
    const dir = fresh('pit')
    await restore({ ...t, toLsn: oldestLsn }, dir)
    const at = await AlexStorage.open(dir)
    expectSameState(contents(at), model.stateAt(oldestLsn))
    await at.close()
    if (oldestLsn > 0) {
      const early = model.isBatchEnd(oldestLsn - 1) ? oldestLsn - 1 : 0
      const gone = fresh('gone')
      await expect(restore({ ...t, toLsn: early }, gone)).rejects.toMatchObject({
        code: 'ERR_REPLICATION_GAP',
      })
      expect(existsSync(gone)).toBe(false)
    }
    await rep.close()
    await db.close()
  })
})
