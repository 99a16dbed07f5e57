import { describe, expect, it } from 'vitest'
import { FaultInjectionFileSystem, SIMULATED_CRASH } from './fault-injection-file-system.js'
import { SECTOR_BYTES } from './power-cut-image.js'

const bytes = (...b: number[]) => new Uint8Array(b)

function write(fs: FaultInjectionFileSystem, path: string, data: Uint8Array, at = 0) {
  const h = fs.open(path, fs.exists(path) ? 'r+' : 'wx+')
  h.write(data, 0, data.length, at)
  return h
}

describe('FaultInjectionFileSystem: file-system behaviour', () => {
  it('reads back what was written, with zero-filled gaps', () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    const h = write(fs, '/d/f', bytes(1, 2, 3), 2)
    const out = new Uint8Array(8)
    expect(h.size()).toBe(5)
    expect(h.read(out, 0, 8, 0)).toBe(5)
    expect([...out.subarray(0, 5)]).toEqual([0, 0, 1, 2, 3])
    h.truncate(3)
    expect([...fs.readFile('/d/f')]).toEqual([0, 0, 1])
  })

  it('follows the open flags', () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    expect(() => fs.open('/d/x', 'r')).toThrow(expect.objectContaining({ code: 'ENOENT' }))
    expect(() => fs.open('/nope/x', 'w+')).toThrow(expect.objectContaining({ code: 'ENOENT' }))
    write(fs, '/d/x', bytes(1))
    expect(() => fs.open('/d/x', 'wx+')).toThrow(expect.objectContaining({ code: 'EEXIST' }))
    expect(fs.open('/d/x', 'w+').size()).toBe(0)
    const ro = fs.open('/d/x', 'r')
    expect(() => ro.write(bytes(1), 0, 1, 0)).toThrow(expect.objectContaining({ code: 'EBADF' }))
    expect(fs.openHandles).toBe(3)
    ro.close()
    ro.close()
    expect(fs.openHandles).toBe(2)
    expect(() => ro.size()).toThrow(expect.objectContaining({ code: 'EBADF' }))
  })

  it('lists, renames and unlinks entries', () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d/sub')
    write(fs, '/d/a', bytes(1)).close()
    fs.rename('/d/a', '/d/b')
    expect(fs.readdir('/d').sort()).toEqual(['b', 'sub'])
    fs.unlink('/d/b')
    expect(fs.exists('/d/b')).toBe(false)
    expect(() => fs.unlink('/d/b')).toThrow(expect.objectContaining({ code: 'ENOENT' }))
  })

  it('counts operations and logs the mutating ones in order', () => {
    const fs = new FaultInjectionFileSystem()
    const seen: string[] = []
    fs.onOp = (e) => seen.push(`${e.index}:${e.op}`)
    fs.mkdir('/d')
    const h = write(fs, '/d/f', bytes(1))
    h.syncSync()
    expect(fs.opCounts).toMatchObject({
      mkdir: 1,
      open: 1,
      create: 1,
      write: 1,
      sync: 1,
      exists: 1,
    })
    expect(fs.log.map((e) => e.op)).toEqual(['mkdir', 'create', 'write', 'sync'])
    expect(fs.mutatingOps).toBe(4)
    expect(seen).toEqual(['1:mkdir', '0:exists', '0:open', '2:create', '3:write', '4:sync'])
  })
})

describe('FaultInjectionFileSystem: power cuts', () => {
  it('drops unsynced bytes and keeps synced ones', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    const h = write(fs, '/d/f', bytes(1, 2, 3))
    await h.sync()
    await fs.syncDir('/d')
    h.write(bytes(4, 5), 0, 2, 3)
    const after = fs.powerCut({ mode: 'drop' })
    expect([...after.readFile('/d/f')]).toEqual([1, 2, 3])
    expect(fs.crashed).toBe(true)
  })

  it('zeroes, garbles or keeps a prefix of the unsynced bytes per mode', async () => {
    const make = async () => {
      const fs = new FaultInjectionFileSystem()
      fs.mkdir('/d')
      const h = write(fs, '/d/f', bytes(1, 2))
      await h.sync()
      await fs.syncDir('/d')
      h.write(new Uint8Array(64).fill(7), 0, 64, 2)
      return fs
    }
    expect([...(await make()).powerCut({ mode: 'zero' }).readFile('/d/f')]).toEqual([
      1,
      2,
      ...new Array(64).fill(0),
    ])
    const garbled = (await make()).powerCut({ mode: 'garble', seed: 3 }).readFile('/d/f')
    expect(garbled.length).toBe(66)
    expect([...garbled.subarray(0, 2)]).toEqual([1, 2])
    expect(garbled.subarray(2).some((b) => b !== 7)).toBe(true)
    const lengths = new Set<number>()
    for (let seed = 1; seed <= 20; seed++) {
      const p = (await make()).powerCut({ mode: 'prefix', seed }).readFile('/d/f')
      expect([...p]).toEqual([1, 2, ...new Array(p.length - 2).fill(7)])
      lengths.add(p.length)
    }
    expect(lengths.size).toBeGreaterThan(5)
  })

  it("'sectors' keeps any subset of the unsynced 512-byte sectors, in any order", async () => {
    // 300 durable bytes, then 2000 unsynced ones: sectors 0 (partly), 1, 2, 3 and 4 (partly).
    const make = async () => {
      const fs = new FaultInjectionFileSystem()
      fs.mkdir('/d')
      const h = write(fs, '/d/f', new Uint8Array(300).fill(1))
      await h.sync()
      await fs.syncDir('/d')
      h.write(new Uint8Array(2000).fill(9), 0, 2000, 300)
      return fs
    }
    const patterns = new Set<string>()
    let outOfOrder = 0
    for (let seed = 1; seed <= 60; seed++) {
      const f = (await make()).powerCut({ mode: 'sectors', seed }).readFile('/d/f')
      expect(f.length).toBe(2300)
      expect(f.subarray(0, 300).every((b) => b === 1)).toBe(true)
      const kept: boolean[] = []
      for (let s = 0; s < 2300; s += SECTOR_BYTES) {
        const sector = f.subarray(Math.max(s, 300), Math.min(s + SECTOR_BYTES, 2300))
        // Each sector is all new bytes or all old ones (zeros past the durable length).
        const isNew = sector.every((b) => b === 9)
        expect(isNew || sector.every((b) => b === 0), `seed ${seed} sector ${s}`).toBe(true)
        kept.push(isNew)
      }
      patterns.add(kept.map(Number).join(''))
      if (kept.some((k, i) => !k && kept.slice(i + 1).some(Boolean))) outOfOrder++
    }
    expect(patterns.size).toBeGreaterThan(10)
    expect(outOfOrder).toBeGreaterThan(5)
  })

  it("'sectors' reverts a lost sector inside the durable length to its durable bytes", async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    const h = write(fs, '/d/f', new Uint8Array(1024).fill(1))
    await h.sync()
    await fs.syncDir('/d')
    h.write(new Uint8Array(1024).fill(2), 0, 1024, 0)
    const seen = new Set<string>()
    for (let seed = 1; seed <= 30; seed++) {
      const f = fs.clone().powerCut({ mode: 'sectors', seed }).readFile('/d/f')
      seen.add(`${f[0]}${f[SECTOR_BYTES]}`)
      expect(f.subarray(0, SECTOR_BYTES).every((b) => b === f[0])).toBe(true)
      expect(f.subarray(SECTOR_BYTES).every((b) => b === f[SECTOR_BYTES])).toBe(true)
    }
    expect(seen).toEqual(new Set(['11', '12', '21', '22']))
  })

  it('is reproducible for a given seed', async () => {
    const run = async () => {
      const fs = new FaultInjectionFileSystem({ seed: 9 })
      fs.mkdir('/d')
      write(fs, '/d/f', new Uint8Array(100).fill(1))
      await fs.syncDir('/d')
      return fs.powerCut({ seed: 77 }).readFile('/d/f')
    }
    expect([...(await run())]).toEqual([...(await run())])
  })

  it('undoes creations, renames and unlinks not covered by syncDir', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    const a = write(fs, '/d/a', bytes(1))
    await a.sync()
    const gone = write(fs, '/d/gone', bytes(2))
    await gone.sync()
    await fs.syncDir('/d')
    write(fs, '/d/new', bytes(3)).syncSync()
    fs.rename('/d/a', '/d/b')
    fs.unlink('/d/gone')
    const after = fs.powerCut()
    expect(after.listFiles()).toEqual(['/d/a', '/d/gone'])
  })

  it('keeps directory changes covered by a completed syncDir', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    write(fs, '/d/a', bytes(1)).syncSync()
    fs.rename('/d/a', '/d/b')
    await fs.syncDir('/d')
    expect(fs.powerCut().listFiles()).toEqual(['/d/b'])
  })

  it('does not count a sync whose promise had not resolved at the cut', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    const h = write(fs, '/d/f', bytes(1, 2))
    await fs.syncDir('/d')
    const pending = h.sync()
    const after = fs.powerCut({ mode: 'drop' })
    await expect(pending).rejects.toMatchObject({ code: SIMULATED_CRASH })
    expect(after.readFile('/d/f').length).toBe(0)
  })

  it('processCrash keeps the page cache but not more durability', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    write(fs, '/d/f', bytes(1, 2))
    await fs.syncDir('/d')
    const after = fs.processCrash()
    expect([...after.readFile('/d/f')]).toEqual([1, 2])
    expect(after.readDurableFile('/d/f').length).toBe(0)
    expect(after.powerCut({ mode: 'drop' }).readFile('/d/f').length).toBe(0)
  })
})

describe('FaultInjectionFileSystem: crashes and faults', () => {
  it('crashAtOp stops before the chosen mutating operation, then everything throws', () => {
    const fs = new FaultInjectionFileSystem()
    fs.crashAtOp(3)
    fs.mkdir('/d')
    const h = fs.open('/d/f', 'wx+')
    expect(() => h.write(bytes(1), 0, 1, 0)).toThrow(
      expect.objectContaining({ code: SIMULATED_CRASH }),
    )
    expect(fs.readFile('/d/f').length).toBe(0)
    expect(() => fs.readdir('/d')).toThrow(expect.objectContaining({ code: SIMULATED_CRASH }))
    expect(() => h.size()).toThrow(expect.objectContaining({ code: SIMULATED_CRASH }))
    expect(fs.crashed).toBe(true)
  })

  it('fails the nth matching sync with EIO, and the lost bytes stay lost', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    await fs.syncDir('/d')
    const h = write(fs, '/d/f', bytes(1, 2, 3))
    await fs.syncDir('/d')
    fs.injectFault({ op: 'sync', nth: 2, code: 'EIO', path: '/d/f' })
    await h.sync()
    h.write(bytes(4, 5), 0, 2, 3)
    await expect(h.sync()).rejects.toMatchObject({ code: 'EIO' })
    // A retried sync "succeeds" but the bytes whose writeback failed are not on disk.
    await h.sync()
    expect([...fs.readFile('/d/f')]).toEqual([1, 2, 3, 4, 5])
    expect([...fs.readDurableFile('/d/f')]).toEqual([1, 2, 3, 0, 0])
    // Written again, they can be made durable.
    h.write(bytes(4, 5), 0, 2, 3)
    await h.sync()
    expect([...fs.readDurableFile('/d/f')]).toEqual([1, 2, 3, 4, 5])
  })

  it('fails a write with ENOSPC after writing a prefix', () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    const h = fs.open('/d/f', 'wx+')
    fs.injectFault({ op: 'write', nth: 1, code: 'ENOSPC', bytesWritten: 2 })
    expect(() => h.write(bytes(1, 2, 3, 4), 0, 4, 0)).toThrow(
      expect.objectContaining({ code: 'ENOSPC' }),
    )
    expect([...fs.readFile('/d/f')]).toEqual([1, 2])
    h.write(bytes(9), 0, 1, 2)
    expect([...fs.readFile('/d/f')]).toEqual([1, 2, 9])
  })

  it('only counts operations on matching paths, and clearFaults disarms', () => {
    const fs = new FaultInjectionFileSystem()
    fs.mkdir('/d')
    const a = fs.open('/d/a', 'wx+')
    const b = fs.open('/d/b', 'wx+')
    fs.injectFault({ op: 'write', nth: 2, code: 'EIO', path: /\/b$/ })
    a.write(bytes(1), 0, 1, 0)
    b.write(bytes(1), 0, 1, 0)
    a.write(bytes(1), 0, 1, 1)
    expect(() => b.write(bytes(1), 0, 1, 1)).toThrow(expect.objectContaining({ code: 'EIO' }))
    fs.injectFault({ op: 'unlink', nth: 1, code: 'EIO' })
    fs.clearFaults()
    fs.unlink('/d/a')
  })

  it('clone copies the state and leaves the original usable', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.writeFile('/d/f', bytes(1, 2))
    const copy = fs.clone()
    copy.open('/d/f', 'r+').write(bytes(9), 0, 1, 0)
    expect([...fs.readFile('/d/f')]).toEqual([1, 2])
    expect([...copy.readFile('/d/f')]).toEqual([9, 2])
    expect(copy.mutatingOps).toBe(1)
    expect([...copy.powerCut({ mode: 'drop' }).readFile('/d/f')]).toEqual([1, 2])
  })

  it('simulates fsync latency', async () => {
    const fs = new FaultInjectionFileSystem({ syncDelayMs: 20 })
    fs.writeFile('/d/f', bytes(1))
    const start = performance.now()
    await fs.open('/d/f', 'r+').sync()
    expect(performance.now() - start).toBeGreaterThanOrEqual(15)
  })
})

describe('FaultInjectionFileSystem: read faults', () => {
  it('an injected read fault throws once, with its code, on a matching path only', () => {
    const fs = new FaultInjectionFileSystem({ seed: 1 })
    fs.mkdir('/d')
    const h = fs.open('/d/a', 'w+')
    h.write(new Uint8Array([1, 2, 3]), 0, 3, 0)
    const other = fs.open('/d/b', 'w+')
    fs.injectFault({ op: 'read', nth: 1, code: 'EIO', path: '/d/a' })
    const buf = new Uint8Array(3)
    expect(other.read(buf, 0, 3, 0)).toBe(0) // another path: not counted
    expect(() => h.read(buf, 0, 3, 0)).toThrow(expect.objectContaining({ code: 'EIO' }))
    expect(h.read(buf, 0, 3, 0)).toBe(3)
    expect([...buf]).toEqual([1, 2, 3])
    h.close()
    other.close()
  })
})
