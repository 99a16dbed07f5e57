import { createReadStream, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { AlexStorage, AlexStorageError } from '@alex/storage'
import { CliError, Exit } from '../errors.js'
import { parseLine } from '../ndjson.js'
import { progressBar } from '../progress.js'
import { mustBeStoreForWriting } from '../store.js'

export interface LoadOptions {
  batch: number
  json?: boolean
}

/**
 * `alexstorage load <dir> <file>`: writes every entry of an NDJSON dump (`-`: standard input)
 * with bulk ingests (`db.ingest`: straight into data segments, no log) of `batch` entries each,
 * each atomic; entries in ascending key order (as `dump` writes them) are ingested as they come,
 * any other order is sorted per batch (a repeated key: the last line wins). A bad line stops the
 * load: its batch is not written, the batches before it are.
 */
export async function load(dir: string, file: string, options: LoadOptions): Promise<number> {
  const fromStdin = file === '-'
  const total = fromStdin ? 0 : statSync(file).size // ENOENT before the store is touched
  const input = fromStdin ? process.stdin : createReadStream(file)
  await mustBeStoreForWriting(dir, true)
  // Each ingest is durable when it resolves; the log carries none of the entries.
  const db = await AlexStorage.open(dir, { sync: 'none' })
  const started = performance.now()
  let written = 0
  let lineNo = 0
  let firstLine = 1
  let keys: number[] = []
  let values: Uint8Array[] = []
  let ascending = true
  const bar = progressBar(
    Math.max(total, 1),
    'loading {bar} {percentage}% | {entries} entries | {rate} entries/s | ETA {eta_formatted}',
    !options.json && !fromStdin,
    { entries: 0, rate: 0 },
  )
  const name = fromStdin ? 'stdin' : file
  const flush = async () => {
    if (keys.length === 0) return
    try {
      await db.ingest({ keys, values }, { sorted: ascending })
    } catch (error) {
      if (
        !(error instanceof AlexStorageError) ||
        (!error.code.startsWith('ERR_INVALID') && error.code !== 'ERR_VALUE_TOO_LARGE')
      ) {
        throw error
      }
      throw new CliError(
        'ERR_BAD_INPUT',
        `${name}: lines ${firstLine}-${lineNo} refused by the store (${error.code}: ${error.message}); that batch was not written, the ${written} entries before it were`,
        Exit.DAMAGED,
        { cause: error },
      )
    }
    written += keys.length
    keys = []
    values = []
    ascending = true
    firstLine = lineNo + 1
    const seconds = (performance.now() - started) / 1000
    bar.update((input as { bytesRead?: number }).bytesRead ?? 0, {
      entries: written,
      rate: Math.round(written / Math.max(seconds, 0.001)),
    })
  }
  try {
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
    for await (const line of lines) {
      lineNo += 1
      if (line.trim() === '') continue
      const entry = parseLine(line)
      if ('error' in entry) {
        throw new CliError(
          'ERR_BAD_INPUT',
          `${name}:${lineNo}: ${entry.error}; the batch of lines ${firstLine}-${lineNo} was not written, the ${written} entries before it were`,
          Exit.DAMAGED,
        )
      }
      const n = keys.length
      if (n > 0 && !(entry.key > keys[n - 1]!)) ascending = false
      keys.push(entry.key)
      values.push(entry.value)
      if (n + 1 >= options.batch) await flush()
    }
    await flush()
  } finally {
    bar.stop()
    input.destroy()
    await db.close()
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ dir: db.dir, loaded: written, lines: lineNo })}\n`)
  } else {
    process.stdout.write(`loaded ${written} entries from ${name} into ${db.dir}\n`)
  }
  return 0
}
