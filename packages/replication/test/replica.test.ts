import { join } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { rng, tempDir } from '@alex/test-support'
import { afterAll, describe, expect, it } from 'vitest'
import { openReplica, replicate, restore } from '../src/index.js'
import { contents, expectSameState, Model, storm, waitFor } from './helpers.js'
import { target } from './target.js'

/**
 * Read replicas: a replica follows a live writer through the bucket, shows whole batches only,
 * never goes back in time, equals the model at its LSN, reports its staleness, survives a
 * reopen, and jumps over a resync (a bulk ingest) by a snapshot.
 */

const { dir: root, cleanup } = tempDir('alex-repl-replica-')
afterAll(() => cleanup())
let n = 0
const fresh = (name: string) => join(root, `${name}-${n++}`)

const KEYS = 8

describe('openReplica', () => {
  it('follows a live writer: whole batches, never back in time, the model at its LSN', async () => {
    const t = await target('replica')
    const db = await AlexStorage.open(fresh('db'))
    const rep = await replicate(db, { ...t, intervalMs: 2, maxObjectBytes: 512 })
    const model = new Model(db)
    // Every batch sets keys 0..KEYS-1 to one value: a replica showing part of one would mix them.
    const writeBatch = (i: number) =>
      model.batch(
        Array.from({ length: KEYS }, (_, k) => ({
          key: k,
          value: new Uint8Array([i % 256, i >> 8]),
        })),
      )
    await writeBatch(0)
    await rep.flush()
    const dir = fresh('replica')
    const replica = await openReplica({ ...t, intervalMs: 2 }, dir)
    let last = replica.lsn
    let observations = 0
    const seen = new Set<number>()
    let stop = false
    const watcher = (async () => {
      while (!stop) {
        const lsn = replica.lsn
        expect(lsn).toBeGreaterThanOrEqual(last) // never back in time
        last = lsn
        seen.add(lsn)
        const values = replica
          .getMany(Array.from({ length: KEYS }, (_, k) => k))
          .map((v) => Buffer.from(v!).toString('hex'))
        expect(new Set(values).size).toBe(1) // a whole batch
        if (observations++ % 10 === 0) {
          using snap = replica.snapshot()
          expectSameState(contents(snap), model.stateAt(replica.lsn), `at LSN ${replica.lsn}`)
        }
        await new Promise((r) => setTimeout(r, 1))
      }
    })()
    for (let i = 1; i <= 150; i++) {
      await writeBatch(i)
      if (i % 10 === 0) await storm(model, rng(i), 10, 4, 1000) // other keys, other shapes
    }
    await rep.flush()
    await waitFor(() => replica.lsn === model.lastLsn, 'the replica to catch up')
    stop = true
    await watcher
    expect(observations).toBeGreaterThan(5)
    expect(seen.size).toBeGreaterThan(2) // it followed, not only caught up at the end
    expectSameState(contents(replica), model.stateAt(model.lastLsn))
    const s = replica.staleness()
    expect(s.lsn).toBe(model.lastLsn)
    expect(s.bucketLsn).toBe(model.lastLsn)
    expect(s.lagLsn).toBe(0)
    expect(s.newestShippedAt).toBeGreaterThan(0)
    expect(s.sinceShippedMs).toBeGreaterThanOrEqual(0)

    // Reopened, it resumes from its own directory.
    await replica.close()
    await writeBatch(1000)
    await rep.flush()
    const again = await openReplica({ ...t, intervalMs: 2 }, dir)
    expect(again.staleness().newestShippedAt).toBeGreaterThanOrEqual(s.newestShippedAt!) // kept across the reopen
    await again.catchUp()
    expect(again.lsn).toBe(model.lastLsn)
    expectSameState(contents(again), model.stateAt(model.lastLsn))

    // A bulk ingest skips the change feed: the writer resyncs with a snapshot, the replica jumps.
    await db.ingest([
      [100, new Uint8Array([1])],
      [101, new Uint8Array([2])],
    ])
    await db.put(102, new Uint8Array([3]))
    await rep.flush()
    await again.catchUp()
    expectSameState(contents(again), contents(db))
    expect(again.lsn).toBe(db.lsn)
    await again.close()
    await rep.close()
    await db.close()
  })

  it('a replica whose next log objects retention deleted jumps to a newer snapshot, never back', async () => {
    const t = await target('replica-retention')
    const db = await AlexStorage.open(fresh('db'))
    const rep = await replicate(db, {
      ...t,
      intervalMs: 2,
      maxObjectBytes: 256,
      snapshotEveryBytes: 1024,
      retainSnapshots: 1,
    })
    const model = new Model(db)
    await storm(model, rng(31), 50)
    await rep.flush()
    const replica = await openReplica({ ...t, intervalMs: 60_000 }, fresh('replica'))
    const before = replica.lsn
    const random = rng(32)
    for (let i = 0; i < 6; i++) {
      await storm(model, random, 40)
      await rep.flush()
    }
    expect(rep.stats().snapshotsShipped).toBeGreaterThan(2)
    await replica.catchUp()
    expect(replica.lsn).toBeGreaterThan(before)
    expect(replica.lsn).toBe(model.lastLsn)
    expectSameState(contents(replica), model.stateAt(model.lastLsn))
    await replica.close()
    await rep.close()
    await db.close()
  })

  it('a replica promoted after its writer stopped continues the prefix as the new writer', async () => {
    const t = await target('replica-promote')
    const db = await AlexStorage.open(fresh('db'))
    const rep = await replicate(db, { ...t, intervalMs: 2, maxObjectBytes: 256 })
    const model = new Model(db)
    await storm(model, rng(41), 120)
    await rep.flush()
    await rep.close()
    await db.close() // the writer's machine is gone
    const dir = fresh('replica')
    const replica = await openReplica({ ...t, intervalMs: 60_000 }, dir)
    expect(replica.lsn).toBe(model.lastLsn)
    await replica.close()
    const promoted = await AlexStorage.open(dir)
    const rep2 = await replicate(promoted, { ...t, intervalMs: 2 })
    await promoted.put(7e6, new Uint8Array([7]))
    await rep2.flush()
    expect(rep2.stats().shippedLsn).toBe(model.lastLsn + 1) // the lineage's numbering goes on
    const check = fresh('check')
    await restore(t, check)
    const restored = await AlexStorage.open(check)
    expectSameState(contents(restored), contents(promoted))
    await restored.close()
    await rep2.close()
    await promoted.close()
  })
})
