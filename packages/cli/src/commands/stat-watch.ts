import type { AlexStorage } from '@alex/storage'
import { Interrupt } from '../interrupt.js'
import { openReadOnly } from '../store.js'
import { statJson, statText, takeSample } from './stat.js'

export interface StatWatchOptions {
  json?: boolean
  /** Milliseconds between two samples. */
  interval: number
}

/**
 * `alexstorage stat <dir> --watch`: the figures of `stat`, taken again every `interval` ms from a
 * read-only open that follows the writer, until Ctrl-C (then the store is closed and the exit code
 * is 0). On a terminal the block is redrawn in place; otherwise (a pipe, a file) each sample is
 * appended: a table followed by a blank line, or with `--json` one JSON object per line.
 */
export async function statWatch(dir: string, options: StatWatchOptions): Promise<number> {
  // Installed first: a Ctrl-C during the open ends the command cleanly too.
  const interrupt = new Interrupt()
  let db: AlexStorage
  try {
    db = await openReadOnly(dir, { cacheBytes: 0, follow: true })
  } catch (error) {
    interrupt.dispose()
    throw error
  }
  const tty = process.stdout.isTTY === true
  let drawnRows = 0
  try {
    // The first block then shows the writer's position too (the follower has read it).
    await db.catchUp()
    while (!interrupt.interrupted) {
      const sample = takeSample(db, dir)
      const time = new Date().toISOString()
      let block: string
      if (options.json) {
        block = statJson(sample, tty ? 2 : 0, { time })
      } else {
        const head: [string, string][] = [
          ['time', `${time} (every ${options.interval} ms; Ctrl-C to stop)`],
        ]
        block = statText(sample, { live: true, head })
      }
      if (tty) {
        // Back to the first row of the previous block, and clear from there down.
        const erase = drawnRows === 0 ? '' : `\x1b[${drawnRows}F\x1b[J`
        process.stdout.write(`${erase}${block}\n`)
        drawnRows = rowsOf(block, process.stdout.columns || 80)
      } else {
        process.stdout.write(options.json ? `${block}\n` : `${block}\n\n`)
      }
      await interrupt.sleep(options.interval)
    }
    return 0
  } finally {
    interrupt.dispose()
    await db.close()
  }
}

/** Terminal rows `text` takes, long lines wrapping at `columns`. */
function rowsOf(text: string, columns: number): number {
  let rows = 0
  for (const line of text.split('\n')) rows += Math.max(1, Math.ceil(line.length / columns))
  return rows
}
