import { rng } from '@alex/test-support'
import { isWalError, Wal, type WalOp } from '../src/index.js'
import { FaultInjectionFileSystem, POWER_CUT_MODES, type PowerCutMode } from '../src/testing.js'
import { valueFor } from './helpers.js'

/**
 * One round of the randomized power-cut soak (test/power-cut-soak.test.ts for CI,
 * scripts/power-cut-soak.ts for long runs): a random workload of appends, batches, concurrent
 * bursts, syncs, checkpoints and clean reopens on the fault-injecting file system, with power cut
 * before a random one of its mutating operations and the unsynced bytes kept in a random mode
 * (half the rounds `'sectors'`: any subset of the unsynced 512-byte sectors, out of order). The
 * survivor must open in the default recovery mode, hold every acknowledged operation, and
 * nothing that was never appended. Everything is derived from the seed, so a failing round is
 * reproduced by running its seed again.
 */

const DIR = '/db/wal'

/** What a round did, for the soak's summary. */
export interface SoakRoundResult {
  seed: number
  sync: 'always' | 'none'
  mode: PowerCutMode
  /** Mutating operations before the cut, and in the uninterrupted workload. */
  cutAt: number
  totalOps: number
  appended: number
  acknowledged: number
  /** Operations recovery replayed, and whether it dropped a torn tail. */
  replayed: number
  tornTail: boolean
}

/** A round that broke the contract: the message says how, and the seed reproduces it. */
export class SoakFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
  ) {
    super(`seed ${seed}: ${message}`)
    this.name = 'SoakFailure'
  }
}

/** Every operation appended (by LSN), and the ones a resolved promise vouched durable. */
class Ledger {
  readonly ops = new Map<bigint, WalOp>()
  readonly acked = new Set<bigint>()
  checkpoint = 0n
}

interface Workload {
  sync: 'always' | 'none'
  blockingSync: boolean
  segmentBytes: number
  steps: number
}

function randomOp(rand: () => number, key: number): WalOp {
  if (rand() < 0.2) return { type: 'delete', key }
  // Mostly small values, sometimes ones spanning several sectors.
  const length = rand() < 0.8 ? Math.floor(rand() * 120) : Math.floor(rand() * 1500)
  return { type: 'put', key, value: valueFor(key, 0, length) }
}

/** Appends one op or a batch, recording its LSNs before the promise settles. */
function append(wal: Wal, ledger: Ledger, work: Workload, item: WalOp | WalOp[]): Promise<void> {
  const ops = Array.isArray(item) ? item : [item]
  const first = wal.lastAppendedLsn + 1n
  for (let i = 0; i < ops.length; i++) ledger.ops.set(first + BigInt(i), ops[i] as WalOp)
  const p = Array.isArray(item) ? wal.appendBatch(item) : wal.append(item)
  return p.then(() => {
    // In 'always' mode a resolved append is durable; in 'none' only a later sync() says so.
    if (work.sync !== 'always') return
    for (let i = 0; i < ops.length; i++) ledger.acked.add(first + BigInt(i))
  })
}

/** Makes everything appended so far durable, and records it so once `sync()` resolved. */
async function syncAll(wal: Wal, ledger: Ledger): Promise<void> {
  const upTo = wal.lastAppendedLsn
  await wal.sync()
  for (const lsn of ledger.ops.keys()) if (lsn <= upTo) ledger.acked.add(lsn)
}

/**
 * The workload. It stops at the first error (after a simulated crash every call fails); errors
 * before a crash are real failures and are rethrown.
 */
async function runWorkload(
  fs: FaultInjectionFileSystem,
  work: Workload,
  rand: () => number,
  ledger: Ledger,
): Promise<void> {
  let key = 0
  try {
    const options = {
      sync: work.sync,
      blockingSync: work.blockingSync,
      segmentBytes: work.segmentBytes,
    }
    let wal = await Wal.open(DIR, { fs, ...options })
    for (let step = 0; step < work.steps; step++) {
      const r = rand()
      if (r < 0.55) {
        // A burst of concurrent appends and batches: one or more groups.
        const burst: Promise<void>[] = []
        const n = 1 + Math.floor(rand() * 8)
        for (let i = 0; i < n; i++) {
          const item =
            rand() < 0.25
              ? Array.from({ length: 1 + Math.floor(rand() * 4) }, () => randomOp(rand, key++))
              : randomOp(rand, key++)
          burst.push(append(wal, ledger, work, item))
        }
        await Promise.all(burst)
      } else if (r < 0.85) {
        await append(wal, ledger, work, randomOp(rand, key++))
      } else if (r < 0.92) {
        await syncAll(wal, ledger)
      } else if (r < 0.97) {
        const last = wal.lastAppendedLsn
        const lsn =
          ledger.checkpoint + BigInt(Math.floor(rand() * Number(last - ledger.checkpoint + 1n)))
        await wal.checkpoint(lsn)
        // A checkpoint fdatasyncs its group, so everything appended before it is durable too.
        for (const l of ledger.ops.keys()) if (l <= last) ledger.acked.add(l)
        ledger.checkpoint = lsn
      } else {
        await wal.close()
        for (const l of ledger.ops.keys()) ledger.acked.add(l)
        wal = await Wal.open(DIR, { fs, ...options })
      }
    }
    await wal.close()
    for (const l of ledger.ops.keys()) ledger.acked.add(l)
  } catch (err) {
    if (!fs.crashed) throw err
  }
}

/** Opens the survivor in the default mode and checks it against the ledger. */
async function checkSurvivor(
  survivor: FaultInjectionFileSystem,
  ledger: Ledger,
  seed: number,
): Promise<{ replayed: number; tornTail: boolean }> {
  let wal: Wal
  try {
    wal = await Wal.open(DIR, { fs: survivor })
  } catch (err) {
    const code = isWalError(err) ? `${err.code} (${err.reason ?? ''} at ${err.offset})` : ''
    throw new SoakFailure(seed, `the default mode refused the survivor: ${code} ${err}`)
  }
  const cp = wal.checkpointLsn
  if (cp < ledger.checkpoint) {
    throw new SoakFailure(seed, `acknowledged checkpoint ${ledger.checkpoint} lost (found ${cp})`)
  }
  let lsn = cp
  let replayed = 0
  for (const r of wal.replay()) {
    lsn += 1n
    if (r.lsn !== lsn) throw new SoakFailure(seed, `replay skipped from ${lsn - 1n} to ${r.lsn}`)
    const op = ledger.ops.get(r.lsn)
    if (!op) throw new SoakFailure(seed, `LSN ${r.lsn} replayed but never appended`)
    const same =
      op.type === r.type &&
      Object.is(op.key, r.key) &&
      (op.type === 'delete' || Buffer.from(op.value).equals(r.value as Uint8Array))
    if (!same) throw new SoakFailure(seed, `LSN ${r.lsn} replayed with other contents`)
    replayed++
  }
  for (const a of ledger.acked) {
    if (a > cp && a > lsn) {
      throw new SoakFailure(seed, `acknowledged LSN ${a} lost (replayed up to ${lsn})`)
    }
  }
  const tornTail = wal.recovery.dropped.length > 0
  // The repaired log takes appends and reopens clean, even in the strictest mode.
  const next = await wal.append({ type: 'delete', key: -1 })
  await wal.close()
  const again = await Wal.open(DIR, { fs: survivor, recovery: 'absolute-consistency' })
  if (again.lastAppendedLsn !== next) {
    throw new SoakFailure(seed, `after repair, the reopened log ends at ${again.lastAppendedLsn}`)
  }
  await again.close()
  return { replayed, tornTail }
}

/** Runs round `seed`; resolves with what it did, or rejects with a `SoakFailure`. */
export async function soakRound(seed: number): Promise<SoakRoundResult> {
  // Consecutive seeds scrambled first: xorshift32's first draws from nearby seeds are correlated.
  const rand = rng(Math.imul(seed, 0x9e3779b1) ^ 0x5bd1e995)
  const work: Workload = {
    sync: rand() < 0.6 ? 'always' : 'none',
    blockingSync: rand() < 0.2,
    segmentBytes: [4096, 8192, 65536][Math.floor(rand() * 3)] as number,
    steps: 5 + Math.floor(rand() * 30),
  }
  const workloadSeed = Math.floor(rand() * 2 ** 32)
  const mode: PowerCutMode =
    rand() < 0.5
      ? 'sectors'
      : (POWER_CUT_MODES[Math.floor(rand() * POWER_CUT_MODES.length)] as PowerCutMode)
  // A dry run counts the workload's mutating operations; the real one is cut before a random one.
  const dry = new FaultInjectionFileSystem({ seed })
  await runWorkload(dry, work, rng(workloadSeed), new Ledger())
  const totalOps = dry.mutatingOps
  const cutAt = 1 + Math.floor(rand() * (totalOps + 1))
  const fs = new FaultInjectionFileSystem({ seed })
  fs.crashAtOp(cutAt)
  const ledger = new Ledger()
  await runWorkload(fs, work, rng(workloadSeed), ledger)
  const survivor = fs.powerCut({ mode, seed: Math.floor(rand() * 2 ** 32) })
  const { replayed, tornTail } = await checkSurvivor(survivor, ledger, seed)
  return {
    seed,
    sync: work.sync,
    mode,
    cutAt,
    totalOps,
    appended: ledger.ops.size,
    acknowledged: ledger.acked.size,
    replayed,
    tornTail,
  }
}
