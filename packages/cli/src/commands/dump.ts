import { once } from 'node:events'
import { createWriteStream, renameSync, rmSync } from 'node:fs'
import type { RangeOptions } from '@alex/storage'
import { encodeLine } from '../ndjson.js'
import { openReadOnly } from '../store.js'

export interface DumpOptions {
  range?: RangeOptions
  reverse?: boolean
  limit?: number
  format?: string
  out?: string
}

/** Bytes gathered before one write to the output. */
const CHUNK = 256 * 1024

/**
 * `alexstorage dump <dir>`: every entry in key order as NDJSON, from a read-only open (so it works
 * while a writer runs, and sees the store as of its open). With `--out`, the file appears only
 * once complete (written to a temporary name, then renamed).
 */
export async function dump(dir: string, options: DumpOptions): Promise<number> {
  const range: RangeOptions = { ...options.range }
  if (options.reverse) range.reverse = true
  if (options.limit !== undefined) range.limit = options.limit
  const db = await openReadOnly(dir)
  const temp = options.out === undefined ? undefined : `${options.out}.tmp-${process.pid}`
  const out = temp === undefined ? process.stdout : createWriteStream(temp, { flags: 'wx' })
  let done = false
  try {
    if (temp !== undefined) await once(out, 'open')
    let chunk = ''
    for (const [key, value] of db.entries(range)) {
      chunk += encodeLine(key, value)
      if (chunk.length >= CHUNK) {
        if (!out.write(chunk)) await once(out, 'drain')
        chunk = ''
      }
    }
    if (chunk !== '') out.write(chunk)
    if (temp !== undefined) {
      const file = out as ReturnType<typeof createWriteStream>
      await new Promise<void>((resolve, reject) => {
        file.on('error', reject)
        file.end(() => resolve())
      })
      renameSync(temp, options.out!)
    }
    done = true
  } finally {
    await db.close()
    if (!done && temp !== undefined) {
      ;(out as ReturnType<typeof createWriteStream>).destroy()
      rmSync(temp, { force: true })
    }
  }
  return 0
}
