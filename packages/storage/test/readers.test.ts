import { spawn } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { nodeFileSystem } from '@alex/wal/io'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlexStorage } from '../src/index.js'
import { checkView, expectedAt, writeNext } from './fixtures/follow-history.js'
import { tempDir } from './helpers.js'

/**
 * Readers that follow the writer (issue: live readers in other processes and worker threads):
 * every acknowledged write becomes visible, in order, batches whole; `catchUp`; `follow: false`;
 * reloads from newer snapshots; registrations in `stats().readers`, reaped when their reader
 * dies; readers in worker threads and child processes.
 */

const READER = fileURLToPath(new URL('./fixtures/follow-reader.ts', import.meta.url))
const TS_WORKER = fileURLToPath(new URL('./fixtures/ts-worker.mjs', import.meta.url))
const SMALL = {
  segmentBytes: 16 * 1024,
  walSegmentBytes: 16 * 1024,
  checkpointRecords: 300,
  compactionMinBytes: 0,
  compactionThreshold: 0.3,
}

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-readers-'))
})
afterEach(() => cleanup())

async function writeUntil(db: AlexStorage, lsn: number): Promise<void> {
  while (db.lsn < lsn) await writeNext(db)
}

describe('a following reader in this process', () => {
  it('sees every acknowledged write after catchUp, in order, and never more', async () => {
    const writer = await AlexStorage.open(dir, SMALL)
    await writeUntil(writer, 50)
    const reader = await AlexStorage.open(dir, { readOnly: true })
    expect(reader.lsn).toBe(writer.lsn)
    expect(checkView(reader)).toBeUndefined()
    for (let round = 0; round < 40; round++) {
      await writeNext(writer)
      await writeNext(writer)
      expect(reader.lsn).toBeLessThanOrEqual(writer.lsn)
      await reader.catchUp()
      expect(reader.lsn).toBe(writer.lsn)
      expect(checkView(reader)).toBeUndefined()
    }
    await reader.close()
    await writer.close()
  })

  it('never shows part of a batch or goes back in time while writes, checkpoints and compactions run', async () => {
    const writer = await AlexStorage.open(dir, SMALL)
    const reader = await AlexStorage.open(dir, { readOnly: true, followIntervalMs: 1 })
    let bad: string | undefined
    let last = 0
    let checks = 0
    let running = true
    const watch = () => {
      if (!running) return
      bad ??= checkView(reader)
      if (reader.lsn < last) bad ??= `went back from ${last} to ${reader.lsn}`
      last = reader.lsn
      checks++
      setImmediate(watch)
    }
    watch()
    for (let i = 0; i < 1500; i++) {
      await writeNext(writer)
      if (i % 300 === 0) await writer.compact()
    }
    await reader.catchUp()
    running = false
    expect(bad).toBeUndefined()
    expect(reader.lsn).toBe(writer.lsn)
    expect(checks).toBeGreaterThan(10)
    expect(writer.stats().checkpoints).toBeGreaterThan(2)
    await reader.close()
    await writer.close()
  })

  it('keeps a snapshot taken on a reader unchanged while the reader follows', async () => {
    const writer = await AlexStorage.open(dir)
    await writeUntil(writer, 30)
    const reader = await AlexStorage.open(dir, { readOnly: true })
    const snap = reader.snapshot()
    const before = [...snap.entries()].map(([k, v]) => [k, Buffer.from(v).toString('hex')])
    await writeUntil(writer, 90)
    await reader.catchUp()
    expect(reader.lsn).toBe(90)
    expect(snap.lsn).toBe(30)
    expect([...snap.entries()].map(([k, v]) => [k, Buffer.from(v).toString('hex')])).toEqual(before)
    for (let key = 0; key < 100; key++) {
      const want = expectedAt(30, key)
      const got = snap.get(key)
      expect(got === undefined ? undefined : Buffer.from(got).readUInt32LE(0)).toBe(want)
    }
    snap.release()
    await reader.close()
    await writer.close()
  })

  it('with follow: false keeps the view of the moment it opened', async () => {
    const writer = await AlexStorage.open(dir)
    await writeUntil(writer, 20)
    const frozen = await AlexStorage.open(dir, { readOnly: true, follow: false })
    await writeUntil(writer, 40)
    await frozen.catchUp()
    expect(frozen.lsn).toBe(20)
    expect(checkView(frozen)).toBeUndefined()
    await frozen.close()
    await writer.close()
  })

  it('reloads from a newer snapshot once the values it holds pass followReloadBytes', async () => {
    const writer = await AlexStorage.open(dir, SMALL)
    const reader = await AlexStorage.open(dir, { readOnly: true, followReloadBytes: 2000 })
    await writeUntil(writer, 400)
    await reader.catchUp()
    expect(checkView(reader)).toBeUndefined()
    expect(reader.stats().follow!.reloads).toBeGreaterThan(0)
    await reader.close()
    await writer.close()
  })

  it('reloads from the newest snapshot when the log it needs was trimmed', async () => {
    const writer = await AlexStorage.open(dir, SMALL)
    await writeUntil(writer, 50)
    // No change notifications (an injected file system) and no polling in practice: the reader
    // moves only when asked to catch up, so the writer can get far ahead of it.
    const reader = await AlexStorage.open(dir, {
      readOnly: true,
      fs: nodeFileSystem,
      followIntervalMs: 60_000,
    })
    await reader.catchUp()
    // The writer loses track of the reader (as if its registration was reaped): its log goes.
    for (const name of readdirSync(join(dir, 'readers'))) {
      if (name.endsWith('.reader')) rmSync(join(dir, 'readers', name))
    }
    const walBefore = readdirSync(join(dir, 'wal')).sort()[0]
    await writeUntil(writer, 1500)
    await writer.checkpoint()
    expect(readdirSync(join(dir, 'wal')).sort()[0]! > walBefore!).toBe(true) // trimmed
    await reader.catchUp()
    expect(reader.lsn).toBe(writer.lsn)
    expect(checkView(reader)).toBeUndefined()
    expect(reader.stats().follow!.reloads).toBeGreaterThan(0)
    await reader.close()
    await writer.close()
  })

  it('lists readers with their lag in stats().readers and forgets them once closed', async () => {
    const writer = await AlexStorage.open(dir)
    await writeUntil(writer, 10)
    const reader = await AlexStorage.open(dir, { readOnly: true })
    await reader.catchUp()
    await waitFor(() => writer.stats().readers.some((r) => r.lsn === writer.lsn))
    const [r] = writer.stats().readers
    expect(r).toMatchObject({ pid: process.pid, thread: 0, lagLsn: 0, lagMs: 0, live: true })
    await reader.close()
    expect(writer.stats().readers).toEqual([])
    await writer.close()
  })

  it('keeps serving when the writer goes away and follows the next writer', async () => {
    const first = await AlexStorage.open(dir)
    await writeUntil(first, 30)
    const reader = await AlexStorage.open(dir, { readOnly: true })
    await first.close()
    expect(checkView(reader)).toBeUndefined()
    const second = await AlexStorage.open(dir)
    await writeUntil(second, 60)
    await reader.catchUp()
    expect(reader.lsn).toBe(60)
    expect(checkView(reader)).toBeUndefined()
    await reader.close()
    await second.close()
  })

  it('opens before any writer has run and picks up the first one', async () => {
    const seed = await AlexStorage.open(dir)
    await seed.close()
    rmSync(join(dir, 'readers'), { recursive: true, force: true }) // as a store of the old version
    const reader = await AlexStorage.open(dir, { readOnly: true, followIntervalMs: 5 })
    const writer = await AlexStorage.open(dir)
    await writeUntil(writer, 25)
    await reader.catchUp()
    expect(reader.lsn).toBe(25)
    expect(checkView(reader)).toBeUndefined()
    await waitFor(() => writer.stats().readers.length === 1)
    await reader.close()
    await writer.close()
  })
})

describe('readers in worker threads and other processes', () => {
  it('follows the writer from a worker thread and from a child process', async () => {
    const writer = await AlexStorage.open(dir, SMALL)
    await writeUntil(writer, 40)
    const worker = new Worker(TS_WORKER, { workerData: { dir, script: READER } })
    worker.on('error', (err) => {
      throw err
    })
    const fromWorker = lines((cb) => worker.on('message', cb))
    const child = spawn(process.execPath, ['--import', 'tsx', READER, dir], {
      stdio: ['pipe', 'pipe', 'inherit'],
    })
    const fromChild = lines((cb) => {
      child.stdout!.setEncoding('utf8')
      let buf = ''
      child.stdout!.on('data', (chunk: string) => {
        buf += chunk
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          cb(buf.slice(0, nl))
          buf = buf.slice(nl + 1)
        }
      })
    })
    try {
      expect(await fromWorker.next()).toMatch(/^R \d+$/)
      expect(await fromChild.next()).toMatch(/^R \d+$/)
      for (let round = 0; round < 5; round++) {
        await writeUntil(writer, writer.lsn + 200)
        worker.postMessage('catchup')
        child.stdin!.write('catchup\n')
        expect(await fromWorker.next()).toBe(`lsn ${writer.lsn}`)
        expect(await fromChild.next()).toBe(`lsn ${writer.lsn}`)
      }
      await waitFor(() => writer.stats().readers.length === 2)
      const threads = writer
        .stats()
        .readers.map((r) => r.thread)
        .sort()
      expect(threads[0]).toBe(0)
      expect(threads[1]).toBeGreaterThan(0)
      // A killed reader's registration is reaped.
      const exited = new Promise((r) => child.on('exit', r))
      child.kill('SIGKILL')
      await exited
      await waitFor(() => writer.stats().readers.length === 1)
      worker.postMessage('close')
      expect(await fromWorker.next()).toBe('closed')
    } finally {
      child.kill('SIGKILL')
      await worker.terminate()
      await writer.close()
    }
  })
})

/** A queue of lines from a source, awaited one at a time. */
function lines(subscribe: (cb: (line: string) => void) => void): { next(): Promise<string> } {
  const queue: string[] = []
  const waiting: ((line: string) => void)[] = []
  subscribe((line) => {
    const w = waiting.shift()
    if (w) w(line)
    else queue.push(line)
  })
  return {
    next: () =>
      queue.length > 0
        ? Promise.resolve(queue.shift()!)
        : new Promise<string>((resolve) => waiting.push(resolve)),
  }
}

/** Waits (yielding to the event loop) until `condition` holds. */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5))
}
