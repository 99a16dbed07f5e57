import { type BucketStatus, bucketStatus, type ReplicaInfo, replicaInfo } from '../bucket-status.js'
import { count } from '../command-helpers.js'
import { Exit } from '../errors.js'
import { bytes } from '../progress.js'
import { type BucketFlags, createS3Client, resolveS3Settings } from '../s3-client.js'

export interface ReplicaStatusOptions extends BucketFlags {
  replica?: string
  json?: boolean
}

/**
 * `alexstorage replica-status`: what the bucket holds under the prefix (the newest shipped LSN,
 * log objects, snapshots, the lineage, the age of the newest object) and, with `--replica`, how
 * far a local replica (or the writer's store) is behind it. Reads only: nothing in the bucket or
 * the replica changes.
 */
export async function replicaStatus(options: ReplicaStatusOptions): Promise<number> {
  const settings = resolveS3Settings(options)
  const client = createS3Client(settings)
  let status: BucketStatus
  let replica: ReplicaInfo | undefined
  try {
    status = await bucketStatus(client, settings)
    if (options.replica !== undefined) {
      replica = await replicaInfo(client, settings, status, options.replica)
    }
  } finally {
    client.destroy()
  }
  if (options.json) {
    const out = {
      time: new Date().toISOString(),
      endpoint: settings.endpoint ?? null,
      ...status,
      newestShippedAt: new Date(status.newestShippedAt).toISOString(),
      ...(replica === undefined ? {} : { replica: replicaJson(replica) }),
    }
    process.stdout.write(`${JSON.stringify(out)}\n`)
  } else {
    process.stdout.write(table(settings.where, status, replica))
  }
  return Exit.OK
}

function replicaJson(r: ReplicaInfo): Record<string, unknown> {
  return {
    ...r,
    appliedShippedAt:
      r.appliedShippedAt === undefined ? null : new Date(r.appliedShippedAt).toISOString(),
    fenced: r.fenced ?? null,
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

function table(where: string, s: BucketStatus, r: ReplicaInfo | undefined): string {
  const rows: [string, string][] = [
    ['bucket', where],
    ['lineage', s.lineage],
    [
      'newest LSN',
      `${s.newestLsn} (log object ${s.newestSeq}, built ${new Date(s.newestShippedAt).toISOString()} by the writer's clock, ${seconds(s.ageMs)} ago)`,
    ],
    [
      'log objects',
      s.logObjects === 0
        ? '0'
        : `${s.logObjects} (${s.oldestSeq}..${s.newestSeq}), ${bytes(s.logBytes)}`,
    ],
    ['snapshots', String(s.snapshots.length)],
    ...s.snapshots.map((snap): [string, string] => [
      'snapshot',
      `LSN ${snap.lsn} (after log object ${snap.seq}), ${bytes(snap.bytes)}`,
    ]),
  ]
  if (s.snapshots.length > 0) {
    rows.push([
      'restorable',
      `--to-lsn from ${s.snapshots[0]!.lsn} (the oldest snapshot) to ${s.newestLsn}, at a batch end, unless a resync lies between`,
    ])
  }
  if (r !== undefined) {
    const behind =
      r.lagLsn === 0
        ? 'up to date with the bucket'
        : `${r.lagLsn} LSNs (${count(r.lagObjects, 'log object')}) behind, stale for ${seconds(r.stalenessMs)}`
    rows.push([
      'replica',
      `${r.dir}: LSN ${r.lsn}, ${behind}${r.fenced ? `; fenced: ${r.fenced}` : ''}`,
    ])
  }
  const width = Math.max(...rows.map(([name]) => name.length)) + 2
  return rows.map(([name, value]) => `${name.padEnd(width)}${value}\n`).join('')
}
