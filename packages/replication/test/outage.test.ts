import { join } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { rng, tempDir } from '@alex/test-support'
import { afterAll, describe, expect, it } from 'vitest'
import { type ReplicationError, replicate, restore } from '../src/index.js'
import { contents, expectSameState, listKeys, Model, storm, waitFor } from './helpers.js'
import { target } from './target.js'

/**
 * An unreachable or hanging object store: writes go on, shipping falls behind and retries with
 * backoff, then catches up with nothing lost or duplicated; past maxLagBytes replication stops
 * with ERR_REPLICATION_LAG_LIMIT and the store goes on.
 */

const { dir: root, cleanup } = tempDir('alex-repl-outage-')
afterAll(() => cleanup())
let n = 0
const fresh = (name: string) => join(root, `${name}-${n++}`)

/** The log objects' sequence numbers are 1..N with no hole, and a restore equals the model. */
async function expectWhole(t: Awaited<ReturnType<typeof target>>, model: Model): Promise<void> {
  const seqs = (await listKeys(t, 'log/')).map((k) => Number(k.slice(-16)))
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
  const dir = fresh('r')
  const result = await restore(t, dir)
  expect(result.lsn).toBe(model.lastLsn)
  const check = await AlexStorage.open(dir)
  expectSameState(contents(check), model.stateAt(model.lastLsn))
  await check.close()
}

describe('an unreachable object store', () => {
  it('falls behind while writes go on, then catches up: nothing lost or duplicated', async () => {
    const t = await target('outage')
    const db = await AlexStorage.open(fresh('db'))
    const errors: ReplicationError[] = []
    const rep = await replicate(db, {
      ...t,
      intervalMs: 2,
      maxBackoffMs: 20,
      maxObjectBytes: 1024,
      onError: (e) => errors.push(e),
    })
    const model = new Model(db)
    await storm(model, rng(11), 100)
    await rep.flush()
    const snapshots = rep.stats().snapshotsShipped
    t.client.down()
    await storm(model, rng(12), 300) // writes never wait for the object store
    await waitFor(() => rep.stats().failures >= 3, 'failed attempts')
    const behind = rep.stats()
    expect(behind.state).toBe('running')
    expect(behind.lagLsn).toBeGreaterThan(0)
    expect(behind.lagBytes).toBeGreaterThan(0)
    expect(behind.lastError?.code).toBe('ERR_REPLICATION_OBJECT_STORE')
    expect(behind.lastError?.cause).toMatchObject({ code: 'ECONNREFUSED' })
    expect(errors.length).toBe(behind.failures)
    // A checkpoint while behind: the open feed keeps the unshipped log.
    await db.checkpoint()
    t.client.up()
    await rep.flush()
    const after = rep.stats()
    expect(after.shippedLsn).toBe(model.lastLsn)
    expect(after.lagLsn).toBe(0)
    expect(after.lagBytes).toBe(0)
    // Shipped from the retained log, not papered over by a new snapshot.
    expect(after.snapshotsShipped).toBe(snapshots)
    await expectWhole(t, model)
    await rep.close()
    await db.close()
  })

  it('aborts hung requests after requestTimeoutMs and retries them', async () => {
    const t = await target('hang')
    const db = await AlexStorage.open(fresh('db'))
    const rep = await replicate(db, {
      ...t,
      intervalMs: 2,
      maxBackoffMs: 20,
      requestTimeoutMs: 100,
    })
    const model = new Model(db)
    await rep.flush()
    t.client.inject({ mode: 'hang', op: 'PutObject', times: 3 })
    await storm(model, rng(13), 50)
    await rep.flush()
    expect(rep.stats().failures).toBeGreaterThanOrEqual(3)
    await expectWhole(t, model)
    // close() aborts a request hanging in flight instead of waiting for it.
    t.client.inject({ mode: 'hang' })
    await model.put(1, new Uint8Array([1]))
    await waitFor(() => t.client.injected >= 4, 'a hanging request')
    await rep.close()
    expect(rep.stats().state).toBe('closed')
    await db.close()
  })

  it('past maxLagBytes stops with ERR_REPLICATION_LAG_LIMIT, never blocking writes; a new replicate resumes', async () => {
    const t = await target('lag')
    const db = await AlexStorage.open(fresh('db'))
    const errors: string[] = []
    const rep = await replicate(db, {
      ...t,
      intervalMs: 2,
      maxBackoffMs: 10,
      maxLagBytes: 16 * 1024,
      onError: (e) => errors.push(e.code),
    })
    const model = new Model(db)
    await model.put(1, new Uint8Array(10))
    await rep.flush()
    t.client.down()
    for (let i = 0; i < 400 && rep.failed === undefined; i++) {
      await model.put(i, new Uint8Array(200).fill(i % 251))
    }
    await waitFor(() => rep.failed !== undefined, 'the lag limit')
    expect(rep.failed?.code).toBe('ERR_REPLICATION_LAG_LIMIT')
    expect(rep.stats().state).toBe('failed')
    expect(errors.at(-1)).toBe('ERR_REPLICATION_LAG_LIMIT')
    await expect(rep.flush()).rejects.toMatchObject({ code: 'ERR_REPLICATION_LAG_LIMIT' })
    await model.put(9999, new Uint8Array([9])) // the store goes on
    await db.checkpoint() // and may trim its log now
    await rep.close()
    // Once the object store is back, replicating again resumes (a snapshot covers what the
    // trimmed log no longer holds).
    t.client.up()
    const again = await replicate(db, { ...t, intervalMs: 2 })
    await again.flush()
    expect(again.stats().shippedLsn).toBe(model.lastLsn)
    const dir = fresh('r')
    await restore(t, dir)
    const check = await AlexStorage.open(dir)
    expectSameState(contents(check), model.stateAt(model.lastLsn))
    await check.close()
    await again.close()
    await db.close()
  })
})
