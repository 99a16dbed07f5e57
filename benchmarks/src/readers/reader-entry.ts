/**
 * A reader of the `readers` workload: a child process (argv[2]: the JSON ReaderInit, IPC for
 * messages) or a worker thread (workerData, postMessage). It rebuilds the data set to check
 * values against, says `ready`, then obeys the coordinator (reader-protocol.ts): `open` opens the
 * store read-only (AlexStorage follows the live writer) and reads one key in 16 to warm its
 * caches (read-loop.ts warmPass), `run` reads until the window's end and
 * answers with its figures and every mark it saw, `memory` collects garbage and reports RSS,
 * `close` closes the store, `exit` ends it.
 * A wrong value is reported with `correctness: true`, which fails the bench.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads'
import { clockFrom } from './clock.js'
import { settledMemory } from './memory.js'
import { readLoop, warmPass } from './read-loop.js'
import type { FromReader, MemoryReading, ReaderInit, ToReader } from './reader-protocol.js'
import { openReader, type ReaderStore } from './stores.js'
import { ValueCheck } from './value-check.js'

class WrongValue extends Error {}

const init: ReaderInit = isMainThread
  ? (JSON.parse(process.argv[2] ?? '{}') as ReaderInit)
  : (workerData as ReaderInit)
const send = (m: FromReader): void => {
  if (isMainThread) process.send?.(m)
  else parentPort?.postMessage(m)
}
const where = `${init.engine} reader ${init.index} (${isMainThread ? `pid ${process.pid}` : 'thread'})`

const check = ValueCheck.fromRecipe(init.recipe)
const now = clockFrom(init.origin)
let store: ReaderStore | undefined
let before: MemoryReading | undefined

const wrong = (k: number, v: Uint8Array | undefined): never => {
  const got = v === undefined ? 'undefined' : `${v.length} bytes that differ`
  throw new WrongValue(
    `${where}: get of key ${check.ds.keys[k]} (index ${k}) returned ${got}; expected its value in version ${check.start[k]} to ${check.start[k]! + check.extra}`,
  )
}

async function handle(m: ToReader): Promise<void> {
  if (m.type === 'open') {
    before = settledMemory()
    const t0 = performance.now()
    store = await openReader(init.engine, init.dir)
    const openMs = performance.now() - t0
    const warmed = await warmPass(store, check, wrong)
    send({ type: 'opened', openMs, warmMs: performance.now() - t0 - openMs, warmed })
  } else if (m.type === 'run') {
    if (store === undefined || before === undefined) throw new Error(`${where}: run before open`)
    const stamps: number[] = []
    const r = await readLoop(
      store,
      check,
      { now, startMs: m.startMs, endMs: m.endMs, seed: m.seed, stamps },
      wrong,
    )
    const after = settledMemory()
    send({
      type: 'result',
      reads: r.reads,
      elapsedMs: r.elapsedMs,
      latency: r.latency.encode(),
      verified: r.verified,
      cpuMs: r.cpuMs,
      stamps,
      before,
      after,
    })
  } else if (m.type === 'memory') {
    send({ type: 'memory', reading: settledMemory() })
  } else if (m.type === 'close') {
    await store?.close()
    store = undefined
    send({ type: 'closed' })
  } else {
    if (isMainThread) process.exit(0)
    parentPort?.close()
  }
}

let queue = Promise.resolve()
const onMessage = (m: ToReader): void => {
  queue = queue
    .then(() => handle(m))
    .catch((err: unknown) => {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err)
      send({ type: 'error', message, correctness: err instanceof WrongValue })
    })
}
if (isMainThread) {
  process.on('message', onMessage)
  // The coordinator is gone (it failed or was interrupted): do not linger.
  process.on('disconnect', () => process.exit(0))
} else {
  parentPort?.on('message', onMessage)
}
send({ type: 'ready' })
