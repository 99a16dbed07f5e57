import { threadId } from 'node:worker_threads'
import type { AlexStorage, ReaderStats, StorageStats } from '@alex/storage'
import { bytes } from '../progress.js'
import { diskUsage, jsonReplacer, openReadOnly } from '../store.js'

export interface StatOptions {
  json?: boolean
}

/** What `stat` prints: the store's figures at one moment. */
export interface StatSample {
  dir: string
  disk: ReturnType<typeof diskUsage>
  stats: StorageStats
  recovery: AlexStorage['recovery']
}

/** `alexstorage stat <dir>`: what the store holds, from a read-only open frozen at the open. */
export async function stat(dir: string, options: StatOptions): Promise<number> {
  const db = await openReadOnly(dir, { cacheBytes: 0 })
  try {
    const sample = takeSample(db, dir)
    process.stdout.write(
      options.json ? `${statJson(sample, 2)}\n` : `${statText(sample, { live: false })}\n`,
    )
    return 0
  } finally {
    await db.close()
  }
}

/** The store's figures now (`dir` as given: the files' sizes are summed under it). */
export function takeSample(db: AlexStorage, dir: string): StatSample {
  return { dir: db.dir, disk: diskUsage(dir), stats: db.stats(), recovery: db.recovery }
}

/** The sample as JSON (log LSNs, bigints in the library, as numbers); `extra` fields first. */
export function statJson(
  sample: StatSample,
  indent: number,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify({ ...extra, ...sample }, jsonReplacer, indent)
}

/**
 * The sample as a table. `live`: a following open (`--watch`), whose log figures from the open
 * would be stale (the follow row says where the writer is instead); `head`: rows put first.
 */
export function statText(
  sample: StatSample,
  { live, head = [] }: { live: boolean; head?: [string, string][] },
): string {
  const { stats, recovery, disk } = sample
  const records = stats.liveBytes + stats.deadBytes
  const deadShare = records === 0 ? 0 : (100 * stats.deadBytes) / records
  const index = stats.index
  const source =
    recovery.source === 'snapshot'
      ? `snapshot ${recovery.snapshot}`
      : recovery.source === 'scan'
        ? 'a scan of the data segments (no usable snapshot)'
        : 'nothing (empty store)'
  const logLast = live ? '' : `, log last ${Number(recovery.wal.lastLsn)}`
  const logFiles = live ? '' : ` in ${recovery.wal.segments} segment file(s)`
  const rows: [string, string][] = [
    ...head,
    ['store', sample.dir],
    ['keys', stats.keys.toLocaleString('en-US')],
    ['live bytes', `${bytes(stats.liveBytes)} (${stats.liveBytes})`],
    [
      'dead bytes',
      `${bytes(stats.deadBytes)} (${stats.deadBytes}), ${deadShare.toFixed(1)}% of record bytes`,
    ],
    ['data segments', String(stats.segments)],
    ['disk', `${bytes(disk.bytes)} in ${disk.files} files; log ${bytes(disk.logBytes)}${logFiles}`],
    ['LSNs', `applied ${stats.lsn}, checkpoint ${stats.checkpointLsn}${logLast}`],
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
  if (stats.follow !== undefined) {
    const f = stats.follow
    rows.push([
      'follow',
      `writer published LSN ${f.publishedLsn}, this view at LSN ${stats.lsn}, ${f.reloads} reload(s)${f.following ? '' : ', stopped following (an error; see catchUp)'}`,
    ])
  }
  rows.push(['readers', stats.readers.length === 0 ? 'none' : String(stats.readers.length)])
  for (const reader of stats.readers) rows.push(['reader', readerText(reader)])
  for (const note of recoveryNotes(recovery)) rows.push(['note', note])
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')
}

/** One registered reader: who, where, how far behind. */
function readerText(r: ReaderStats): string {
  const self = r.pid === process.pid && r.thread === threadId ? ' (this command)' : ''
  const stale = r.live ? '' : ', not reporting (holds no log)'
  return `pid ${r.pid} thread ${r.thread}${self}: at LSN ${r.lsn}, lag ${r.lagLsn} LSNs / ${r.lagMs} ms${stale}`
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
