import { join } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { rng, tempDir } from '@alex/test-support'
import { afterAll, describe, expect, it } from 'vitest'
import { type Replicator, replicate, restore } from '../src/index.js'
import { contents, expectSameState, listKeys, Model, storm, waitFor } from './helpers.js'
import { target } from './target.js'

/**
 * Fencing: two writers on one prefix (a store and a restored copy of it, both at the tail) never
 * interleave their histories: exactly one keeps replicating, the other stops with
 * ERR_REPLICATION_FENCED for good while its store keeps working; a store with no record of a
 * prefix that holds a lineage is fenced at once; a PUT whose response was lost is recognised as
 * the writer's own, not taken for a rival's.
 */

const { dir: root, cleanup } = tempDir('alex-repl-fence-')
afterAll(() => cleanup())
let n = 0
const fresh = (name: string) => join(root, `${name}-${n++}`)

async function settle(rep: Replicator): Promise<'ok' | string> {
  try {
    await rep.flush()
    return 'ok'
  } catch (err) {
    return (err as { code: string }).code
  }
}

describe('fencing', () => {
  it('two writers on one prefix: exactly one keeps replicating, the history is its alone', async () => {
    for (let round = 0; round < 4; round++) {
      const t = await target('fence-two')
      const a = await AlexStorage.open(fresh('a'))
      const repA = await replicate(a, { ...t, intervalMs: 2, maxObjectBytes: 256 })
      await storm(new Model(a), rng(round + 1), 100)
      await repA.flush()
      // A split brain: a restored copy of the same history, left running next to the original.
      const bDir = fresh('b')
      await restore(t, bDir)
      const b = await AlexStorage.open(bDir)
      const repB = await replicate(b, { ...t, intervalMs: 2, maxObjectBytes: 256 })
      // Both write different things and ship at once.
      await Promise.all([
        storm(new Model(a, a.lsn), rng(100 + round), 60),
        storm(new Model(b, b.lsn), rng(200 + round), 60),
      ])
      const [ra, rb] = await Promise.all([settle(repA), settle(repB)])
      const outcomes = [ra, rb].sort()
      expect(outcomes).toEqual(['ERR_REPLICATION_FENCED', 'ok'])
      const [winner, loser, winnerRep, loserRep] =
        ra === 'ok' ? [a, b, repA, repB] : [b, a, repB, repA]
      expect(loserRep.stats().state).toBe('failed')
      expect(loserRep.failed?.code).toBe('ERR_REPLICATION_FENCED')
      // The loser's store keeps working; it never writes to the prefix again.
      await loser.put(5e6, new Uint8Array([5]))
      const objects = (await listKeys(t)).length
      await expect(replicate(loser, t)).rejects.toMatchObject({ code: 'ERR_REPLICATION_FENCED' })
      // The winner goes on.
      await storm(new Model(winner, winner.lsn), rng(300 + round), 40)
      await winnerRep.flush()
      expect((await listKeys(t)).length).toBeGreaterThan(objects)
      const restored = fresh('r')
      await restore(t, restored)
      const check = await AlexStorage.open(restored)
      expectSameState(contents(check), contents(winner), `round ${round}`)
      await check.close()
      await repA.close()
      await repB.close()
      await a.close()
      await b.close()
    }
  })

  it('a store with no record of a prefix that holds another lineage is fenced at once', async () => {
    const t = await target('fence-foreign')
    const a = await AlexStorage.open(fresh('a'))
    const repA = await replicate(a, { ...t, intervalMs: 2 })
    await a.put(1, new Uint8Array([1]))
    await repA.flush()
    const c = await AlexStorage.open(fresh('c'))
    await c.put(1, new Uint8Array([2]))
    const errors: string[] = []
    const repC = await replicate(c, { ...t, intervalMs: 2, onError: (e) => errors.push(e.code) })
    await expect(repC.flush()).rejects.toMatchObject({ code: 'ERR_REPLICATION_FENCED' })
    expect(errors).toEqual(['ERR_REPLICATION_FENCED'])
    expect(c.get(1)).toEqual(new Uint8Array([2]))
    await a.put(2, new Uint8Array([2]))
    await repA.flush() // the owner is not disturbed
    await repC.close()
    await repA.close()
    await a.close()
    await c.close()
  })

  it('a create-only PUT whose response was lost is the writer’s own on retry, not a rival’s', async () => {
    const t = await target('fence-lost')
    const a = await AlexStorage.open(fresh('a'))
    const rep = await replicate(a, { ...t, intervalMs: 2 })
    const model = new Model(a)
    await model.put(1, new Uint8Array([1]))
    await rep.flush()
    t.client.inject({ mode: 'lose-response', op: 'PutObject', key: '/log/', times: 2 })
    await storm(model, rng(3), 50)
    await rep.flush()
    expect(rep.stats().failures).toBeGreaterThanOrEqual(1)
    expect(rep.stats().state).toBe('running')
    const dir = fresh('r')
    await restore(t, dir)
    const check = await AlexStorage.open(dir)
    expectSameState(contents(check), model.stateAt(model.lastLsn))
    await check.close()
    await rep.close()
    // Restarted (same store, same prefix): it proves the history is its own and goes on.
    const rep2 = await replicate(a, { ...t, intervalMs: 2 })
    await model.put(2, new Uint8Array([2]))
    await rep2.flush()
    await waitFor(
      () => rep2.stats().shippedLsn === model.lastLsn,
      'the restarted replicator to ship',
    )
    await rep2.close()
    await a.close()
  })

  it('a writer stopped between creating a log object and confirming it proves it its own at the next start', async () => {
    const t = await target('fence-intent')
    const a = await AlexStorage.open(fresh('a'))
    const model = new Model(a)
    // A long interval: rounds run only when flush() asks, and a retry would wait a minute.
    const rep = await replicate(a, { ...t, intervalMs: 60_000 })
    await model.put(1, new Uint8Array([1]))
    await rep.flush()
    // The PUT lands, its response is lost, and the writer stops before any retry: the bucket
    // holds an object the writer's state names only as its intent.
    t.client.inject({ mode: 'lose-response', op: 'PutObject', key: '/log/', times: 1 })
    await storm(model, rng(5), 30)
    const flushed = rep.flush().catch((e: { code: string }) => e.code)
    await waitFor(() => rep.stats().failures === 1, 'the lost response')
    const seq = rep.stats().seq
    await rep.close()
    expect(await flushed).toBe('ERR_REPLICATION_CLOSED')
    expect((await listKeys(t, 'log/')).length).toBe(seq + 1) // it landed, unconfirmed
    const rep2 = await replicate(a, { ...t, intervalMs: 2 })
    await model.put(2, new Uint8Array([2]))
    await rep2.flush()
    expect(rep2.stats().state).toBe('running')
    expect(rep2.stats().snapshotsShipped).toBe(0) // continued the log, no resync
    const dir = fresh('r')
    await restore(t, dir)
    const check = await AlexStorage.open(dir)
    expectSameState(contents(check), model.stateAt(model.lastLsn))
    await check.close()
    await rep2.close()
    await a.close()
  })

  it('a point-in-time restore of an older LSN cannot continue the prefix: the bucket is ahead of it', async () => {
    const t = await target('fence-older')
    const a = await AlexStorage.open(fresh('a'))
    const rep = await replicate(a, { ...t, intervalMs: 2, maxObjectBytes: 128 })
    const model = new Model(a)
    await storm(model, rng(9), 80)
    await rep.flush()
    const older = fresh('older')
    const lsn = [...Array(model.lastLsn).keys()]
      .reverse()
      .find((l) => l < model.lastLsn - 5 && model.isBatchEnd(l))!
    await restore({ ...t, toLsn: lsn }, older)
    const b = await AlexStorage.open(older)
    const repB = await replicate(b, { ...t, intervalMs: 2 })
    await expect(repB.flush()).rejects.toMatchObject({ code: 'ERR_REPLICATION_FENCED' })
    await storm(model, rng(10), 20)
    await rep.flush() // the original is not disturbed
    await repB.close()
    await rep.close()
    await a.close()
    await b.close()
  })

  it('a new lineage whose marker PUT lost its response, or never landed before a stop, is still its own', async () => {
    const t = await target('fence-marker')
    const a = await AlexStorage.open(fresh('a'))
    const model = new Model(a)
    t.client.inject({ mode: 'lose-response', op: 'PutObject', key: '/lineage', times: 1 })
    const rep = await replicate(a, { ...t, intervalMs: 2 })
    await model.put(1, new Uint8Array([1]))
    await rep.flush()
    expect(rep.stats().failures).toBe(1)
    await rep.close()

    const u = await target('fence-marker-stop')
    const b = await AlexStorage.open(fresh('b'))
    u.client.inject({ mode: 'fail', op: 'PutObject', key: '/lineage' })
    const stopped = await replicate(b, { ...u, intervalMs: 2 })
    await waitFor(() => stopped.stats().failures >= 1, 'the failed marker')
    await stopped.close()
    expect(await listKeys(u)).toEqual([])
    u.client.up()
    const again = await replicate(b, { ...u, intervalMs: 2 })
    await b.put(1, new Uint8Array([1]))
    await again.flush()
    expect(again.stats().state).toBe('running')
    await again.close()
    await a.close()
    await b.close()
  })
})
