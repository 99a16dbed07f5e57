import { describe, expect, it } from 'vitest'
import { Wal, type WalOp } from '../src/index.js'
import {
  type CrashPoint,
  FaultInjectionFileSystem,
  forEachCrashPoint,
  POWER_CUT_MODES,
} from '../src/testing.js'
import { collect, del, expected, put } from './helpers.js'

const DIR = '/db/wal'

/**
 * What a workload did: every op it appended by LSN, the LSNs acknowledged, and the checkpoints
 * acknowledged. Reset at the start of each run.
 */
class Ledger {
  ops = new Map<bigint, WalOp>()
  acked = new Set<bigint>()
  checkpoint = 0n

  reset(base?: Ledger): void {
    this.ops = new Map(base?.ops)
    this.acked = new Set(base?.acked)
    this.checkpoint = base?.checkpoint ?? 0n
  }

  /** Appends through `wal`, recording the LSNs the op(s) will get. */
  async append(wal: Wal, item: WalOp | WalOp[]): Promise<void> {
    const ops = Array.isArray(item) ? item : [item]
    let lsn = wal.lastAppendedLsn
    const mine: bigint[] = []
    for (const op of ops) {
      lsn += 1n
      this.ops.set(lsn, op)
      mine.push(lsn)
    }
    const last = await (Array.isArray(item) ? wal.appendBatch(item) : wal.append(item))
    expect(last).toBe(mine[mine.length - 1])
    for (const l of mine) this.acked.add(l)
  }

  async checkpointTo(wal: Wal, lsn: bigint): Promise<void> {
    await wal.checkpoint(lsn)
    if (lsn > this.checkpoint) this.checkpoint = lsn
  }
}

/**
 * The survivor must open in the default mode (a power cut is never corruption, whatever order the
 * unsynced sectors reached the disk in), keep every
 * acknowledged operation after its checkpoint, and replay a gap-free run of LSNs, each exactly
 * the operation appended with it: a prefix of what was appended after the checkpoint.
 */
async function checkSurvivor(
  survivor: FaultInjectionFileSystem,
  ledger: Ledger,
  point: CrashPoint,
) {
  const where = `cut ${point.index}/${point.total} (${point.op?.op ?? 'end'} ${point.op?.path ?? ''}) mode ${point.mode} seed ${point.seed}`
  let wal: Wal
  try {
    wal = await Wal.open(DIR, { fs: survivor })
  } catch (err) {
    throw new Error(`${where}: open failed: ${(err as Error).message}`)
  }
  const cp = wal.checkpointLsn
  expect(cp, where).toBeGreaterThanOrEqual(ledger.checkpoint)
  const got = collect(wal)
  let lsn = cp
  for (const r of got) {
    lsn += 1n
    expect(r.lsn, where).toBe(lsn)
    const op = ledger.ops.get(r.lsn)
    expect(op, `${where}: LSN ${r.lsn} was never appended`).toBeDefined()
    expect(r, where).toEqual(expected(op as WalOp, r.lsn))
  }
  for (const a of ledger.acked) {
    if (a > cp)
      expect(a <= lsn, `${where}: acknowledged LSN ${a} lost (replayed up to ${lsn})`).toBe(true)
  }
  // The recovered log accepts appends and comes back clean.
  const next = await wal.append(put(1234))
  expect(next, where).toBeGreaterThan(lsn)
  await wal.close()
  const again = await Wal.open(DIR, { fs: survivor, recovery: 'absolute-consistency' })
  expect(collect(again).at(-1)?.lsn, where).toBe(next)
  await again.close()
}

describe('power cut at every crash point', () => {
  it('of appends, batches, a checkpoint and segment rotation (sync: always)', async () => {
    const base = new FaultInjectionFileSystem()
    const ledger = new Ledger()
    const workload = async (fs: FaultInjectionFileSystem) => {
      ledger.reset()
      const wal = await Wal.open(DIR, { fs, segmentBytes: 4096 })
      try {
        await Promise.all([
          ledger.append(wal, put(1, 500)),
          ledger.append(wal, del(2)),
          ledger.append(wal, put(3, 900)),
        ])
        await ledger.append(wal, [put(4, 700), del(5), put(6, 10)])
        for (let i = 7; i < 16; i++) await ledger.append(wal, put(i, 600))
        await ledger.checkpointTo(wal, 9n)
        await Promise.all([
          ledger.append(wal, put(16, 1500)),
          ledger.append(wal, [del(17), put(18, 2000)]),
        ])
        await ledger.checkpointTo(wal, wal.lastAppendedLsn)
        await ledger.append(wal, put(19, 30))
      } finally {
        await wal.close().catch(() => undefined)
      }
    }
    const checked = await forEachCrashPoint({
      base,
      workload,
      // Every mode, out-of-order sector persistence ('sectors') included.
      modes: POWER_CUT_MODES,
      check: (survivor, point) => checkSurvivor(survivor, ledger, point),
    })
    expect(checked).toBeGreaterThan(5 * 40)
  })

  it('of recovery itself, repairing a torn tail, a stray temp file and covered segments', async () => {
    // Build a damaged starting image: segments covered by a checkpoint restored after deletion,
    // a leftover temp file, and a torn record at the end of the newest segment.
    const setup = new FaultInjectionFileSystem()
    const prior = new Ledger()
    const w = await Wal.open(DIR, { fs: setup, segmentBytes: 4096 })
    for (let i = 1; i <= 30; i++) await prior.append(w, put(i, 400))
    const before = setup.listFiles().map((f) => [f, setup.readFile(f)] as const)
    await prior.checkpointTo(w, 20n)
    await prior.append(w, put(31, 50))
    await w.close()
    const base = new FaultInjectionFileSystem()
    for (const [f, bytes] of before) base.writeFile(f, bytes)
    for (const f of setup.listFiles()) base.writeFile(f, setup.readFile(f))
    const newest = setup.listFiles().at(-1) as string
    const torn = setup.readFile(newest)
    const extra = new Uint8Array(torn.length + 20)
    extra.set(torn)
    extra.set([7, 7, 7, 7, 30, 0, 0, 0, 1], torn.length)
    base.writeFile(newest, extra)
    base.writeFile(`${DIR}/00000000000000000099.wal.tmp`, new Uint8Array(10))

    const ledger = new Ledger()
    const checked = await forEachCrashPoint({
      base,
      workload: async (fs) => {
        ledger.reset(prior)
        const wal = await Wal.open(DIR, { fs, segmentBytes: 4096 })
        try {
          await ledger.append(wal, put(100, 100))
          await ledger.checkpointTo(wal, 31n)
        } finally {
          await wal.close().catch(() => undefined)
        }
      },
      check: (survivor, point) => checkSurvivor(survivor, ledger, point),
    })
    expect(checked).toBeGreaterThan(4 * 10)
  })

  it("of a bulk load with sync: 'none' made durable by sync()", async () => {
    const ledger = new Ledger()
    let synced: bigint[] = []
    const checked = await forEachCrashPoint({
      base: new FaultInjectionFileSystem(),
      stride: 3,
      modes: POWER_CUT_MODES,
      workload: async (fs) => {
        ledger.reset()
        synced = []
        const wal = await Wal.open(DIR, { fs, sync: 'none', segmentBytes: 4096 })
        try {
          for (let round = 0; round < 3; round++) {
            // Several groups per round, so segments rotate with unsynced bytes in them.
            for (let group = 0; group < 4; group++) {
              const pending: Promise<void>[] = []
              for (let i = 0; i < 12; i++)
                pending.push(ledger.append(wal, put(round * 100 + group * 12 + i, 60)))
              await Promise.all(pending)
            }
            // In 'none' mode an acknowledgement only means "in the OS": sync() makes it durable.
            ledger.acked.clear()
            await wal.sync()
            synced = [...ledger.ops.keys()]
          }
        } finally {
          await wal.close().catch(() => undefined)
        }
      },
      check: async (survivor, point) => {
        const durable = new Ledger()
        durable.reset(ledger)
        durable.acked = new Set(synced)
        await checkSurvivor(survivor, durable, point)
      },
    })
    expect(checked).toBeGreaterThan(20)
  })
})
