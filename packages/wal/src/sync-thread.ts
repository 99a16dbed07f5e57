import { getSystemErrorName } from 'node:util'
import { Worker } from 'node:worker_threads'

/**
 * One dedicated thread per process that runs `fdatasync`s for the event loop, woken through a
 * shared `Int32Array` (`Atomics.notify`) and answering the same way, awaited with
 * `Atomics.waitAsync`.
 *
 * Why: an fdatasync through the libuv thread pool (`fs.fdatasync`) costs a queue hand-off and an
 * `uv_async_send` wake-up on top of the disk's own time, 40-60 µs on the development VM. A thread
 * that already waits on a futex answered a bare round trip in 17-25 µs against 25-45 µs, and the
 * event loop stays free (`blockingSync` is the other way, which blocks it). Inside the log and the
 * store it measured no faster than the thread pool, though (docs/benchmarks.md, "Durable writes
 * without blocking"), so it is opt-in: `new NodeFileSystem({ syncThread: true })`.
 *
 * The thread serves one request at a time. A second concurrent request (another store, a
 * directory sync, a rotation's old segment) does not queue behind it: `trySync` returns
 * `undefined` and the caller uses the thread pool, as before. Before the thread is online (its
 * first ~30 ms), and wherever threads or `Atomics.waitAsync` are unavailable, the same fallback
 * applies. Nothing changes in what is durable when: a sync resolves only after the fdatasync
 * returned, and a failure rejects with the OS error (`code`, `errno`, `syscall`), never retried.
 *
 * The worker is unreferenced while idle, so it never keeps a process alive, and referenced while
 * a request is in flight, so a process awaiting its last durable write does not exit early (Node
 * 20 happened to keep such a process alive without the reference too, in
 * test/fixtures/last-sync.ts, but nothing documents that, so the reference stays). If
 * the worker dies with a request in flight, that request fails (`EIO`): whether its fdatasync ran
 * is unknown, and an unknown sync must count as failed.
 */

/** Slots of the control array (Int32). */
const REQ = 0 // sequence number of the latest request; -1 asks the thread to stop
const DONE = 1 // sequence number of the latest finished request
const FD = 2 // the file descriptor of the request
const RESULT = 3 // 0 on success, else the negated errno (-1 if none was given)
const SLOTS = 4

/** The worker's whole source: wait, fdatasync, answer. CommonJS, evaluated by the Worker. */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { fdatasyncSync } = require('node:fs')
const ctl = new Int32Array(workerData)
let seen = 0
for (;;) {
  Atomics.wait(ctl, ${REQ}, seen)
  const req = Atomics.load(ctl, ${REQ})
  if (req === -1) break
  if (req === seen) continue
  seen = req
  let result = 0
  try { fdatasyncSync(Atomics.load(ctl, ${FD})) } catch (e) { result = typeof e.errno === 'number' && e.errno < 0 ? e.errno : -1 }
  Atomics.store(ctl, ${RESULT}, result)
  Atomics.store(ctl, ${DONE}, req)
  Atomics.notify(ctl, ${DONE})
}
`

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> }

const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync

class SyncThread {
  private readonly ctl = new Int32Array(new SharedArrayBuffer(SLOTS * 4))
  private readonly worker: Worker
  private online = false
  private dead = false
  private busy = false
  private seq = 0

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.ctl.buffer })
    this.worker.unref()
    this.worker.once('online', () => {
      this.online = true
    })
    const die = () => this.die()
    this.worker.once('error', die)
    this.worker.once('exit', die)
  }

  isOnline(): boolean {
    return this.online && !this.dead
  }

  /**
   * fdatasyncs `fd` on the thread, or returns `undefined` when the thread cannot take it now
   * (not online yet, busy, or gone): the caller then syncs another way.
   */
  trySync(fd: number): Promise<void> | undefined {
    if (!this.online || this.busy || this.dead) return undefined
    this.busy = true
    this.worker.ref()
    const seq = this.seq === 0x7fffffff ? 1 : this.seq + 1
    this.seq = seq
    Atomics.store(this.ctl, FD, fd)
    Atomics.store(this.ctl, REQ, seq)
    Atomics.notify(this.ctl, REQ)
    return this.finish(seq)
  }

  /** Waits for request `seq` to finish; frees the thread; rejects with the OS error. */
  private async finish(seq: number): Promise<void> {
    try {
      for (;;) {
        const done = Atomics.load(this.ctl, DONE)
        if (done === seq) break
        const w = (waitAsync as WaitAsync)(this.ctl, DONE, done)
        if (w.async) await w.value
      }
      const result = Atomics.load(this.ctl, RESULT)
      if (result !== 0) throw syncError(result)
    } finally {
      this.busy = false
      if (!this.dead) this.worker.unref()
    }
  }

  /** The worker is gone: fail a request in flight (it may not have run) and take no more. */
  private die(): void {
    if (this.dead) return
    this.dead = true
    if (this.busy) {
      Atomics.store(this.ctl, RESULT, -5) // EIO: unknown whether the fdatasync ran
      Atomics.store(this.ctl, DONE, this.seq)
      Atomics.notify(this.ctl, DONE)
    }
    // A thread that died once is not started again: every later sync takes the thread pool.
    unavailable = true
  }
}

/** An `Error` shaped like node:fs's own, from a negated errno. */
function syncError(result: number): Error {
  let code = 'EIO'
  if (result < -1) {
    try {
      code = getSystemErrorName(result)
    } catch {
      // An errno Node cannot name: keep EIO.
    }
  }
  const error = new Error(`${code}: fdatasync failed on the sync thread`) as NodeJS.ErrnoException
  error.code = code
  error.errno = result
  error.syscall = 'fdatasync'
  return error
}

let instance: SyncThread | undefined

/** Whether the sync thread is running and answering (for tests and diagnostics). */
export function syncThreadOnline(): boolean {
  return !unavailable && instance !== undefined && instance.isOnline()
}
let unavailable = waitAsync === undefined

/**
 * fdatasyncs `fd` on the process's sync thread (started on the first call), or returns
 * `undefined` when the caller must sync another way (see the file comment).
 */
export function trySyncOnThread(fd: number): Promise<void> | undefined {
  if (unavailable) return undefined
  if (instance === undefined) {
    try {
      instance = new SyncThread()
    } catch {
      unavailable = true // no worker threads here (e.g. a restricted embedder)
    }
    return undefined
  }
  return instance.trySync(fd)
}
