import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cli, hashDir, makeStore, removeTempDirs, startWriter, tempDir } from './helpers.js'

afterAll(removeTempDirs)

describe('alexstorage backup', () => {
  it('copies a store; the copy passes check and holds the same entries', async () => {
    const dir = join(tempDir(), 'db')
    await makeStore(
      dir,
      Array.from({ length: 3000 }, (_, i) => i * 2),
    )
    const dest = join(tempDir(), 'copy')
    const res = await cli(['backup', dir, dest, '--json'])
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    const result = JSON.parse(res.stdout)
    const lsn = JSON.parse((await cli(['stat', dir, '--json'])).stdout).stats.lsn
    expect(result).toMatchObject({ dest, lsn, files: expect.any(Number) })
    expect(result.files).toBeGreaterThanOrEqual(2) // a snapshot and a data segment at least
    expect(result.bytes).toBeGreaterThan(0)

    const check = await cli(['check', dest])
    expect(check.stderr).toBe('')
    expect(check.code).toBe(0)
    expect(check.stdout).toMatch(/^clean: .*: 3000 entries/)
    const [original, copy] = await Promise.all([cli(['dump', dir]), cli(['dump', dest])])
    expect(copy.stdout).toBe(original.stdout)
    expect(copy.stdout.split('\n')).toHaveLength(3001)
  })

  it('prints the LSN, files and bytes in words without --json', async () => {
    const dir = join(tempDir(), 'db')
    await makeStore(dir, [1, 2, 3])
    const dest = join(tempDir(), 'empty-dest')
    mkdirSync(dest, { recursive: true }) // an empty directory is a valid destination
    const res = await cli(['backup', dir, dest])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(
      /^backed up .*db to .*empty-dest: LSN 3, \d+ files, .* \(\d+ bytes\)\n$/,
    )
    expect((await cli(['check', dest])).code).toBe(0)
  })

  it('is refused with ERR_LOCKED while a writer in another process holds the store', async () => {
    const dir = join(tempDir(), 'db')
    const writer = await startWriter(dir, 200)
    try {
      const dest = join(tempDir(), 'copy')
      const res = await cli(['backup', dir, dest])
      expect(res.code).toBe(2)
      expect(res.stderr).toMatch(/^alexstorage: ERR_LOCKED: .*locked.*writer's own process/)
      expect(res.stderr.trim().split('\n')).toHaveLength(1)
      expect(res.stdout).toBe('')
      expect(existsSync(dest)).toBe(false)
    } finally {
      expect(await writer.stop()).toBe(0)
    }
  })

  it('refuses a destination that is not empty or inside the store, touching nothing', async () => {
    const dir = join(tempDir(), 'db')
    await makeStore(dir, [1, 2, 3])
    const dest = tempDir()
    writeFileSync(join(dest, 'keep.txt'), 'mine')
    const before = { store: hashDir(dir), dest: hashDir(dest) }
    const full = await cli(['backup', dir, dest])
    expect(full.code).toBe(2)
    expect(full.stderr).toMatch(
      /^alexstorage: ERR_INVALID_ARGUMENT: backup destination .* is not empty\n$/,
    )
    const inside = await cli(['backup', dir, join(dir, 'backup')])
    expect(inside.code).toBe(2)
    expect(inside.stderr).toMatch(/^alexstorage: ERR_INVALID_ARGUMENT: .* is inside the store/)
    expect({ store: hashDir(dir), dest: hashDir(dest) }).toEqual(before)
  })

  it('refuses a directory that is not a store (ERR_NOT_A_STORE) and creates nothing', async () => {
    const dir = join(tempDir(), 'missing')
    const dest = join(tempDir(), 'copy')
    const res = await cli(['backup', dir, dest])
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/^alexstorage: ERR_NOT_A_STORE: /)
    expect(existsSync(dir)).toBe(false)
    expect(existsSync(dest)).toBe(false)
  })
})
