import { FaultInjectionFileSystem, POWER_CUT_MODES, type PowerCutMode } from '@alex/wal/testing'
import { AlexStorage, AlexStorageError, type AlexStorageOptions } from '../src/index.js'
import { rng, valueFor } from './helpers.js'

/**
 * One round of the store's randomized power-cut soak (test/power-cut-soak.test.ts for CI,
 * scripts/power-cut-soak.ts for long runs): a random workload of concurrent puts, deletes and
 * batches, syncs, checkpoints (also automatic ones), compactions and clean reopens on the
 * fault-injecting file system, with power cut before a random one of its mutating operations and
 * the unsynced bytes kept in a random mode (half the rounds `'sectors'`: any subset of the
 * unsynced 512-byte sectors, out of order). The survivor must open in the default recovery mode,
 * and every key must hold its last acknowledged value or a later one that was in flight: no lost
 * acknowledged write, no value that was never written. The seed reproduces a round.
 */

const DIR = '/db'
const KEYS = 40

/** What a round did, for the soak's summary. */
export interface StoreSoakResult {
  seed: number
  sync: 'always' | 'none'
  mode: PowerCutMode
  cutAt: number
  totalOps: number
  acknowledged: number
  /** The survivor's recovery cut a torn tail (log or data). */
  tornTail: boolean
  source: string
}

/** A round that broke the contract: the message says how, and the seed reproduces it. */
export class StoreSoakFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
  ) {
    super(`seed ${seed}: ${message}`)
    this.name = 'StoreSoakFailure'
  }
}

/** One version of a key: its value (undefined: deleted) and whether it was acknowledged. */
interface Version {
  value: Uint8Array | undefined
  acked: boolean
}

/** Every version of every key, in issue order (a burst never touches a key twice). */
class Ledger {
  readonly versions = new Map<number, Version[]>()
  acknowledged = 0

  issue(key: number, value: Uint8Array | undefined): Version {
    const v: Version = { value, acked: false }
    let list = this.versions.get(key)
    if (list === undefined) this.versions.set(key, (list = []))
    list.push(v)
    return v
  }

  ack(vs: Version[]): void {
    for (const v of vs) {
      if (!v.acked) this.acknowledged++
      v.acked = true
    }
  }

  ackAll(): void {
    for (const list of this.versions.values()) this.ack(list)
  }
}

interface Plan {
  sync: 'always' | 'none'
  options: AlexStorageOptions
  steps: number
}

function planFor(seed: number): Plan {
  const rand = rng(seed * 7919 + 1)
  const sync = rand() < 0.75 ? 'always' : 'none'
  return {
    sync,
    options: {
      sync,
      segmentBytes: 4096,
      walSegmentBytes: 4096,
      checkpointRecords: 20 + Math.floor(rand() * 60),
      compactionThreshold: 0.3,
      compactionMinBytes: 2048,
    },
    steps: 20 + Math.floor(rand() * 40),
  }
}

/** A burst of writes on distinct keys, issued together. */
function burst(db: AlexStorage, ledger: Ledger, rand: () => number, sync: string): Promise<void> {
  const used = new Set<number>()
  const writes: Promise<void>[] = []
  const n = 1 + Math.floor(rand() * 6)
  for (let i = 0; i < n; i++) {
    const size = rand() < 0.3 ? 2 + Math.floor(rand() * 3) : 1
    const ops: { key: number; value: Uint8Array | undefined }[] = []
    for (let j = 0; j < size; j++) {
      const key = Math.floor(rand() * KEYS)
      if (used.has(key)) continue
      used.add(key)
      const length = rand() < 0.85 ? Math.floor(rand() * 200) : 600 + Math.floor(rand() * 1500)
      ops.push({
        key,
        value: rand() < 0.2 ? undefined : valueFor(key, Math.floor(rand() * 1e6), length),
      })
    }
    if (ops.length === 0) continue
    const versions = ops.map((o) => ledger.issue(o.key, o.value))
    const done =
      ops.length === 1
        ? ops[0]!.value === undefined
          ? db.delete(ops[0]!.key)
          : db.put(ops[0]!.key, ops[0]!.value)
        : db.batch(
            ops.map((o) =>
              o.value === undefined
                ? { type: 'delete' as const, key: o.key }
                : { type: 'put' as const, key: o.key, value: o.value },
            ),
          )
    // In 'always' mode a resolved write is durable; in 'none' only sync/checkpoint/close say so.
    writes.push(done.then(() => (sync === 'always' ? ledger.ack(versions) : undefined)))
  }
  return Promise.all(writes).then(() => {})
}

/** The workload; it stops at the first error once the file system crashed. */
async function runWorkload(fs: FaultInjectionFileSystem, plan: Plan, seed: number, ledger: Ledger) {
  const rand = rng(seed)
  try {
    let db = await AlexStorage.open(DIR, { ...plan.options, fs })
    for (let step = 0; step < plan.steps; step++) {
      const r = rand()
      if (r < 0.75) await burst(db, ledger, rand, plan.sync)
      else if (r < 0.85) {
        const issued = [...ledger.versions.values()].flat()
        await db.sync()
        ledger.ack(issued)
      } else if (r < 0.9) {
        const issued = [...ledger.versions.values()].flat()
        await db.checkpoint()
        ledger.ack(issued)
      } else if (r < 0.95) {
        const issued = [...ledger.versions.values()].flat()
        await db.compact()
        ledger.ack(issued)
      } else {
        await db.close()
        ledger.ackAll()
        db = await AlexStorage.open(DIR, { ...plan.options, fs })
      }
    }
    await db.close()
    ledger.ackAll()
  } catch (err) {
    if (!fs.crashed) throw err
  }
}

const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a === undefined || b === undefined ? a === b : Buffer.compare(a, b) === 0

/** Opens the survivor in the default mode and checks every key against the ledger. */
async function checkSurvivor(
  survivor: FaultInjectionFileSystem,
  plan: Plan,
  ledger: Ledger,
  seed: number,
) {
  let db: AlexStorage
  try {
    db = await AlexStorage.open(DIR, { ...plan.options, fs: survivor })
  } catch (err) {
    const code = err instanceof AlexStorageError ? `${err.code} ${err.file}:${err.offset}` : ''
    throw new StoreSoakFailure(seed, `the default mode refused the survivor: ${code} ${err}`)
  }
  try {
    for (let key = 0; key < KEYS; key++) {
      const got = db.get(key)
      const list = ledger.versions.get(key) ?? []
      let lastAcked = -1
      for (let i = 0; i < list.length; i++) if (list[i]!.acked) lastAcked = i
      // The last acknowledged version or a later one (in flight at the cut); never an earlier one.
      const allowed =
        lastAcked < 0
          ? [undefined, ...list.map((v) => v.value)]
          : list.slice(lastAcked).map((v) => v.value)
      if (!allowed.some((v) => same(v, got))) {
        throw new StoreSoakFailure(
          seed,
          `key ${key}: recovered a value that is not its last acknowledged one or later`,
        )
      }
    }
    const r = db.recovery
    return { tornTail: r.truncated.length > 0 || r.wal.dropped.length > 0, source: r.source }
  } finally {
    await db.close()
  }
}

/** Runs round `seed` (see the module comment). Throws `StoreSoakFailure` on a violation. */
export async function storeSoakRound(seed: number): Promise<StoreSoakResult> {
  const plan = planFor(seed)
  // A dry run counts the workload's mutating operations, so the cut lands anywhere in it.
  const dry = new FaultInjectionFileSystem({ seed })
  await runWorkload(dry, plan, seed, new Ledger())
  const totalOps = dry.mutatingOps
  const rand = rng(seed * 31 + 7)
  const cutAt = 1 + Math.floor(rand() * (totalOps + 1))
  const mode: PowerCutMode =
    rand() < 0.5 ? 'sectors' : POWER_CUT_MODES[Math.floor(rand() * POWER_CUT_MODES.length)]!
  const fs = new FaultInjectionFileSystem({ seed })
  fs.crashAtOp(cutAt)
  const ledger = new Ledger()
  await runWorkload(fs, plan, seed, ledger)
  const survivor = fs.powerCut({ mode, seed: seed ^ 0x5eed })
  const found = await checkSurvivor(survivor, plan, ledger, seed)
  return {
    seed,
    sync: plan.sync,
    mode,
    cutAt,
    totalOps,
    acknowledged: ledger.acknowledged,
    ...found,
  }
}
