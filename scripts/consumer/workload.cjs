// The consumer checks' workload, shared by smoke.mjs (import) and smoke.cjs (require): what an
// application does with the published packages. Plain CommonJS with no syntax newer than Node
// 20.0, because it runs on every Node of the matrix (scripts/consumer-check.mjs).
'use strict'

const assert = require('node:assert/strict')
const { mkdtempSync, rmSync } = require('node:fs')
const { join } = require('node:path')

/** Deterministic value of fixture key `i`: sizes on both sides of every CRC threshold. */
function fixtureValue(i) {
  const sizes = [0, 1, 15, 100, 255, 256, 300, 511, 512, 513, 600, 4096, 70_000]
  const bytes = new Uint8Array(sizes[i % sizes.length] + (i % 7))
  for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 31 + j * 7) & 255
  return bytes
}
const FIXTURE_KEYS = 80

/**
 * Writes the cross-Node fixture: keys 0..79 (half of them logged after a checkpoint), then the
 * caller exits without closing, so the next open replays the log. Made on the current Node
 * (native zlib.crc32 where present) and read on every Node of the matrix (JS fallback on 20.0).
 */
async function makeFixture(mods, dir) {
  const { AlexStorage } = mods.storage
  const db = await AlexStorage.open(dir)
  await db.batch(
    Array.from({ length: FIXTURE_KEYS / 2 }, (_, i) => ({
      type: 'put',
      key: i,
      value: fixtureValue(i),
    })),
  )
  await db.checkpoint()
  for (let i = FIXTURE_KEYS / 2; i < FIXTURE_KEYS; i++) await db.put(i, fixtureValue(i))
  await db.delete(3)
}

async function checkFixture(mods, dir) {
  const { AlexStorage } = mods.storage
  const db = await AlexStorage.open(dir, { readOnly: true })
  try {
    assert.equal(db.size, FIXTURE_KEYS - 1)
    for (let i = 0; i < FIXTURE_KEYS; i++) {
      if (i === 3) assert.equal(db.get(i), undefined)
      else assert.deepEqual(db.get(i), fixtureValue(i), `fixture key ${i}`)
    }
    await assert.rejects(db.put(1, new Uint8Array(1)), { code: 'ERR_READ_ONLY' })
  } finally {
    await db.close()
  }
}

async function checkStorage(mods, dir) {
  const { AlexStorage, AlexStorageError, ErrorCode } = mods.storage
  assert.equal(typeof AlexStorage.open, 'function')
  assert.equal(ErrorCode.INVALID_KEY, 'ERR_INVALID_KEY')

  let db = await AlexStorage.open(dir)
  const sizes = [1, 100, 255, 256, 300, 511, 512, 600, 5000, 70_000, 1 << 20]
  for (const size of sizes) await db.put(size, new Uint8Array(size).fill(size & 255))
  await db.put(-1.5, new TextEncoder().encode('minus one and a half'))
  await db.batch([
    { type: 'put', key: 2e9, value: new Uint8Array(700).fill(9) },
    { type: 'delete', key: 1 },
    { type: 'put', key: 0.25, value: new Uint8Array([1, 2, 3]) },
  ])
  await Promise.all(Array.from({ length: 50 }, (_, i) => db.put(10_000 + i, new Uint8Array(40))))
  assert.equal(db.has(1), false)
  assert.deepEqual(db.get(0.25), new Uint8Array([1, 2, 3]))
  assert.equal(db.get(1 << 20).length, 1 << 20)
  const expected = [-1.5, 0.25, ...sizes.filter((s) => s !== 1 && s < 10_000)]
  assert.deepEqual([...db.keys({ lt: 10_000 })], expected)
  assert.deepEqual([...db.keys({ gte: 256, lte: 600, reverse: true })], [600, 512, 511, 300, 256])
  assert.deepEqual(
    [...db.entries({ gt: 9_999, limit: 2 })].map(([k, v]) => [k, v.length]),
    [
      [10_000, 40],
      [10_001, 40],
    ],
  )
  assert.equal([...db.values()].length, db.size)
  assert.equal(db.size, expected.length + 1 + 50 + 2)

  // Errors are AlexStorageErrors with stable codes.
  await assert.rejects(db.put(Number.NaN, new Uint8Array(1)), (err) => {
    assert.ok(err instanceof AlexStorageError)
    assert.equal(err.code, ErrorCode.INVALID_KEY)
    return true
  })
  assert.throws(() => db.get('1'), { code: 'ERR_INVALID_KEY' })

  await db.checkpoint()
  await db.put(2e9, new Uint8Array(900).fill(8))
  await db.compact()
  assert.equal(db.stats().keys, db.size)
  await db.close()
  assert.throws(() => db.get(0.25), { code: ErrorCode.CLOSED })

  db = await AlexStorage.open(dir)
  assert.deepEqual([...db.keys({ lt: 10_000 })], expected)
  assert.deepEqual(db.get(2e9), new Uint8Array(900).fill(8))
  assert.equal(db.get(70_000)[69_999], 70_000 & 255)
  // A second writer is refused while the first holds the lock.
  await assert.rejects(AlexStorage.open(dir), { code: 'ERR_LOCKED' })
  // `await using` support, where the store has it (Symbol.asyncDispose, or Node's symbol before
  // Node 20.4 defined Symbol.asyncDispose).
  const dispose = db[Symbol.asyncDispose || Symbol.for('nodejs.asyncDispose')]
  if (typeof dispose === 'function') {
    await dispose.call(db)
    assert.throws(() => db.size, { code: ErrorCode.CLOSED })
  } else {
    await db.close()
  }
}

async function checkWal(mods, dir) {
  const { Wal } = mods.wal
  let wal = await Wal.open(dir)
  await wal.append({ type: 'put', key: 1, value: new Uint8Array(10) })
  const lsn = await wal.appendBatch([
    { type: 'put', key: 2, value: new Uint8Array(3000).fill(2) },
    { type: 'delete', key: 1 },
  ])
  assert.equal(lsn, 3n)
  await wal.close()
  wal = await Wal.open(dir)
  const records = [...wal.replay()].map((r) => [
    r.lsn,
    r.type,
    r.key,
    r.value ? r.value.length : -1,
  ])
  assert.deepEqual(records, [
    [1n, 'put', 1, 10],
    [2n, 'put', 2, 3000],
    [3n, 'delete', 1, -1],
  ])
  await wal.close()
  assert.equal(typeof mods.walTesting.FaultInjectionFileSystem, 'function')
  // The I/O entry: the overlay and the shared primitives.
  const { crc32, ReadOnlyOverlayFileSystem, nodeFileSystem, readWholeFile } = mods.walIo
  assert.equal(crc32(new TextEncoder().encode('123456789'), 0, 9), 0xcbf43926)
  const overlay = new ReadOnlyOverlayFileSystem(nodeFileSystem)
  const segment = overlay.readdir(dir).find((name) => name.endsWith('.wal'))
  assert.ok(segment !== undefined && readWholeFile(overlay, join(dir, segment)).length > 0)
}

function checkIndex(mods) {
  const { AlexIndex, checkInvariants } = mods.index
  const index = AlexIndex.from([30, 10, 20], [3, 1, 2])
  index.set(25, 2.5)
  assert.equal(index.get(25), 2.5)
  assert.deepEqual([...index.keys({ gte: 20 })], [20, 25, 30])
  checkInvariants(index)
}

async function checkCompare(mods, dir) {
  const { getEngine } = mods.compare
  for (const id of ['alex', 'btree']) {
    const engine = getEngine(id)
    const store = await engine.open(join(dir, id), { durable: true })
    await store.put(1, new Uint8Array([7]))
    const value = engine.capabilities.syncGet ? store.get(1) : await store.get(1)
    assert.deepEqual(value, new Uint8Array([7]), `@alex/compare engine ${id}`)
    await store.close()
  }
}

/** Runs every check; `fixture` is the directory made by `makeFixture` on the current Node. */
async function run(mods, fixture) {
  const base = mkdtempSync(join(require('node:os').tmpdir(), 'alex-consumer-'))
  try {
    await checkStorage(mods, join(base, 'store'))
    await checkWal(mods, join(base, 'wal'))
    checkIndex(mods)
    await checkCompare(mods, join(base, 'compare'))
    if (fixture) await checkFixture(mods, fixture)
  } finally {
    rmSync(base, { recursive: true, force: true })
  }
}

module.exports = { run, makeFixture }
