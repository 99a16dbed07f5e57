import { join } from 'node:path'
import { AlexStorage } from '@alex/storage'
import { rng, tempDir } from '@alex/test-support'
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, expect, it } from 'vitest'
import { openReplica, type Replicator, replicate, restore } from '../../src/index.js'
import { contents, expectSameState, Model, storm, waitFor } from '../helpers.js'
import {
  canRestartGateway,
  describeOnGateway,
  gatewayCommand,
  gatewayEnv,
  gatewayTarget,
  quantile,
} from './gateway.js'
import { fold, type KillPlan, runWriter } from './kill-cycle.js'

/**
 * Acceptance tests of issue #15 against a real S3 implementation, Ceph's radosgw started by
 * scripts/s3-gateway.sh (test/acceptance/global-setup.ts). One file, so the tests run one after
 * the other: one of them stops and restarts the gateway. Every test uses a prefix of its own in
 * the bucket `alex-acceptance`. Waits are for conditions; figures (staleness, recovery points)
 * are printed, not asserted.
 */

const { dir: root, cleanup } = tempDir('alex-repl-acceptance-')
afterAll(() => cleanup())
let n = 0
const fresh = (name: string) => join(root, `${name}-${n++}`)

type Where = { client: S3Client; bucket: string; prefix: string }

/** The keys under `<prefix>/<under>`, all pages. */
async function listKeys(t: Where, under: string): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  for (;;) {
    const out = await t.client.send(
      new ListObjectsV2Command({
        Bucket: t.bucket,
        Prefix: `${t.prefix}/${under}`,
        ContinuationToken: token,
      }),
    )
    for (const c of out.Contents ?? []) if (c.Key !== undefined) keys.push(c.Key)
    if (!out.IsTruncated) break
    token = out.NextContinuationToken
  }
  return keys.sort()
}

/** Restores `lsn` (default newest) into a fresh directory and checks it against the model. */
async function restoreAndCheck(t: Where, model: Model, lsn?: number): Promise<number> {
  const dir = fresh('restored')
  const r = await restore({ ...t, ...(lsn === undefined ? {} : { toLsn: lsn }) }, dir)
  if (lsn !== undefined) expect(r.lsn).toBe(lsn)
  expect(model.isBatchEnd(r.lsn), `LSN ${r.lsn} ends a write`).toBe(true)
  const db = await AlexStorage.open(dir) // an ordinary store, opened as a writer
  try {
    expectSameState(contents(db), model.stateAt(r.lsn), `restored at LSN ${r.lsn}`)
  } finally {
    await db.close()
  }
  return r.lsn
}

async function settle(rep: Replicator): Promise<string> {
  try {
    await rep.flush()
    return 'ok'
  } catch (err) {
    return (err as { code: string }).code
  }
}

describeOnGateway('acceptance on the Ceph radosgw gateway', () => {
  it('ships during a write storm; restores at the newest LSN and at random older ones equal the model', async () => {
    const t = await gatewayTarget('storm')
    const db = await AlexStorage.open(fresh('db'))
    const rep = await replicate(db, {
      ...t,
      intervalMs: 20,
      maxObjectBytes: 8 * 1024,
      snapshotEveryBytes: 24 * 1024,
      retainSnapshots: 0, // keep every object: any LSN can be restored
    })
    const model = new Model(db)
    const random = rng(1501)
    await storm(model, random, 3000, 32)
    await rep.flush()
    const stats = rep.stats()
    expect(stats.shippedLsn).toBe(model.lastLsn)
    expect(stats.snapshotsShipped).toBeGreaterThanOrEqual(2) // the first, and one taken mid-storm
    expect(stats.objectsShipped).toBeGreaterThan(20)
    const t0 = Date.now()
    expect(await restoreAndCheck(t, model)).toBe(model.lastLsn)
    const picks = [0]
    while (picks.length < 7) {
      let lsn = Math.floor(random() * model.lastLsn)
      while (!model.isBatchEnd(lsn)) lsn--
      picks.push(lsn)
    }
    for (const lsn of picks) await restoreAndCheck(t, model, lsn)
    console.log(
      `storm: ${model.lastLsn} LSNs in ${stats.objectsShipped} objects (${stats.snapshotsShipped} snapshots, ${stats.failures} failed attempts); 8 restores (LSNs ${picks.join(', ')} and the newest) in ${Date.now() - t0} ms`,
    )
    await rep.close()
    await db.close()
  })

  it('two writers on one prefix: exactly one keeps replicating, the bucket holds its history', async () => {
    // A race for a new prefix: two stores start replicating to it at once.
    {
      const t = await gatewayTarget('fence-race')
      const a = await AlexStorage.open(fresh('a'))
      const b = await AlexStorage.open(fresh('b'))
      await a.put(1, new Uint8Array([1]))
      await b.put(1, new Uint8Array([2]))
      const [repA, repB] = await Promise.all([
        replicate(a, { ...t, intervalMs: 5 }),
        replicate(b, { ...t, intervalMs: 5 }),
      ])
      const outcomes = await Promise.all([settle(repA), settle(repB)])
      expect([...outcomes].sort()).toEqual(['ERR_REPLICATION_FENCED', 'ok'])
      const winner = outcomes[0] === 'ok' ? a : b
      const dir = fresh('r')
      await restore(t, dir)
      const check = await AlexStorage.open(dir)
      expectSameState(contents(check), contents(winner), 'the race winner')
      await check.close()
      await Promise.all([repA.close(), repB.close()])
      await Promise.all([a.close(), b.close()])
    }
    // A split brain: a restored copy of the same history, left running next to the original.
    for (let round = 0; round < 2; round++) {
      const t = await gatewayTarget('fence-split')
      const a = await AlexStorage.open(fresh('a'))
      const repA = await replicate(a, { ...t, intervalMs: 5, maxObjectBytes: 512 })
      await storm(new Model(a), rng(round + 1), 200)
      await repA.flush()
      const bDir = fresh('b')
      await restore(t, bDir)
      const b = await AlexStorage.open(bDir)
      const repB = await replicate(b, { ...t, intervalMs: 5, maxObjectBytes: 512 })
      await Promise.all([
        storm(new Model(a, a.lsn), rng(100 + round), 150),
        storm(new Model(b, b.lsn), rng(200 + round), 150),
      ])
      const [ra, rb] = await Promise.all([settle(repA), settle(repB)])
      expect([ra, rb].sort()).toEqual(['ERR_REPLICATION_FENCED', 'ok'])
      const [winner, loser, winnerRep, loserRep] =
        ra === 'ok' ? [a, b, repA, repB] : [b, a, repB, repA]
      expect(loserRep.stats().state).toBe('failed')
      expect(loserRep.failed?.code).toBe('ERR_REPLICATION_FENCED')
      await loser.put(5e6, new Uint8Array([5])) // the loser's store keeps working
      await expect(replicate(loser, t)).rejects.toMatchObject({ code: 'ERR_REPLICATION_FENCED' })
      await storm(new Model(winner, winner.lsn), rng(300 + round), 100)
      await winnerRep.flush() // the winner goes on
      const dir = fresh('r')
      await restore(t, dir)
      const check = await AlexStorage.open(dir)
      expectSameState(contents(check), contents(winner), `round ${round}: the winner's history`)
      await check.close()
      await Promise.all([repA.close(), repB.close()])
      await Promise.all([a.close(), b.close()])
    }
  })

  it('a replica follows a live writer: whole batches, never back in time, the model at its LSN; staleness measured', async () => {
    const KEYS = 8
    const t = await gatewayTarget('replica')
    const db = await AlexStorage.open(fresh('db'))
    const rep = await replicate(db, { ...t, intervalMs: 20, maxObjectBytes: 4096 })
    const model = new Model(db)
    const ackedAt = new Map<number, number>() // batch end LSN -> when acknowledged
    const writeBatch = async (i: number) => {
      await model.batch(
        Array.from({ length: KEYS }, (_, k) => ({
          key: k,
          value: new Uint8Array([i & 255, i >> 8]),
        })),
      )
      ackedAt.set(model.lastLsn, Date.now())
    }
    await writeBatch(0)
    await rep.flush()
    const replica = await openReplica({ ...t, intervalMs: 20 }, fresh('replica'))
    const staleness: number[] = []
    let last = replica.lsn
    let checks = 0
    let stop = false
    const watcher = (async () => {
      while (!stop) {
        const lsn = replica.lsn
        expect(lsn).toBeGreaterThanOrEqual(last) // never back in time
        const now = Date.now()
        for (const [at, ack] of ackedAt) {
          if (at > last && at <= lsn) staleness.push(now - ack)
        }
        last = lsn
        const values = replica
          .getMany(Array.from({ length: KEYS }, (_, k) => k))
          .map((v) => Buffer.from(v!).toString('hex'))
        expect(new Set(values).size).toBe(1) // a whole batch
        if (checks++ % 20 === 0) {
          using snap = replica.snapshot()
          expectSameState(contents(snap), model.stateAt(replica.lsn), `at LSN ${replica.lsn}`)
        }
        await new Promise((r) => setTimeout(r, 2))
      }
    })()
    const random = rng(4)
    for (let i = 1; i <= 600; i++) {
      await writeBatch(i)
      if (i % 50 === 0) await storm(model, random, 20, 4, 1000) // other keys, other shapes
    }
    await rep.flush()
    await waitFor(() => replica.lsn === model.lastLsn, 'the replica to reach the writer', 180_000)
    stop = true
    await watcher
    expectSameState(contents(replica), contents(db), 'the replica equals the writer')
    const s = replica.staleness()
    expect(s.lagLsn).toBe(0)
    console.log(
      `replica staleness (write acknowledged -> visible on the replica, ${staleness.length} batches): p50 ${quantile(staleness, 0.5)} ms, p99 ${quantile(staleness, 0.99)} ms, max ${quantile(staleness, 1)} ms; ${checks} observations, ${s.failures} failed polls`,
    )
    expect(staleness.length).toBeGreaterThan(0)
    await replica.close()
    await rep.close()
    await db.close()
  })

  it('SIGKILL of the writer while shipping: a restore holds every write confirmed shipped, nothing torn; the writer resumes', async () => {
    const t = await gatewayTarget('sigkill')
    const env = gatewayEnv()
    const dir = fresh('db')
    const intervalMs = 100
    const random = rng(2024)
    const model = new Model(undefined as never) // filled from the writer's protocol
    const windows: number[] = []
    const plans: KillPlan[] = []
    for (let cycle = 0; cycle < 4; cycle++) {
      plans.push(
        cycle % 2 === 1
          ? { kind: 'put', after: 1 + Math.floor(random() * 3) }
          : {
              kind: 'shipped',
              after: 1 + Math.floor(random() * 4),
              delayMs: random() * intervalMs * 2,
            },
      )
    }
    plans.push({ kind: 'finish' })
    let acked = 0 // the highest acknowledged LSN so far: the store must recover at least that
    for (const [cycle, plan] of plans.entries()) {
      const args = { dir, bucket: t.bucket, prefix: t.prefix, seed: cycle + 1, intervalMs }
      const run = await runWriter(args, plan, env)
      const f = fold(model, run)
      expect(f.openLsn, 'the store recovered every acknowledged write').toBeGreaterThanOrEqual(
        acked,
      )
      expect(f.failures, `cycle ${cycle}: ${run.stderr}`).toEqual([])
      if (plan.kind === 'finish') {
        expect(run.code, run.stderr).toBe(0)
        expect(f.done).toBe(true)
        expect(f.shippedLsn).toBe(model.lastLsn)
      } else {
        expect(run.signal, `cycle ${cycle} exited by itself: ${run.stderr}`).toBe('SIGKILL')
        expect(f.shippedLsn).toBeGreaterThan(f.openLsn) // killed after shipping this run's writes
      }
      acked = Math.max(acked, ...f.acks.map((a) => a.lsn))
      const lsn = await restoreAndCheck(t, model)
      // Every write the replicator confirmed is in the bucket; nothing it never saw is.
      expect(lsn).toBeGreaterThanOrEqual(f.shippedLsn)
      expect(lsn).toBeLessThanOrEqual(model.lastLsn)
      // The recovery point: how long before the kill the first acknowledged write missing from
      // the bucket was acknowledged (printed against intervalMs plus the slowest upload).
      const lost = f.acks.filter((a) => a.lsn > lsn)
      const window = lost.length === 0 ? 0 : run.killedAt! - Math.min(...lost.map((a) => a.at))
      windows.push(window)
      console.log(
        `sigkill cycle ${cycle} (${plan.kind}): recovered LSN ${f.openLsn}, ${f.acks.length} writes acknowledged, restored LSN ${lsn} (confirmed ${f.shippedLsn}); ${lost.length} acknowledged writes not yet shipped, the oldest acknowledged ${window} ms before the kill; RPO bound intervalMs ${intervalMs} + slowest upload ${Math.max(0, ...f.uploads)} ms`,
      )
    }
    console.log(`sigkill: recovery point (ms) per cycle: ${windows.join(', ')}`)
  })

  it.skipIf(!canRestartGateway)(
    'the gateway stops and restarts in the middle of shipping: writes go on, replication catches up, nothing lost or duplicated',
    async () => {
      const t = await gatewayTarget('outage')
      const db = await AlexStorage.open(fresh('db'))
      const errors: string[] = []
      const rep = await replicate(db, {
        ...t,
        intervalMs: 20,
        maxBackoffMs: 250,
        requestTimeoutMs: 5000,
        maxObjectBytes: 4096,
        retainSnapshots: 0,
        onError: (e) => errors.push(e.code),
      })
      const model = new Model(db)
      const random = rng(7480)
      const writing = storm(model, random, 1500, 16)
      await waitFor(() => rep.stats().objectsShipped >= 4, 'some objects to ship')
      await gatewayCommand('stop-gateway')
      let down: ReturnType<Replicator['stats']>
      try {
        const failures = rep.stats().failures
        await writing
        await storm(model, random, 600, 16) // writes never wait for the object store
        await waitFor(() => rep.stats().failures > failures, 'failed attempts while it is down')
        down = rep.stats()
        expect(down.state).toBe('running')
        expect(down.lagLsn).toBeGreaterThan(0)
      } finally {
        await gatewayCommand('start-gateway')
      }
      await storm(model, random, 300, 16)
      await rep.flush()
      const s = rep.stats()
      expect(s.state).toBe('running')
      expect(s.shippedLsn).toBe(model.lastLsn)
      // Log objects 1..seq, each exactly once: none skipped, none written twice.
      const logs = await listKeys(t, 'log/')
      expect(logs.length).toBe(s.seq)
      expect(logs.map((k) => Number(k.slice(k.lastIndexOf('/') + 1)))).toEqual(
        Array.from({ length: s.seq }, (_, i) => i + 1),
      )
      expect(await restoreAndCheck(t, model)).toBe(model.lastLsn)
      console.log(
        `outage: ${down.lagLsn} LSNs behind while down, ${s.failures} failed attempts (${[...new Set(errors)].join(', ')}), caught up to LSN ${s.shippedLsn} in ${s.seq} log objects`,
      )
      await rep.close()
      await db.close()
    },
  )
})
