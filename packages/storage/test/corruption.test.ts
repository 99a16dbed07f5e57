import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AlexStorage, type AlexStorageOptions } from '../src/index.js'
import { tempDir, valueFor } from './helpers.js'

/**
 * Damaged files at open, one named case each (after LevelDB's corruption tests): what is
 * detected, what is repaired, what falls back, and what refuses to open with ERR_CORRUPTION
 * naming the file and offset. Never a silent partial open.
 */

let dir: string
let cleanup: () => void
beforeEach(() => {
  ;({ dir, cleanup } = tempDir('alex-corrupt-'))
})
afterEach(() => cleanup())

const OPTS: AlexStorageOptions = { segmentBytes: 4096, sync: 'none', autoCompaction: false }
const files = (re: RegExp) =>
  readdirSync(dir)
    .filter((n) => re.test(n))
    .sort()
const snapshots = () => files(/^snapshot-\d+\.snap$/)
const segments = () => files(/^data-\d+\.seg$/)

/** A copy of a live store's directory: the files as a process kill (SIGKILL) leaves them. */
function crashImage(src: string): string {
  const { dir: copy } = tempDir('alex-crash-image-')
  cpSync(src, copy, { recursive: true })
  return copy
}

function flip(path: string, at: number): void {
  const b = readFileSync(path)
  b[at]! ^= 0x10
  writeFileSync(path, b)
}

/** A store with 60 keys spread over several segments, some overwritten and deleted; closed. */
async function build(options: AlexStorageOptions = OPTS): Promise<Map<number, Uint8Array>> {
  const db = await AlexStorage.open(dir, options)
  const model = new Map<number, Uint8Array>()
  for (let k = 0; k < 60; k++) {
    const v = valueFor(k, 1, 150)
    await db.put(k, v)
    model.set(k, v)
  }
  for (let k = 0; k < 60; k += 5) {
    await db.delete(k)
    model.delete(k)
  }
  for (let k = 1; k < 60; k += 7) {
    const v = valueFor(k, 2, 90)
    await db.put(k, v)
    model.set(k, v)
  }
  await db.close()
  return model
}

async function expectContents(model: Map<number, Uint8Array>, options = OPTS) {
  const db = await AlexStorage.open(dir, options)
  try {
    expect(new Map([...db.entries()].map(([k, v]) => [k, v.slice()]))).toEqual(model)
    return db.recovery
  } finally {
    await db.close()
  }
}

describe('damaged snapshot', () => {
  it('bit flip: falls back to a full scan of the segments and reports it', async () => {
    const model = await build()
    const [snap] = snapshots()
    flip(join(dir, snap!), 200)
    const report = await expectContents(model)
    expect(report.source).toBe('scan')
    expect(report.damagedSnapshots[0]).toMatchObject({
      file: join(dir, snap!),
      offset: expect.any(Number),
    })
    expect(report.damagedSnapshots[0]!.message).toMatch(/checksum/)
    // The recovery wrote a fresh snapshot and removed the damaged one.
    expect(snapshots()).not.toContain(snap)
    expect((await expectContents(model)).source).toBe('snapshot')
  })

  it('truncated or emptied: falls back', async () => {
    const model = await build()
    const [snap] = snapshots()
    truncateSync(join(dir, snap!), 100)
    expect((await expectContents(model)).source).toBe('scan')
    writeFileSync(join(dir, snapshots()[0]!), '')
    expect((await expectContents(model)).source).toBe('scan')
  })

  it('deleted: a scan of the segments alone rebuilds the index', async () => {
    const model = await build()
    for (const s of snapshots()) unlinkSync(join(dir, s))
    expect((await expectContents(model)).source).toBe('scan')
  })

  it('absolute-consistency still falls back for a damaged snapshot (the log and data are whole)', async () => {
    const model = await build()
    flip(join(dir, snapshots()[0]!), 70)
    expect(
      (await expectContents(model, { ...OPTS, recovery: 'absolute-consistency' })).source,
    ).toBe('scan')
  })

  it('an interrupted snapshot write (temp file) is ignored and deleted', async () => {
    const model = await build()
    writeFileSync(join(dir, `${snapshots()[0]!.replace(/\d+/, '9999999999')}.tmp`), 'partial')
    const report = await expectContents(model)
    expect(report.source).toBe('snapshot')
    expect(report.removedFiles.some((f) => f.endsWith('.tmp'))).toBe(true)
    expect(files(/\.tmp$/)).toEqual([])
  })
})

describe('damaged data segments', () => {
  it('missing segment named by the snapshot: ERR_CORRUPTION naming it', async () => {
    await build()
    const victim = segments()[0]!
    unlinkSync(join(dir, victim))
    await expect(AlexStorage.open(dir, OPTS)).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: join(dir, victim),
    })
    // The failed open released its lock.
    expect(existsSync(join(dir, 'LOCK'))).toBe(false)
  })

  it('segment shorter than the snapshot trusts: ERR_CORRUPTION with file and offset', async () => {
    await build()
    const victim = segments()[0]!
    truncateSync(join(dir, victim), 1000)
    await expect(AlexStorage.open(dir, OPTS)).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: join(dir, victim),
      offset: 1000,
    })
  })

  it('bytes after the trusted length (written after the snapshot) are truncated', async () => {
    const model = await build()
    const victim = segments()[0]!
    const size = readFileSync(join(dir, victim)).length
    writeFileSync(
      join(dir, victim),
      Buffer.concat([readFileSync(join(dir, victim)), Buffer.alloc(77, 0xab)]),
    )
    const report = await expectContents(model)
    expect(report.truncated).toEqual([
      expect.objectContaining({ file: join(dir, victim), offset: size, bytesDropped: 77 }),
    ])
    expect(readFileSync(join(dir, victim)).length).toBe(size)
  })

  it('a damaged record: reads of it fail with ERR_CORRUPTION (file, offset), others still work', async () => {
    const model = await build()
    const victim = segments()[0]!
    flip(join(dir, victim), 366 + 25 + 3) // inside key 2's value (records of 175 bytes from 16)
    const db = await AlexStorage.open(dir, OPTS)
    let failures = 0
    for (const [k, v] of model) {
      try {
        expect(db.get(k)).toEqual(v)
      } catch (err) {
        expect(err).toMatchObject({ code: 'ERR_CORRUPTION', file: join(dir, victim), offset: 366 })
        failures++
      }
    }
    expect(failures).toBe(1)
    await db.close()
  })

  it('bad segment header found by a full scan: ERR_CORRUPTION at offset 0', async () => {
    await build()
    for (const s of snapshots()) unlinkSync(join(dir, s))
    const victim = segments()[1]!
    flip(join(dir, victim), 1)
    await expect(AlexStorage.open(dir, OPTS)).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: join(dir, victim),
      offset: 0,
    })
  })

  it('a zero-filled header (creation torn by a crash) is dropped by a full scan', async () => {
    const model = await build()
    for (const s of snapshots()) unlinkSync(join(dir, s))
    writeFileSync(join(dir, 'data-0000000999.seg'), Buffer.alloc(40))
    const report = await expectContents(model)
    expect(report.removedFiles).toContain('data-0000000999.seg')
  })

  it('a torn tail found by a full scan: dropped and reported; refused by absolute-consistency', async () => {
    const model = await build()
    for (const s of snapshots()) unlinkSync(join(dir, s))
    const victim = segments()[segments().length - 1]!
    const path = join(dir, victim)
    writeFileSync(
      path,
      Buffer.concat([readFileSync(path), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9])]),
    )
    const copy = readFileSync(path)
    await expect(
      AlexStorage.open(dir, { ...OPTS, recovery: 'absolute-consistency' }),
    ).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      file: path,
      offset: copy.length - 9,
    })
    const report = await expectContents(model)
    expect(report.truncated).toEqual([
      expect.objectContaining({ file: path, offset: copy.length - 9, bytesDropped: 9 }),
    ])
  })

  it('segments no snapshot names are deleted and their writes replayed from the log', async () => {
    const db = await AlexStorage.open(dir, OPTS)
    await db.put(1, valueFor(1, 1, 10))
    await db.checkpoint()
    await db.put(2, valueFor(2, 1, 10))
    await db.put(3, valueFor(3, 1, 5000)) // does not fit: a new segment, unnamed by the snapshot
    const crashed = crashImage(dir) // the files as a SIGKILL would leave them
    await db.close()
    const before = readdirSync(crashed).filter((n) => /^data-/.test(n)).length
    const db2 = await AlexStorage.open(crashed, OPTS)
    try {
      expect(db2.recovery.source).toBe('snapshot')
      expect(db2.recovery.removedFiles.filter((f) => f.startsWith('data-')).length).toBe(1)
      expect(db2.recovery.replayed).toBe(2)
      expect(db2.get(1)).toEqual(valueFor(1, 1, 10))
      expect(db2.get(2)).toEqual(valueFor(2, 1, 10))
      expect(db2.get(3)).toEqual(valueFor(3, 1, 5000))
      expect(before).toBe(2)
    } finally {
      await db2.close()
      rmSync(crashed, { recursive: true, force: true })
    }
  })
})

describe('damaged write-ahead log', () => {
  /** Writes key 1, checkpoints, writes keys 2..39, and flips a byte in the middle of the log. */
  async function damagedLog(
    options: AlexStorageOptions,
  ): Promise<{ crashed: string; seg: string }> {
    const db = await AlexStorage.open(dir, options)
    await db.put(1, valueFor(1, 1, 10))
    await db.checkpoint()
    for (let k = 2; k < 40; k++) await db.put(k, valueFor(k, 1, 50))
    const crashed = crashImage(dir)
    await db.close()
    const walDir = join(crashed, 'wal')
    // The newest log segment (an older one was fsynced before the next began: damage there is
    // always hard).
    const name = readdirSync(walDir)
      .filter((n) => n.endsWith('.wal'))
      .sort()
      .pop()
    const seg = join(walDir, name!)
    // The middle of the records (a live log's file ends with zero padding).
    const bytes = readFileSync(seg)
    let end = bytes.length
    while (end > 0 && bytes[end - 1] === 0) end--
    flip(seg, end >> 1)
    return { crashed, seg }
  }

  it('a damaged acknowledged record in the middle of the log: ERR_CORRUPTION with file and offset', async () => {
    // sync 'always': every put was durable when acknowledged, and later writes say so.
    const { crashed, seg } = await damagedLog({ ...OPTS, sync: 'always' })
    try {
      await expect(AlexStorage.open(crashed, OPTS)).rejects.toMatchObject({
        code: 'ERR_CORRUPTION',
        file: seg,
        offset: expect.any(Number),
      })
      // Salvage: point-in-time recovery keeps the intact prefix.
      const salvaged = await AlexStorage.open(crashed, { ...OPTS, recovery: 'point-in-time' })
      expect(salvaged.get(1)).toEqual(valueFor(1, 1, 10))
      expect(salvaged.get(2)).toEqual(valueFor(2, 1, 50))
      expect(salvaged.size).toBeLessThan(39)
      expect(salvaged.recovery.wal.dropped.length).toBeGreaterThan(0)
      await salvaged.close()
    } finally {
      rmSync(crashed, { recursive: true, force: true })
    }
  })

  it("with sync 'none' the same damage is an unsynced tail: cut and reported, not refused", async () => {
    // Nothing after the checkpoint was ever known durable (no fsync): a power cut may leave any
    // of it torn, so the default mode cuts it (docs/wal-format.md, durable watermarks).
    const { crashed } = await damagedLog(OPTS)
    try {
      const db = await AlexStorage.open(crashed, OPTS)
      expect(db.get(1)).toEqual(valueFor(1, 1, 10))
      expect(db.recovery.wal.dropped.length).toBeGreaterThan(0)
      for (const [k, v] of db.entries()) expect(v).toEqual(valueFor(k, 1, k === 1 ? 10 : 50))
      await db.close()
    } finally {
      rmSync(crashed, { recursive: true, force: true })
    }
  })
})

describe('compaction retirement marker', () => {
  it('keeps a full scan from resurrecting deleted keys when an input outlived the compaction', async () => {
    const db = await AlexStorage.open(dir, OPTS)
    await db.put(1, valueFor(1, 1, 100))
    for (let k = 100; k < 140; k++) await db.put(k, valueFor(k, 1, 200)) // fill segments
    await db.delete(1) // the tombstone lands in a later segment than the put
    await db.checkpoint()
    const first = segments()[0]!
    const saved = readFileSync(join(dir, first))
    await db.compact()
    await db.close()
    expect(segments()).not.toContain(first)
    expect(files(/^retired-\d+$/).length).toBe(1)
    // An interrupted deletion: the input holding the put survived, the one with the tombstone
    // did not. And the snapshot is lost, so recovery must scan.
    writeFileSync(join(dir, first), saved)
    for (const s of snapshots()) unlinkSync(join(dir, s))
    const db2 = await AlexStorage.open(dir, OPTS)
    expect(db2.recovery.source).toBe('scan')
    expect(db2.get(1)).toBeUndefined()
    expect(db2.size).toBe(40)
    expect(db2.recovery.removedFiles).toContain(first)
    await db2.close()
  })

  it('is written again by a recovery that finds undeleted inputs without it', async () => {
    const db = await AlexStorage.open(dir, OPTS)
    await db.put(1, valueFor(1, 1, 100))
    for (let k = 100; k < 140; k++) await db.put(k, valueFor(k, 1, 200))
    await db.delete(1)
    await db.checkpoint()
    const first = segments()[0]!
    const saved = readFileSync(join(dir, first))
    await db.compact()
    await db.close()
    for (const m of files(/^retired-\d+$/)) unlinkSync(join(dir, m))
    writeFileSync(join(dir, first), saved)
    const db2 = await AlexStorage.open(dir, OPTS) // snapshot mode: deletes the input, marker first
    expect(db2.recovery.source).toBe('snapshot')
    expect(files(/^retired-\d+$/).length).toBe(1)
    expect(segments()).not.toContain(first)
    await db2.close()
  })
})
