import { readdirSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { restore } from '@alex/replication'
import { count } from '../command-helpers.js'
import { CliError, Exit } from '../errors.js'
import { bytes } from '../progress.js'
import {
  type BucketFlags,
  createS3Client,
  replicationCliError,
  resolveS3Settings,
} from '../s3-client.js'

export interface RestoreCommandOptions extends BucketFlags {
  toLsn?: number
  json?: boolean
}

/**
 * `alexstorage restore <dir>`: builds in `dir` the store replicated to the bucket, at its newest
 * shipped LSN or at `--to-lsn` (point in time), with `@alex/replication`'s `restore()`, which
 * verifies every object and refuses a gap; prints what it restored.
 */
export async function restoreCommand(dir: string, options: RestoreCommandOptions): Promise<number> {
  const settings = resolveS3Settings(options)
  mustBeFreeDestination(dir)
  const client = createS3Client(settings)
  const started = performance.now()
  let result: Awaited<ReturnType<typeof restore>>
  try {
    result = await restore(
      {
        bucket: settings.bucket,
        prefix: settings.prefix,
        client,
        requestTimeoutMs: settings.requestTimeoutMs,
        ...(options.toLsn === undefined ? {} : { toLsn: options.toLsn }),
      },
      dir,
    )
  } catch (error) {
    throw replicationCliError(error, settings)
  } finally {
    client.destroy()
  }
  const ms = Math.round(performance.now() - started)
  const target = resolve(dir)
  const objects = result.logObjects + 1
  if (options.json) {
    const out = {
      dir: target,
      bucket: settings.bucket,
      prefix: settings.prefix,
      ...result,
      objects,
      ms,
    }
    process.stdout.write(`${JSON.stringify(out)}\n`)
  } else {
    process.stdout.write(
      `restored ${settings.where} to ${target}: LSN ${result.lsn} (lineage ${result.lineage}), from the snapshot at LSN ${result.snapshotLsn} and ${count(result.logObjects, 'log object')} (${count(objects, 'object')}, ${bytes(result.bytes)}, ${result.bytes} bytes) in ${(ms / 1000).toFixed(1)} s\n`,
    )
  }
  return Exit.OK
}

/**
 * The library's own check of `dir`, made before any request, so that a refused restore does not
 * even reach the bucket: `dir` must not exist or be an empty directory.
 */
function mustBeFreeDestination(dir: string): void {
  const refuse = (why: string) =>
    new CliError('ERR_INVALID_ARGUMENT', `restore destination ${dir} ${why}`, Exit.UNUSABLE)
  let isDirectory: boolean
  try {
    isDirectory = statSync(dir).isDirectory()
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return
    throw error
  }
  if (!isDirectory) throw refuse('exists and is not a directory')
  if (readdirSync(dir).length > 0) throw refuse('is not empty')
}
