import { type Command, Option } from 'commander'
import { example, positiveInteger, run } from './command-helpers.js'
import type { ReplicaStatusOptions } from './commands/replica-status.js'
import type { ReplicateCommandOptions } from './commands/replicate.js'
import type { RestoreCommandOptions } from './commands/restore.js'

/**
 * The replication commands (`replicate`, `restore`, `replica-status`), on `@alex/replication`.
 * Their modules are imported when one of them runs, not before: they load the replication package
 * and the AWS SDK (about half a second and 17 MB more at start), which the other commands do
 * not need.
 */

const S3_HELP = `
Where the objects are: --bucket and --prefix (a key prefix; '' for the bucket's root).
How to reach them (a flag wins over the environment):
  --endpoint       S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL (none: AWS S3)
  --region         S3_REGION, AWS_REGION, AWS_DEFAULT_REGION (default us-east-1)
  --force-path-style   S3_FORCE_PATH_STYLE=true (bucket in the path: most S3-compatible stores)
  credentials      S3_ACCESS_KEY_ID + S3_SECRET_ACCESS_KEY, else AWS_ACCESS_KEY_ID +
                   AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), else the AWS SDK's default chain
Requests and responses carry checksums only where S3 requires them (older gateways refuse more).
`

/** The options every replication command takes. */
function bucketOptions(command: Command): Command {
  return command
    .requiredOption('--bucket <name>', 'the bucket')
    .requiredOption('--prefix <prefix>', "the store's key prefix in the bucket ('' for the root)")
    .option('--endpoint <url>', 'S3 endpoint URL (env S3_ENDPOINT; default: AWS S3)')
    .option('--region <region>', 'region (env S3_REGION, AWS_REGION; default us-east-1)')
    .option(
      '--force-path-style',
      'path-style addressing, for S3-compatible stores (env S3_FORCE_PATH_STYLE=true)',
    )
    .addOption(
      new Option('--request-timeout-ms <ms>', 'bound on one request (default 30000)').argParser(
        positiveInteger(1),
      ),
    )
}

export function addReplicationCommands(program: Command): void {
  bucketOptions(
    program
      .command('replicate')
      .description(
        "open the store as its writer and ship it to S3-compatible object storage (@alex/replication) until Ctrl-C or SIGTERM, then ship what is left and close; a progress line whenever the figures change (NDJSON with --json). Holds the writer's lock: for a store no other process writes (an application that writes it calls replicate() itself)",
      )
      .argument('<dir>', 'the store directory'),
  )
    .option('--interval-ms <ms>', 'ship new writes this often (default 1000)', positiveInteger(1))
    .option(
      '--snapshot-every-ms <ms>',
      'ship a snapshot when this long passed since the last (default 3600000)',
      positiveInteger(1),
    )
    .option(
      '--snapshot-every-bytes <n>',
      'or once this many bytes of log objects were shipped since (default 64 MiB)',
      positiveInteger(1),
    )
    .option(
      '--max-object-bytes <n>',
      'close a log object at the first batch end past this size (default 16 MiB)',
      positiveInteger(1),
    )
    .option(
      '--max-lag-bytes <n>',
      'stop (ERR_REPLICATION_LAG_LIMIT) once the unshipped log passes this (default 1 GiB)',
      positiveInteger(1),
    )
    .option(
      '--retain-snapshots <n>',
      'snapshots kept in the bucket, with the log from the oldest on (default 2; 0: all)',
      positiveInteger(0),
    )
    .option(
      '--log-retain-bytes <n>',
      "keep this much of the store's log at this run's checkpoints (the store's logRetainBytes), so that writes made before the next run ship as log objects, restorable point in time",
      positiveInteger(0),
    )
    .option(
      '--flush-timeout-ms <ms>',
      'on Ctrl-C/SIGTERM, wait at most this long for the rest to ship',
      positiveInteger(0),
      60_000,
    )
    .option('--once', 'ship everything the store holds, then exit (no waiting for a signal)')
    .option('--json', 'progress as NDJSON lines {"event":"start"|"stats"|"retry"|"stop",...}')
    .addHelpText(
      'after',
      `${example(
        '$ export S3_ENDPOINT=http://127.0.0.1:7480 S3_FORCE_PATH_STYLE=true S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=...',
        '$ alexstorage replicate ./my-db --bucket backups --prefix stores/my-db',
        '$ alexstorage replicate ./my-db --bucket backups --prefix stores/my-db --once --json',
      )}${S3_HELP}
replicate holds the writer's lock while it runs: ERR_LOCKED (exit 2) if another process has the
store open for writing, and no other process can write to the store meanwhile. Replication needs
the writer's process (it follows its change feed): an application that writes the store calls
replicate(db, { bucket, prefix, client }) of @alex/replication itself.
Exit codes: 0 stopped with everything shipped, 2 could not run or stopped with writes unshipped
(ERR_FLUSH_TIMEOUT, ERR_REPLICATION_FENCED, ERR_REPLICATION_LAG_LIMIT, ...).
`,
    )
    .action(
      run(async (dir: string, options: ReplicateCommandOptions) => {
        const { replicateCommand } = await import('./commands/replicate.js')
        return replicateCommand(dir, options)
      }),
    )

  bucketOptions(
    program
      .command('restore')
      .description(
        'build in dir (missing or empty) the store replicated to the bucket, at its newest shipped LSN or at --to-lsn, every object verified; prints the LSN, objects, bytes and time',
      )
      .argument('<dir>', 'where to build the store: must not exist or be empty'),
  )
    .option(
      '--to-lsn <lsn>',
      'restore this LSN (the end of an atomic write, at or after the oldest retained snapshot)',
      positiveInteger(0),
    )
    .option(
      '--json',
      'print { dir, bucket, prefix, lsn, lineage, snapshotLsn, logObjects, objects, seq, bytes, ms }',
    )
    .addHelpText(
      'after',
      `${example(
        '$ alexstorage restore ./restored --bucket backups --prefix stores/my-db',
        '$ alexstorage restore ./at-1500 --bucket backups --prefix stores/my-db --to-lsn 1500 --json',
      )}${S3_HELP}
Exit codes: 0 restored, 1 the bucket's history is damaged or has a gap before the target
(ERR_REPLICATION_CORRUPT_OBJECT, ERR_REPLICATION_GAP), 2 could not run (nothing under the prefix,
a bad --to-lsn, dir not empty, the object store unreachable). A refused restore leaves dir as it was.
`,
    )
    .action(
      run(async (dir: string, options: RestoreCommandOptions) => {
        const { restoreCommand } = await import('./commands/restore.js')
        return restoreCommand(dir, options)
      }),
    )

  bucketOptions(
    program
      .command('replica-status')
      .description(
        'what the bucket holds under the prefix (newest shipped LSN, log objects, snapshots, lineage, age of the newest object) and, with --replica, how far a local replica is behind it; reads only',
      ),
  )
    .option(
      '--replica <dir>',
      "a replica's directory (openReplica() or restore): its applied LSN and staleness",
    )
    .option('--json', 'print JSON instead of a table')
    .addHelpText(
      'after',
      `${example(
        '$ alexstorage replica-status --bucket backups --prefix stores/my-db',
        '$ alexstorage replica-status --bucket backups --prefix stores/my-db --replica ./replica --json | jq .replica.lagLsn',
      )}${S3_HELP}`,
    )
    .action(
      run(async (options: ReplicaStatusOptions) => {
        const { replicaStatus } = await import('./commands/replica-status.js')
        return replicaStatus(options)
      }),
    )
}
