/**
 * What the replication commands make of `@alex/replication`'s errors: an exit code per stable
 * `ReplicationError` code, and advice appended to its message. This file does not import the
 * package (errors.ts uses it for every command, and the replication package loads the AWS SDK):
 * an error is recognised by its name and code, as the package's own `isReplicationError` does.
 */

/** Exit codes of the replication codes: 1 when the bucket's data is bad, 2 when it could not run. */
const EXIT_CODES: Record<string, number> = {
  ERR_REPLICATION_INVALID_ARGUMENT: 2,
  ERR_REPLICATION_FENCED: 2,
  ERR_REPLICATION_LAG_LIMIT: 2,
  ERR_REPLICATION_GAP: 1,
  ERR_REPLICATION_CORRUPT_OBJECT: 1,
  ERR_REPLICATION_NOT_FOUND: 2,
  ERR_REPLICATION_OBJECT_STORE: 2,
  ERR_REPLICATION_LOCAL: 2,
  ERR_REPLICATION_CLOSED: 2,
}

/** What to do about each code, appended to the library's message. */
const ADVICE: Record<string, string> = {
  ERR_REPLICATION_FENCED:
    'another writer owns this prefix: restore from the bucket, or replicate to another --prefix',
  ERR_REPLICATION_LAG_LIMIT:
    'the unshipped backlog passed --max-lag-bytes: run replicate again once the object store takes writes',
  ERR_REPLICATION_GAP:
    'the objects do not form an unbroken history to that LSN: choose a --to-lsn at or after a retained snapshot (see replica-status)',
  ERR_REPLICATION_CORRUPT_OBJECT: 'an object in the bucket is damaged',
  ERR_REPLICATION_NOT_FOUND:
    'check --bucket and --prefix (replica-status lists what a prefix holds)',
  ERR_REPLICATION_OBJECT_STORE:
    'check --endpoint (S3_ENDPOINT), --region, the credentials (S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and the bucket',
}

/** The error's replication code, if it is a `ReplicationError` (of any copy of the package). */
export function replicationCode(error: unknown): string | undefined {
  if (!(error instanceof Error) || error.name !== 'ReplicationError') return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && code in EXIT_CODES ? code : undefined
}

/** The exit code of a `ReplicationError`, or undefined for any other error. */
export function replicationExitCode(error: unknown): number | undefined {
  const code = replicationCode(error)
  return code === undefined ? undefined : EXIT_CODES[code]
}

/** The advice for a replication code ('' if none). */
export function adviceFor(code: string): string {
  return ADVICE[code] ?? ''
}

/** The advice for a `ReplicationError`'s code ('' if none or another error). */
export function replicationAdvice(error: unknown): string {
  const code = replicationCode(error)
  return code === undefined ? '' : adviceFor(code)
}
