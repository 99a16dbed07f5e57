import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NodeFileSystem } from './node-file-system.js'
import { syncThreadOnline, trySyncOnThread } from './sync-thread.js'

let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'alex-sync-thread-'))
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

/** Calls `trySyncOnThread` until the thread takes a request (it starts on the first call). */
async function onThread(fd: number): Promise<{ done: Promise<void> }> {
  for (;;) {
    const done = trySyncOnThread(fd)
    // Wrapped: an async function would otherwise adopt (await) the returned promise.
    if (done !== undefined) return { done }
    await new Promise((r) => setTimeout(r, 1))
  }
}

describe('the sync thread', () => {
  it('fdatasyncs a file once online, and takes one request at a time', async () => {
    const fd = fs.openSync(join(dir, 'a'), 'w+')
    fs.writeSync(fd, 'hello')
    await (await onThread(fd)).done
    expect(syncThreadOnline()).toBe(true)
    const first = trySyncOnThread(fd)
    expect(first).toBeDefined()
    // Busy: the second concurrent request is left to the caller (the thread pool).
    expect(trySyncOnThread(fd)).toBeUndefined()
    await first
    const third = trySyncOnThread(fd)
    expect(third).toBeDefined()
    // Awaited before the close: a request still in flight on a closed (or reused) descriptor
    // would fail with EBADF after this test, as an unhandled rejection in the next one.
    await third
    fs.closeSync(fd)
  })

  it('rejects with the OS error of a failed fdatasync, shaped like node:fs errors', async () => {
    const fd = fs.openSync(join(dir, 'b'), 'w+')
    fs.closeSync(fd) // a closed descriptor: fdatasync fails with EBADF
    const error = await (await onThread(fd)).done.then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    )
    expect(error).toBeInstanceOf(Error)
    expect(error).toMatchObject({ code: 'EBADF', syscall: 'fdatasync' })
    expect(typeof error?.errno).toBe('number')
    // The thread keeps serving after a failure.
    const ok = fs.openSync(join(dir, 'c'), 'w+')
    await (await onThread(ok)).done
    fs.closeSync(ok)
  })

  it('NodeFileSystem syncs concurrent handles, on the thread and the pool, and reports failures', async () => {
    const nfs = new NodeFileSystem({ syncThread: true })
    const handles = Array.from({ length: 8 }, (_, i) => nfs.open(join(dir, `h${i}`), 'w+'))
    const bytes = new Uint8Array(4096).fill(1)
    for (const h of handles) h.write(bytes, 0, bytes.length, 0)
    await Promise.all(handles.map((h) => h.sync()))
    for (const h of handles) h.close()
    const pooled = new NodeFileSystem({ syncThread: false }).open(join(dir, 'p'), 'w+')
    await pooled.sync()
    pooled.close()
  })

  it('keeps a process alive while its last sync is in flight, and lets it exit once idle', async () => {
    const fixture = new URL('../test/fixtures/last-sync.ts', import.meta.url).pathname
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, join(dir, 'last')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      err += d
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(err).toBe('')
    expect(out).toBe('synced\n')
    expect(code).toBe(0)
    expect(fs.readFileSync(join(dir, 'last'), 'utf8')).toBe('durable\n')
  })
})
