/**
 * A pool of readers (reader-entry.ts) of one kind: child processes, or worker threads of this
 * process. Started once per engine and kind, idle (no store open, no CPU) between the phases
 * that use them. `request` sends a command to one reader and resolves with its answer; a reader
 * that reports an error, dies or stays silent past REPLY_TIMEOUT_MS rejects every request.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { FromReader, ReaderInit, ToReader } from './reader-protocol.js'

const ENTRY_URL = new URL('./reader-entry.ts', import.meta.url)
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url))

/** Longest wait for one answer (opening 1M keys on a loaded 2-core machine takes seconds). */
export const REPLY_TIMEOUT_MS = 180_000

/** A reader failed; `correctness` when it read a wrong value. */
export class ReaderFailed extends Error {
  readonly correctness: boolean
  constructor(message: string, correctness: boolean) {
    super(message)
    this.name = 'ReaderFailed'
    this.correctness = correctness
  }
}

/** One reader's mailbox: answers wait here until requested. */
class Mailbox {
  private readonly inbox: FromReader[] = []
  private waiter: ((m: FromReader) => void) | undefined
  failure: ReaderFailed | undefined
  private fail: ((e: ReaderFailed) => void) | undefined

  deliver(m: FromReader): void {
    if (m.type === 'error') {
      this.kill(new ReaderFailed(m.message, m.correctness))
      return
    }
    if (this.waiter !== undefined) {
      const w = this.waiter
      this.waiter = undefined
      this.fail = undefined
      w(m)
    } else this.inbox.push(m)
  }

  kill(e: ReaderFailed): void {
    this.failure ??= e
    const f = this.fail
    this.waiter = undefined
    this.fail = undefined
    f?.(this.failure)
  }

  next(what: string): Promise<FromReader> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const queued = this.inbox.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => this.kill(new ReaderFailed(`${what}: no answer in ${REPLY_TIMEOUT_MS} ms`, false)),
        REPLY_TIMEOUT_MS,
      )
      this.waiter = (m) => {
        clearTimeout(timer)
        resolve(m)
      }
      this.fail = (e) => {
        clearTimeout(timer)
        reject(e)
      }
    })
  }
}

interface Member {
  readonly box: Mailbox
  send(m: ToReader): void
  stop(): Promise<void>
}

function processMember(init: ReaderInit): Member {
  const box = new Mailbox()
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(ENTRY_URL), JSON.stringify(init)],
    { cwd: PACKAGE_DIR, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  let exited = false
  const gone = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true
      box.kill(
        new ReaderFailed(
          `reader process ${init.index} exited (${signal ?? `code ${code}`})`,
          false,
        ),
      )
      resolve()
    })
  })
  child.on('message', (m: FromReader) => box.deliver(m))
  child.on('error', (err) => box.kill(new ReaderFailed(String(err), false)))
  return {
    box,
    send: (m) => {
      if (!exited && child.connected) child.send(m)
    },
    stop: async () => {
      if (!exited && child.connected) child.send({ type: 'exit' } satisfies ToReader)
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await gone
      clearTimeout(timer)
    },
  }
}

function threadMember(init: ReaderInit): Member {
  const box = new Mailbox()
  // Workers do not inherit the parent's --import hooks (Node 20): register tsx in the worker
  // first, then load the TypeScript entry.
  const tsx = import.meta.resolve('tsx/esm/api')
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY_URL.href)}) })`
  const worker = new Worker(boot, { eval: true, workerData: init })
  let exited = false
  const gone = new Promise<void>((resolve) => {
    worker.on('exit', (code) => {
      exited = true
      box.kill(new ReaderFailed(`reader thread ${init.index} exited (code ${code})`, false))
      resolve()
    })
  })
  worker.on('message', (m: FromReader) => box.deliver(m))
  worker.on('error', (err) =>
    box.kill(
      new ReaderFailed(err instanceof Error ? (err.stack ?? err.message) : String(err), false),
    ),
  )
  return {
    box,
    send: (m) => {
      if (!exited) worker.postMessage(m)
    },
    stop: async () => {
      await worker.terminate()
      await gone
    },
  }
}

/** A started pool. */
export class ReaderPool {
  private readonly members: Member[]
  readonly kind: 'processes' | 'threads'

  private constructor(kind: 'processes' | 'threads', members: Member[]) {
    this.kind = kind
    this.members = members
  }

  /** Starts `size` readers and waits until each is ready. */
  static async start(
    kind: 'processes' | 'threads',
    size: number,
    init: (index: number) => ReaderInit,
  ): Promise<ReaderPool> {
    const members: Member[] = []
    for (let i = 0; i < size; i++) {
      members.push(kind === 'processes' ? processMember(init(i)) : threadMember(init(i)))
    }
    const pool = new ReaderPool(kind, members)
    try {
      await Promise.all(members.map((_, i) => pool.expect(i, 'ready')))
    } catch (err) {
      await pool.stop()
      throw err
    }
    return pool
  }

  /** Waits for reader `i`'s next message, which must be of type `type`. */
  async expect<T extends FromReader['type']>(
    i: number,
    type: T,
  ): Promise<Extract<FromReader, { type: T }>> {
    const m = await this.members[i]!.box.next(`${this.kind} reader ${i} (${type})`)
    if (m.type !== type) {
      throw new ReaderFailed(`${this.kind} reader ${i}: expected ${type}, got ${m.type}`, false)
    }
    return m as Extract<FromReader, { type: T }>
  }

  /** Sends `m` to readers 0 .. count - 1 and waits for each one's `type` answer. */
  all<T extends FromReader['type']>(
    count: number,
    m: ToReader | ((i: number) => ToReader),
    type: T,
  ): Promise<Extract<FromReader, { type: T }>[]> {
    return this.range(0, count, m, type)
  }

  /** Sends `m` to readers from .. to - 1 and waits for each one's `type` answer. */
  async range<T extends FromReader['type']>(
    from: number,
    to: number,
    m: ToReader | ((i: number) => ToReader),
    type: T,
  ): Promise<Extract<FromReader, { type: T }>[]> {
    const idx = Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i)
    for (const i of idx) this.members[i]!.send(typeof m === 'function' ? m(i) : m)
    return Promise.all(idx.map((i) => this.expect(i, type)))
  }

  /** Ends every reader (they hold no store between phases). */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()))
  }
}
