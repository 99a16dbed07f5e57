import { AlexStorageError } from '@alex/storage'
import { Exit, errorJson } from '../errors.js'
import { bytes, progressBar } from '../progress.js'
import { openReadOnly } from '../store.js'
import { recoveryNotes } from './stat.js'

export interface CheckOptions {
  json?: boolean
}

interface Damage {
  code: string
  message: string
  file?: string
  offset?: number
  key?: number
}

/** At most this many problems are listed (all are counted). */
const MAX_LISTED = 100

/**
 * `alexstorage check <dir>`: verifies the store without changing a byte. The read-only open
 * validates the snapshot, the segment headers, a sample of snapshot entries, the log and its
 * agreement with the data; then every value is read from its file (`cacheBytes: 0`), so that its
 * checksum and identity (the record is the key's) are checked.
 */
export async function check(dir: string, options: CheckOptions): Promise<number> {
  const damage: Damage[] = []
  let damageCount = 0
  const found = (d: Damage) => {
    damageCount += 1
    if (damage.length < MAX_LISTED) damage.push(d)
  }
  let db: Awaited<ReturnType<typeof openReadOnly>>
  try {
    db = await openReadOnly(dir, { cacheBytes: 0 })
  } catch (error) {
    if (!(error instanceof AlexStorageError && error.code === 'ERR_CORRUPTION')) {
      // Unusable (exit 2): the error goes to stderr as for every command; --json also says so.
      if (options.json) {
        const out = { dir, status: 'unusable', error: errorJson(error) }
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
      }
      throw error
    }
    found(errorJson(error) as unknown as Damage)
    return report(dir, options, { entries: 0, valueBytes: 0, keys: 0 }, damage, damageCount, [])
  }
  let entries = 0
  let valueBytes = 0
  let keys = 0
  const notes: string[] = []
  try {
    const stats = db.stats()
    keys = stats.keys
    for (const s of db.recovery.damagedSnapshots) {
      found({
        code: 'ERR_CORRUPTION',
        message: `damaged snapshot: ${s.message}`,
        file: s.file,
        offset: s.offset,
      })
    }
    notes.push(...recoveryNotes({ ...db.recovery, damagedSnapshots: [] }))
    const bar = progressBar(
      keys,
      'checking {bar} {percentage}% | {value}/{total} entries | ETA {eta_formatted}',
      !options.json,
    )
    try {
      for (const key of db.keys()) {
        try {
          const value = db.get(key)
          if (value === undefined) {
            found({ code: 'ERR_CORRUPTION', message: 'key listed by the index has no value', key })
          } else {
            valueBytes += value.byteLength
          }
        } catch (error) {
          if (!(error instanceof AlexStorageError && error.code === 'ERR_CORRUPTION')) throw error
          found({ ...(errorJson(error) as unknown as Damage), key })
        }
        entries += 1
        if ((entries & 1023) === 0) bar.update(entries)
      }
      bar.update(entries)
    } finally {
      bar.stop()
    }
    if (entries !== keys) {
      found({
        code: 'ERR_CORRUPTION',
        message: `the index lists ${entries} keys but counts ${keys}`,
      })
    }
  } finally {
    await db.close()
  }
  return report(dir, options, { entries, valueBytes, keys }, damage, damageCount, notes)
}

function report(
  dir: string,
  options: CheckOptions,
  counts: { entries: number; valueBytes: number; keys: number },
  damage: Damage[],
  damageCount: number,
  notes: string[],
): number {
  const status = damageCount === 0 ? 'clean' : 'damaged'
  if (options.json) {
    const out = { dir, status, ...counts, problems: damageCount, damage, notes }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  } else {
    const lines = [
      `${status}: ${dir}: ${counts.entries} entries, ${bytes(counts.valueBytes)} of values read and verified`,
    ]
    for (const d of damage) {
      const where =
        d.file === undefined
          ? ''
          : ` file ${d.file}${d.offset === undefined ? '' : ` offset ${d.offset}`}`
      const key = d.key === undefined ? '' : ` key ${d.key}`
      const message = where === '' ? d.message : d.message.replace(/ \(file [^)]*\)$/, '')
      lines.push(`  ${d.code}:${where}${key}: ${message}`)
    }
    if (damageCount > damage.length) lines.push(`  ... and ${damageCount - damage.length} more`)
    for (const note of notes) lines.push(`  note: ${note}`)
    process.stdout.write(`${lines.join('\n')}\n`)
  }
  return damageCount === 0 ? Exit.OK : Exit.DAMAGED
}
