import { type AlexIndex, checkInvariants } from '@alex/index'
import {
  type CrashPoint,
  FaultInjectionFileSystem,
  forEachCrashPoint,
  POWER_CUT_MODES,
} from '@alex/wal/testing'
import { describe, expect, it } from 'vitest'
import { AlexStorage, type AlexStorageOptions } from '../src/index.js'
import { valueFor } from './helpers.js'

/**
 * Power cuts during a bulk ingest (docs/architecture.md, "Bulk ingest"): a store with logged
 * writes and a snapshot gets an ingest that overwrites some keys and adds many (several
 * segments), then more writes. The workload is cut before each mutating file operation in turn,
 * in every power-cut mode, and the image must reopen to the state of the acknowledged operations,
 * with the one in flight (the ingest, at most) either wholly there or wholly absent, never a mix.
 * The same image with its newest snapshot damaged, and with every snapshot gone (a full scan),
 * must give one of those two states as well.
 */

const DIR = '/db'

const OPTIONS: AlexStorageOptions = {
  sync: 'always',
  segmentBytes: 4096,
  autoCompaction: false,
  checkpointRecords: 1_000_000,
}

type Op =
  | { t: 'put'; key: number; v: number; len: number }
  | { t: 'del'; key: number }
  | { t: 'ingest'; keys: number[]; v: number }

const put = (key: number, v: number, len: number): Op => ({ t: 'put', key, v, len })
const del = (key: number): Op => ({ t: 'del', key })

/** Ingested keys: 0..59 step 1.5 (40 keys; 3, 6, 9, ... overwrite the puts below). */
const INGEST_KEYS = Array.from({ length: 40 }, (_, i) => i * 1.5)
const lengthOf = (key: number) => 20 + ((key * 37) % 300)

const BEFORE: Op[] = [put(3, 1, 100), put(6, 1, 900), put(100, 1, 50), del(6), put(9, 1, 10)]
const INGEST: Op = { t: 'ingest', keys: INGEST_KEYS, v: 2 }
const AFTER: Op[] = [put(3, 3, 7), del(100), put(1000, 3, 30)]

function apply(model: Map<number, Uint8Array>, op: Op): void {
  if (op.t === 'put') model.set(op.key, valueFor(op.key, op.v, op.len))
  else if (op.t === 'del') model.delete(op.key)
  else for (const k of op.keys) model.set(k, valueFor(k, op.v, lengthOf(k)))
}

function modelOf(ops: Op[]): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>()
  for (const op of ops) apply(m, op)
  return m
}

async function issue(db: AlexStorage, op: Op): Promise<void> {
  if (op.t === 'put') return db.put(op.key, valueFor(op.key, op.v, op.len))
  if (op.t === 'del') return db.delete(op.key)
  const values = op.keys.map((k) => valueFor(k, op.v, lengthOf(k)))
  await db.ingest({ keys: Float64Array.from(op.keys), values })
}

interface Trace {
  acked: Op[]
  inFlight: Op | undefined
  phase: string
}

async function workload(fs: FaultInjectionFileSystem, trace: Trace): Promise<void> {
  trace.acked = []
  trace.inFlight = undefined
  trace.phase = 'open'
  const db = await AlexStorage.open(DIR, { ...OPTIONS, fs })
  const run = async (ops: Op[], phase: string) => {
    trace.phase = phase
    for (const op of ops) {
      trace.inFlight = op
      await issue(db, op)
      trace.acked.push(op)
      trace.inFlight = undefined
    }
  }
  await run(BEFORE, 'writes before')
  trace.phase = 'checkpoint'
  await db.checkpoint()
  await run([INGEST], 'ingest')
  await run(AFTER, 'writes after')
  trace.phase = 'close'
  await db.close()
  trace.phase = 'done'
}

function same(a: Map<number, Uint8Array>, b: Map<number, Uint8Array>): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) {
    const w = b.get(k)
    if (w === undefined || w.length !== v.length) return false
    for (let i = 0; i < v.length; i++) if (v[i] !== w[i]) return false
  }
  return true
}

function show(m: Map<number, Uint8Array>): string {
  return JSON.stringify([...m].sort((a, b) => a[0] - b[0]).map(([k, v]) => [k, v.length, v[0]]))
}

async function readImage(fs: FaultInjectionFileSystem): Promise<Map<number, Uint8Array>> {
  const db = await AlexStorage.open(DIR, { ...OPTIONS, fs })
  const state = new Map<number, Uint8Array>()
  for (const [k, v] of db.entries()) state.set(k, v.slice())
  checkInvariants((db as unknown as { index: AlexIndex }).index)
  await db.close()
  return state
}

/** The state must be the acknowledged operations, plus the one in flight wholly or not at all. */
function expectWhole(state: Map<number, Uint8Array>, trace: Trace, where: string): void {
  const before = modelOf(trace.acked)
  const after = trace.inFlight ? modelOf([...trace.acked, trace.inFlight]) : undefined
  if (same(state, before) || (after !== undefined && same(state, after))) return
  throw new Error(
    `${where}: recovered ${show(state)}\n  expected ${show(before)}` +
      (after ? `\n  or ${show(after)}` : ''),
  )
}

describe('power cuts during a bulk ingest', () => {
  it('every crash point, every power-cut mode: before or after the ingest, never a mix', async () => {
    const trace: Trace = { acked: [], inFlight: undefined, phase: '' }
    const phases = new Map<string, number>()
    const checked = await forEachCrashPoint({
      base: new FaultInjectionFileSystem({ seed: 11 }),
      modes: POWER_CUT_MODES,
      workload: (fs) => workload(fs, trace),
      check: async (survivor: FaultInjectionFileSystem, point: CrashPoint) => {
        phases.set(trace.phase, (phases.get(trace.phase) ?? 0) + 1)
        const where = `cut at op ${point.index}/${point.total} (${point.op?.op ?? 'end'} ${point.op?.path ?? ''}) in ${trace.phase}, mode ${point.mode}`
        const damaged = survivor.clone()
        const noSnapshots = survivor.clone()
        const first = await readImage(survivor)
        expectWhole(first, trace, where)
        expect(same(await readImage(survivor), first), `${where}: second open`).toBe(true)
        const snaps = damaged
          .listFiles()
          .filter((p) => /^\/db\/snapshot-\d+\.snap$/.test(p))
          .sort()
        const newest = snaps[snaps.length - 1]
        if (newest !== undefined) {
          const bytes = damaged.readFile(newest)
          bytes[bytes.length >> 1]! ^= 0x40
          damaged.writeFile(newest, bytes)
          expectWhole(await readImage(damaged), trace, `${where}: newest snapshot damaged`)
          for (const p of snaps) noSnapshots.writeFile(p, new Uint8Array(10))
          expectWhole(await readImage(noSnapshots), trace, `${where}: every snapshot lost`)
        }
      },
    })
    expect(checked).toBeGreaterThan(50)
    expect(phases.get('ingest') ?? 0).toBeGreaterThan(10)
  })

  it('a process killed at every operation (page cache kept): the same, full scans included', async () => {
    // What a power cut undoes (directory entries not yet fsynced) a killed process keeps: the
    // segments of an ingest cut short are all there, so a full scan must tell them apart.
    const trace: Trace = { acked: [], inFlight: undefined, phase: '' }
    const dry = new FaultInjectionFileSystem({ seed: 5 })
    await workload(dry, trace)
    const total = dry.mutatingOps
    let cutInIngest = 0
    for (let index = 1; index <= total; index++) {
      const fs = new FaultInjectionFileSystem({ seed: 5 })
      fs.crashAtOp(index)
      await workload(fs, trace).catch((err) => {
        if (!fs.crashed) throw err
      })
      if (trace.phase === 'ingest') cutInIngest++
      const where = `killed at op ${index}/${total} in ${trace.phase}`
      const image = fs.processCrash()
      const noSnapshots = image.clone()
      expectWhole(await readImage(image), trace, where)
      for (const p of noSnapshots.listFiles()) {
        if (/^\/db\/snapshot-\d+\.snap$/.test(p)) noSnapshots.writeFile(p, new Uint8Array(10))
      }
      expectWhole(await readImage(noSnapshots), trace, `${where}: every snapshot lost`)
    }
    expect(cutInIngest).toBeGreaterThan(10)
  })
})
