import { bytes } from '../progress.js'
import { diskUsage, jsonReplacer, openReadOnly } from '../store.js'

export interface StatOptions {
  json?: boolean
}

/** `alexstorage stat <dir>`: what the store holds, from a read-only open. */
export async function stat(dir: string, options: StatOptions): Promise<number> {
  const db = await openReadOnly(dir, { cacheBytes: 0 })
  try {
    const stats = db.stats()
    const recovery = db.recovery
    const disk = diskUsage(dir)
    if (options.json) {
      const out = { dir: db.dir, disk, stats, recovery }
      process.stdout.write(`${JSON.stringify(out, jsonReplacer, 2)}\n`)
      return 0
    }
    const records = stats.liveBytes + stats.deadBytes
    const deadShare = records === 0 ? 0 : (100 * stats.deadBytes) / records
    const index = stats.index
    const source =
      recovery.source === 'snapshot'
        ? `snapshot ${recovery.snapshot}`
        : recovery.source === 'scan'
          ? 'a scan of the data segments (no usable snapshot)'
          : 'nothing (empty store)'
    const rows: [string, string][] = [
      ['store', db.dir],
      ['keys', stats.keys.toLocaleString('en-US')],
      ['live bytes', `${bytes(stats.liveBytes)} (${stats.liveBytes})`],
      [
        'dead bytes',
        `${bytes(stats.deadBytes)} (${stats.deadBytes}), ${deadShare.toFixed(1)}% of record bytes`,
      ],
      ['data segments', String(stats.segments)],
      [
        'disk',
        `${bytes(disk.bytes)} in ${disk.files} files; log ${bytes(disk.logBytes)} in ${recovery.wal.segments} segment file(s)`,
      ],
      [
        'LSNs',
        `applied ${stats.lsn}, checkpoint ${stats.checkpointLsn}, log last ${Number(recovery.wal.lastLsn)}`,
      ],
      ['checkpoints', String(stats.checkpoints)],
      ['compactions', String(stats.compactions)],
      [
        'index',
        `height ${index.height}, ${index.modelNodes} model nodes, ${index.dataNodes} data nodes, ${bytes(index.bytes)} (${index.bytesPerKey.toFixed(1)} bytes/key)`,
      ],
      [
        'cache',
        `budget ${bytes(stats.cache.budgetBytes)}, ${stats.cache.residentSegments} segments resident (${bytes(stats.cache.residentBytes)}) in this read-only open`,
      ],
      ['opened from', `${source}, ${recovery.replayed} log operations replayed`],
    ]
    const notes = recoveryNotes(recovery)
    for (const note of notes) rows.push(['note', note])
    const width = Math.max(...rows.map(([label]) => label.length))
    const text = rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')
    process.stdout.write(`${text}\n`)
    return 0
  } finally {
    await db.close()
  }
}

/** What a read-only open found that a writer's open would repair, in words. */
export function recoveryNotes(recovery: {
  damagedSnapshots: { file: string; offset: number; message: string }[]
  truncated: { file: string; offset: number; bytesDropped: number; reason: string }[]
  wal: { dropped: unknown[] }
}): string[] {
  const notes: string[] = []
  for (const s of recovery.damagedSnapshots) {
    notes.push(`damaged snapshot skipped: ${s.file} at offset ${s.offset}: ${s.message}`)
  }
  for (const t of recovery.truncated) {
    notes.push(
      `untrusted tail of ${t.file} from offset ${t.offset} (${t.bytesDropped} bytes, ${t.reason}): the next writer's open cuts it`,
    )
  }
  if (recovery.wal.dropped.length > 0) {
    notes.push(
      `${recovery.wal.dropped.length} torn or damaged log tail(s) ignored: the next writer's open cuts them`,
    )
  }
  return notes
}
