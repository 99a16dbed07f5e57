/**
 * Runs the `readers` workload for one engine inside its bench child, on the store the child
 * loaded: closes the child's own handle, opens the writer, starts a pool of reader processes
 * (and for AlexStorage a pool of worker threads), runs each phase of plan.ts in turn, then
 * closes everything and reopens the child's handle, so the child's final read-back checks every
 * key written here too.
 *
 * A phase: the readers it uses open the store (AlexStorage: a following read-only open, caught
 * up); on a common schedule of the shared clock the writer starts its puts and the readers their
 * gets; after the warm-up the window is measured; then the writer lists its readers (AlexStorage)
 * and the readers close. Phases never overlap; idle readers hold no store.
 */
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import type { Dataset, DatasetShape, Distribution } from '../dataset.js'
import { clockFrom, newOrigin } from './clock.js'
import { settledMemory } from './memory.js'
import { type LoopReport, phaseFigures, type ReaderReport } from './phase-figures.js'
import {
  maxWrites,
  type PhaseResult,
  type PhaseSpec,
  POOL_SIZE,
  phasesFor,
  phaseTiming,
  type ReadersDetail,
  WRITE_RATE,
} from './plan.js'
import { readLoop } from './read-loop.js'
import { ReaderFailed, ReaderPool } from './reader-pool.js'
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

/** Lead time for the `run` messages to reach every reader before the writer starts. */
const GO_DELAY_MS = 50

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
  verified: number
}

async function runPhase(s: Session, spec: PhaseSpec, index: number): Promise<PhaseResult> {
  const { ctx, now } = s
  const t = phaseTiming(ctx.scale)
  const k = spec.readers
  const pool = spec.kind === 'processes' ? s.pools.processes : s.pools.threads
  const readers = k > 0 ? pool : undefined
  const threadBefore = spec.kind === 'threads' ? settledMemory() : undefined
  if (readers !== undefined) await readers.all(k, { type: 'open' }, 'opened')
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
  const ownDone: Promise<LoopReport | undefined> =
    spec.kind === 'writer-get'
      ? readLoop(
          { get: (key) => s.writer.get(key), mark: () => 0 },
          s.check,
          { now, ...w, seed: (ctx.seed * 31 + index * 8) >>> 0 },
          (key, v) =>
            ctx.fail(
              `${ctx.engine} writer: its own get of key index ${key} returned ${v === undefined ? 'undefined' : 'a value that differs'}`,
            ),
        ).then((r) => {
          s.verified += r.verified
          return r
        })
      : Promise.resolve(undefined)
  const [writes, reports, own] = await Promise.all([
    pacedWrites(
      { store: s.writer, ds: ctx.ds, version: ctx.version, written: ctx.written, plan: s.plan },
      { now, goMs, ...w, rate: WRITE_RATE },
    ),
    readersDone,
    ownDone,
  ])
  for (const r of reports) s.verified += r.verified
  const writerSaw = k > 0 ? s.writer.readers() : undefined
  const perThreadBytes =
    threadBefore !== undefined ? (settledMemory().rss - threadBefore.rss) / k : undefined
  if (readers !== undefined) await readers.all(k, { type: 'close' }, 'closed')
  ctx.progress(index + 1, phasesFor(ctx.engine).length)
  return phaseFigures(spec, w, writes, reports, own, {
    ...(perThreadBytes !== undefined ? { perThreadBytes } : {}),
    ...(writerSaw !== undefined ? { writerSaw } : {}),
  })
}

async function phasesWithPools(s: Session, origin: string, versionsFile: string) {
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
  const processes = await ReaderPool.start('processes', POOL_SIZE, init)
  s.pools.processes = processes
  for (const [i, spec] of phases.entries()) {
    if (spec.kind === 'threads' && s.pools.threads === undefined) {
      await processes.stop()
      s.pools.processes = undefined
      const before = settledMemory()
      s.pools.threads = await ReaderPool.start('threads', POOL_SIZE, init)
      threadBaseBytes = (settledMemory().rss - before.rss) / POOL_SIZE
    }
    results.push(await runPhase(s, spec, i))
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
  const writer = await openWriter(ctx.engine, ctx.dir)
  const s: Session = { ctx, writer, check, plan, now: clockFrom(origin), pools: {}, verified: 0 }
  let out: Awaited<ReturnType<typeof phasesWithPools>>
  try {
    out = await phasesWithPools(s, origin, versionsFile)
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
    verified: s.verified,
    wallMs: performance.now() - t0,
  }
}
