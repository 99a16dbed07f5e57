/**
 * Online backup against `cp -r` of the closed store (issue 12). One run, same store, same
 * machine: the figures are for orientation, the ratios are what to read.
 *
 *   npx tsx bench/backup-bench.ts [--keys 1000000] [--value 128]
 *
 * 1. `cp -r` of the closed store into the same file system, alone and followed by `sync -f` of
 *    the copy (backup() makes every file durable; cp -r alone does not), then (when /dev/shm is
 *    another file system) into /dev/shm;
 * 2. `db.backup()` of the open store into the same file system (sealed segments hard-linked) and
 *    into /dev/shm (everything copied: a link across file systems fails with EXDEV); nothing was
 *    written since the open, so no checkpoint is needed;
 * 3. `db.backup()` after 10,000 new writes: it checkpoints first (a snapshot of every key).
 * MB/s is the store's size (its files, log included) over the wall time.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchFlags, makeDataset } from '@alex/test-support/bench'
import { AlexStorage } from '../src/index.js'
import { BULK_LOAD_OPTIONS, writeInBatches } from './workload.js'

const { numbers } = benchFlags(process.argv.slice(2), {
  usage: 'Usage: npx tsx bench/backup-bench.ts [--keys 1000000] [--value 128]',
  numbers: { keys: 1_000_000, value: 128 },
})
const N = numbers.keys
const VALUE = numbers.value

/** Bytes of every file under `dir`. */
function sizeOf(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    total += entry.isDirectory() ? sizeOf(path) : statSync(path).size
  }
  return total
}

async function timed(run: () => unknown): Promise<number> {
  const t0 = performance.now()
  await run()
  return (performance.now() - t0) / 1000
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'alex-backup-bench-'))
  const shm = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(root).dev
  const shmRoot = shm ? mkdtempSync('/dev/shm/alex-backup-bench-') : undefined
  try {
    const dir = join(root, 'db')
    const { keys, values } = makeDataset(N, VALUE)
    const load = await AlexStorage.open(dir, BULK_LOAD_OPTIONS)
    await writeInBatches(load, keys, values, VALUE, 1000)
    await load.close()
    const mb = sizeOf(dir) / 1e6
    console.log(`store: ${N} keys x ${VALUE} B, ${mb.toFixed(1)} MB on disk`)
    const rate = (s: number) => `${(mb / s).toFixed(0)} MB/s (${s.toFixed(2)} s)`

    // cp -r as it is (nothing fsynced: the copy may not survive a power cut), and followed by a
    // sync of the copy's file system (what backup() guarantees: every file and entry durable).
    const cp = (to: string) => () => execFileSync('cp', ['-r', dir, to])
    const cpSynced = (to: string) => () => {
      execFileSync('cp', ['-r', dir, to])
      execFileSync('sync', ['-f', to])
    }
    const cpSame = await timed(cp(join(root, 'cp')))
    const cpSameSynced = await timed(cpSynced(join(root, 'cp-synced')))
    const cpShm = shmRoot === undefined ? undefined : await timed(cp(join(shmRoot, 'cp')))

    const db = await AlexStorage.open(dir)
    const backupSame = await timed(() => db.backup(join(root, 'backup')))
    const backupShm =
      shmRoot === undefined ? undefined : await timed(() => db.backup(join(shmRoot, 'backup')))
    // After new writes the backup checkpoints first (a new snapshot of every key).
    const value = new Uint8Array(VALUE)
    for (let i = 0; i < 10_000; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => db.put(keys[i + j]!, value)))
    }
    const backupAfterWrites = await timed(() => db.backup(join(root, 'backup-2')))
    await db.close()

    console.log(`cp -r, same file system:        ${rate(cpSame)}`)
    console.log(`cp -r + sync, same file system: ${rate(cpSameSynced)}`)
    console.log(`backup(), same file system:     ${rate(backupSame)} (hard links)`)
    console.log(`  ratio backup / cp -r: ${(cpSame / backupSame).toFixed(2)}x the throughput`)
    console.log(
      `  ratio backup / cp -r + sync: ${(cpSameSynced / backupSame).toFixed(2)}x the throughput`,
    )
    console.log(`backup() after 10,000 writes:   ${rate(backupAfterWrites)} (checkpoint first)`)
    console.log(
      `  ratio backup / cp -r: ${(cpSame / backupAfterWrites).toFixed(2)}x the throughput`,
    )
    if (cpShm !== undefined && backupShm !== undefined) {
      console.log(`cp -r, to /dev/shm:             ${rate(cpShm)}`)
      console.log(`backup(), to /dev/shm:          ${rate(backupShm)} (copies: EXDEV)`)
      console.log(`  ratio backup / cp -r: ${(cpShm / backupShm).toFixed(2)}x the throughput`)
    }
  } finally {
    rmSync(root, { recursive: true, force: true })
    if (shmRoot !== undefined) rmSync(shmRoot, { recursive: true, force: true })
  }
}

void main()
