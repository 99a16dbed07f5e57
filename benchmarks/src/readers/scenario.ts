/**
 * Runs the `readers` workload for one engine inside its bench child, on the store the child
 * loaded: closes the child's own handle, opens the writer, starts a pool of reader processes
 * (and for AlexStorage a pool of worker threads), runs each phase of plan.ts in turn, then
 * closes everything and reopens the child's handle, so the child's final read-back checks every
 * key written here too.
 *
 * A phase: the readers it adds open the store (AlexStorage: a following read-only open, caught
 * up) and read one key in 16 to warm their caches; on a common schedule of the shared clock the
 * writer starts its puts and the readers their gets; after the warm-up the window is measured;
 * then the writer lists its readers (AlexStorage). Readers stay open into the next phase of their
 * kind (1, 2, then 4 readers) and close after the last one, so no reader sits open and idle
 * while others are measured. Phases never overlap.
 */
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Dataset, DatasetShape, Distribution } from '../dataset.js'
import { clockFrom, newOrigin } from './clock.js'
import { machineTicks, otherCores, ownCpuMs } from './cpu.js'
import { settledMemory } from './memory.js'
import { phaseFigures, type ReaderReport, type Window } from './phase-figures.js'
import {
  GO_DELAY_MS,
  maxWrites,
  type PhaseResult,
  type PhaseSpec,
  POOL_SIZE,
  phasesFor,
  phaseTiming,
  type ReadersDetail,
  WRITE_RATE,
} from './plan.js'
import { readLoop, warmPass } from './read-loop.js'
import { ReaderFailed, ReaderPool } from './reader-pool.js'
import type { FromReader, MemoryReading } from './reader-protocol.js'
import { openWriter, type WriterStore } from './stores.js'
import { ValueCheck, writeVersions } from './value-check.js'
import { pacedWrites, WritePlan } from './writer.js'

/** What the workload needs from the bench child. */
export interface ReadersContext {
  readonly engine: string
  /** Loaded keys (key indices 0 .. scale - 1). */
  readonly scale: number
  readonly seed: number
  readonly distribution: Distribution
  readonly valueSize: number
  readonly shape: DatasetShape
  /** The store's directory. */
  readonly dir: string
  readonly ds: Dataset
  /** Version per key index; updated as the writer writes. */
  readonly version: Uint32Array
  /** Key indices written durably. */
  readonly written: number[]
  /** Close and reopen the child's own handle on the store. */
  closeStore(): Promise<void>
  reopenStore(): Promise<void>
  progress(done: number, total: number): void
  /** A wrong value was read: throws the bench's correctness error. */
  fail(message: string): never
}

/** RSS of a bare `node -e` process, in bytes (0 if it cannot be measured). */
function bareNodeRss(): number {
  const r = spawnSync(
    process.execPath,
    ['-e', 'process.stdout.write(String(process.memoryUsage.rss()))'],
    {
      encoding: 'utf8',
    },
  )
  const n = Number(r.stdout)
  return Number.isFinite(n) ? n : 0
}

interface Session {
  readonly ctx: ReadersContext
  readonly writer: WriterStore
  readonly check: ValueCheck
  readonly plan: WritePlan
  readonly now: () => number
  readonly pools: { processes?: ReaderPool; threads?: ReaderPool }
  /** Readers of each pool with the store open (they open once, in phase order 1, 2, 4). */
  readonly open: { processes: number; threads: number }
  verified: number
}

/** The writer's own gets (phase 'writer-get'), or nothing. */
function ownReads(s: Session, spec: PhaseSpec, index: number, w: Window) {
  if (spec.kind !== 'writer-get') return Promise.resolve(undefined)
  const { ctx } = s
  return readLoop(
    { get: (key) => s.writer.get(key), mark: () => 0 },
    s.check,
    { now: s.now, ...w, seed: (ctx.seed * 31 + index * 8) >>> 0 },
    (k, v) => writerWrong(ctx, k, v),
  ).then((r) => {
    s.verified += r.verified
    return r
  })
}

function writerWrong(ctx: ReadersContext, k: number, v: Uint8Array | undefined): never {
  return ctx.fail(
    `${ctx.engine} writer: its own get of key index ${k} returned ${v === undefined ? 'undefined' : 'a value that differs'}`,
  )
}

/** The machine's CPU ticks and the writer process's CPU time at the window's start and end. */
async function windowCpu(now: () => number, w: Window) {
  const wait = w.startMs - now()
  if (wait > 0) await sleep(wait)
  const from = machineTicks()
  const c0 = ownCpuMs()
  const t0 = now()
  const rest = w.endMs - now()
  if (rest > 0) await sleep(rest)
  const to = machineTicks()
  const spanMs = now() - t0
  if (from === undefined || to === undefined || spanMs <= 0) return undefined
  return { from, to, writerCpuMs: ownCpuMs() - c0, spanMs }
}

/** Opens readers of `pool` up to `k` (those not open yet), each with its warm pass. */
async function openUpTo(
  s: Session,
  kind: 'processes' | 'threads',
  pool: ReaderPool,
  k: number,
): Promise<Extract<FromReader, { type: 'opened' }>[]> {
  const already = s.open[kind]
  if (k <= already) return []
  const opened = await pool.range(already, k, { type: 'open' }, 'opened')
  s.open[kind] = k
  for (const o of opened) s.verified += o.warmed
  return opened
}

/** Cores our processes used in the window: the writer's (its reader threads included) and each reader process's. */
function ourCores(
  cpu: { writerCpuMs: number; spanMs: number },
  spec: PhaseSpec,
  reports: readonly ReaderReport[],
): number {
  let cores = cpu.writerCpuMs / cpu.spanMs
  if (spec.kind === 'processes') {
    for (const r of reports) if (r.elapsedMs > 0) cores += r.cpuMs / r.elapsedMs
  }
  return cores
}

/** This process's memory after every worker of `pool` and this thread collected garbage. */
async function settledPool(pool: ReaderPool): Promise<MemoryReading> {
  await pool.all(POOL_SIZE, { type: 'memory' }, 'memory')
  return settledMemory()
}

async function runPhase(
  s: Session,
  spec: PhaseSpec,
  index: number,
  lastOfKind: boolean,
): Promise<PhaseResult> {
  const { ctx, now } = s
  const t = phaseTiming(ctx.scale)
  const k = spec.readers
  const kind = spec.kind === 'threads' ? 'threads' : 'processes'
  const readers = k > 0 ? s.pools[kind] : undefined
  const already = readers !== undefined ? s.open[kind] : 0
  // Threads share the writer's RSS: every isolate collects its garbage before the readings.
  const threadBefore =
    spec.kind === 'threads' && readers !== undefined ? await settledPool(readers) : undefined
  const opened = readers !== undefined ? await openUpTo(s, kind, readers, k) : []
  const goMs = now() + GO_DELAY_MS
  const w = { startMs: goMs + t.warmupMs, endMs: goMs + t.warmupMs + t.windowMs }
  const readersDone: Promise<ReaderReport[]> =
    readers === undefined
      ? Promise.resolve([])
      : readers.all(
          k,
          (i) => ({ type: 'run', ...w, seed: (ctx.seed * 31 + index * 8 + i) >>> 0 }),
          'result',
        )
  const [writes, reports, own, cpu] = await Promise.all([
    pacedWrites(
      { store: s.writer, ds: ctx.ds, version: ctx.version, written: ctx.written, plan: s.plan },
      { now, goMs, ...w, rate: WRITE_RATE },
    ),
    readersDone,
    ownReads(s, spec, index, w),
    windowCpu(now, w),
  ])
  for (const r of reports) s.verified += r.verified
  const writerSaw = k > 0 ? s.writer.readers() : undefined
  const thread =
    threadBefore !== undefined && readers !== undefined
      ? {
          growthBytes: (await settledPool(readers)).rss - threadBefore.rss,
          newReaders: k - already,
        }
      : undefined
  // Processes: the pool's processes that never opened the store are the baseline of the others.
  const idle =
    spec.kind === 'processes' && readers !== undefined
      ? (await readers.range(k, POOL_SIZE, { type: 'memory' }, 'memory')).map((m) => m.reading)
      : []
  if (readers !== undefined && lastOfKind) {
    await readers.all(k, { type: 'close' }, 'closed')
    s.open[kind] = 0
  }
  ctx.progress(index + 1, phasesFor(ctx.engine).length)
  return phaseFigures(spec, w, writes, reports, own, {
    ...(cpu !== undefined
      ? { otherCores: otherCores(cpu.from, cpu.to, ourCores(cpu, spec, reports)) }
      : {}),
    ...(thread !== undefined ? { thread } : {}),
    ...(writerSaw !== undefined ? { writerSaw } : {}),
    opens: { openMs: opened.map((o) => o.openMs), warmMs: opened.map((o) => o.warmMs) },
    idle,
  })
}

async function phasesWithPools(
  s: Session,
  origin: string,
  versionsFile: string,
  meanwhile: () => Promise<void>,
) {
  const { ctx } = s
  const recipe = {
    seed: ctx.seed,
    distribution: ctx.distribution,
    shape: ctx.shape,
    valueSize: ctx.valueSize,
    versionsFile,
    extra: s.plan.extraVersions,
  }
  const init = (index: number) => ({ engine: ctx.engine, dir: ctx.dir, recipe, origin, index })
  const phases = phasesFor(ctx.engine)
  const results: PhaseResult[] = []
  let threadBaseBytes: number | undefined
  const starting = ReaderPool.start('processes', POOL_SIZE, init).then((pool) => {
    s.pools.processes = pool
    return pool
  })
  const [started, warmed] = await Promise.allSettled([starting, meanwhile()])
  if (started.status === 'rejected') throw started.reason
  if (warmed.status === 'rejected') throw warmed.reason
  const processes = started.value
  for (const [i, spec] of phases.entries()) {
    if (spec.kind === 'threads' && s.pools.threads === undefined) {
      await processes.stop()
      s.pools.processes = undefined
      const before = settledMemory()
      const threads = await ReaderPool.start('threads', POOL_SIZE, init)
      s.pools.threads = threads
      threadBaseBytes = ((await settledPool(threads)).rss - before.rss) / POOL_SIZE
    }
    const next = phases[i + 1]
    results.push(await runPhase(s, spec, i, next === undefined || next.kind !== spec.kind))
  }
  return { results, threadBaseBytes }
}

/** Runs every phase for `ctx.engine`; the child's handle is reopened afterwards. */
export async function runReaders(ctx: ReadersContext): Promise<ReadersDetail> {
  const t0 = performance.now()
  const n = ctx.scale
  const timing = phaseTiming(n)
  await ctx.closeStore()
  const versionsFile = `${ctx.dir}.versions`
  writeVersions(versionsFile, ctx.version, n)
  const plan = new WritePlan(n, (ctx.seed ^ 0x7eadce) >>> 0, maxWrites(n, ctx.engine))
  const check = new ValueCheck(ctx.ds, ctx.version.slice(0, n), plan.extraVersions)
  const origin = newOrigin()
  const bareNodeRssBytes = bareNodeRss()
  const tOpen = performance.now()
  const writer = await openWriter(ctx.engine, ctx.dir)
  const writerOpenMs = performance.now() - tOpen
  const s: Session = {
    ctx,
    writer,
    check,
    plan,
    now: clockFrom(origin),
    pools: {},
    open: { processes: 0, threads: 0 },
    verified: 0,
  }
  let out: Awaited<ReturnType<typeof phasesWithPools>>
  let writerWarmMs = 0
  try {
    // The writer's caches are cold after its open, like a fresh reader's: warm them alike,
    // while the reader processes start (nothing is measured yet).
    out = await phasesWithPools(s, origin, versionsFile, async () => {
      const tWarm = performance.now()
      s.verified += await warmPass(
        { get: (key) => writer.get(key), mark: () => 0 },
        check,
        (k, v) => writerWrong(ctx, k, v),
      )
      writerWarmMs = performance.now() - tWarm
    })
  } catch (err) {
    if (err instanceof ReaderFailed && err.correctness) ctx.fail(err.message)
    throw err
  } finally {
    await Promise.allSettled([s.pools.processes?.stop(), s.pools.threads?.stop()])
    await writer.close()
    rmSync(versionsFile, { force: true })
  }
  await ctx.reopenStore()
  return {
    engine: ctx.engine,
    keys: n,
    valueSize: ctx.valueSize,
    writeRate: WRITE_RATE,
    warmupMs: timing.warmupMs,
    windowMs: timing.windowMs,
    phases: out.results,
    bareNodeRssBytes,
    ...(out.threadBaseBytes !== undefined ? { threadBaseBytes: out.threadBaseBytes } : {}),
    writerOpenMs,
    writerWarmMs,
    verified: s.verified,
    wallMs: performance.now() - t0,
  }
}
