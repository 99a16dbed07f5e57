import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NodeFileSystem } from './node-file-system.js'
import { ReadOnlyOverlayFileSystem } from './read-only-file-system.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'alex-ro-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe('ReadOnlyOverlayFileSystem', () => {
  it('reads real files and keeps every change in memory', async () => {
    writeFileSync(join(dir, 'a'), 'hello world')
    mkdirSync(join(dir, 'sub'))
    const fs = new ReadOnlyOverlayFileSystem(new NodeFileSystem())

    const r = fs.open(join(dir, 'a'), 'r')
    const buf = new Uint8Array(5)
    expect(r.read(buf, 0, 5, 6)).toBe(5)
    expect(text(buf)).toBe('world')
    r.close()

    const w = fs.open(join(dir, 'a'), 'r+')
    w.write(bytes('HELLO'), 0, 5, 0)
    w.truncate(8)
    await w.sync()
    w.syncSync()
    expect(w.size()).toBe(8)
    const again = fs.open(join(dir, 'a'), 'r')
    const all = new Uint8Array(20)
    expect(text(all.subarray(0, again.read(all, 0, 20, 0)))).toBe('HELLO wo')

    const c = fs.open(join(dir, 'new'), 'wx+')
    c.write(bytes('x'), 0, 1, 3)
    expect(c.size()).toBe(4)
    expect(() => fs.open(join(dir, 'new'), 'wx+')).toThrow(/EEXIST/)
    expect(() => fs.open(join(dir, 'a'), 'wx+')).toThrow(/EEXIST/)
    fs.rename(join(dir, 'new'), join(dir, 'renamed'))
    fs.unlink(join(dir, 'a'))
    expect(() => fs.open(join(dir, 'a'), 'r')).toThrow(/ENOENT/)
    expect(() => fs.unlink(join(dir, 'a'))).toThrow(/ENOENT/)
    expect(fs.exists(join(dir, 'a'))).toBe(false)
    expect(fs.exists(join(dir, 'renamed'))).toBe(true)
    fs.mkdir(join(dir, 'virtual'))
    expect(fs.readdir(join(dir, 'virtual'))).toEqual([])
    expect(fs.readdir(dir).sort()).toEqual(['renamed', 'sub', 'virtual'])
    await fs.syncDir(dir)

    // Nothing on disk changed.
    expect(readdirSync(dir).sort()).toEqual(['a', 'sub'])
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('hello world')
  })

  it('refuses writes through read-only handles and reports missing files', () => {
    writeFileSync(join(dir, 'a'), 'abc')
    const fs = new ReadOnlyOverlayFileSystem(new NodeFileSystem())
    fs.open(join(dir, 'a'), 'r+').close()
    const r = fs.open(join(dir, 'a'), 'r')
    expect(() => r.write(bytes('z'), 0, 1, 0)).toThrow(/EBADF/)
    expect(() => r.truncate(0)).toThrow(/EBADF/)
    expect(() => fs.open(join(dir, 'nope'), 'r+')).toThrow(/ENOENT/)
    expect(() => fs.rename(join(dir, 'nope'), join(dir, 'x'))).toThrow(/ENOENT/)
    expect(() => fs.readdir(join(dir, 'nope'))).toThrow(/ENOENT/)
    const w = fs.open(join(dir, 'b'), 'w+')
    w.write(bytes('12345'), 0, 5, 0)
    w.truncate(2)
    w.truncate(4)
    const got = new Uint8Array(4)
    w.read(got, 0, 4, 0)
    expect([...got]).toEqual([0x31, 0x32, 0, 0])
  })
})
