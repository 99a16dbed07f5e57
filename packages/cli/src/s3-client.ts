import { S3Client } from '@aws-sdk/client-s3'
import { CliError, Exit } from './errors.js'
import {
  adviceFor,
  replicationAdvice,
  replicationCode,
  replicationExitCode,
} from './replication-errors.js'

/**
 * The S3 client of the replication commands, from their flags and the environment. Loaded only by
 * those commands (alexstorage.ts imports them lazily), so the others never load the AWS SDK.
 */

/** The flags every replication command takes (where the objects are, how to reach them). */
export interface BucketFlags {
  bucket: string
  prefix: string
  endpoint?: string
  region?: string
  forcePathStyle?: boolean
  requestTimeoutMs?: number
}

/** The settings in effect, each from a flag, the environment or a default. */
export interface S3Settings {
  bucket: string
  prefix: string
  endpoint: string | undefined
  region: string
  forcePathStyle: boolean
  /** Where the credentials come from (not the secrets themselves). */
  credentials: 'S3_ACCESS_KEY_ID' | 'AWS_ACCESS_KEY_ID' | 'the AWS SDK default chain'
  requestTimeoutMs: number
  /** `s3://bucket/prefix` (and the endpoint), for messages. */
  where: string
}

/** Default bound on one request, as the library's (a hung connection is aborted). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

function usage(message: string): CliError {
  return new CliError('ERR_USAGE', `${message} (see --help)`, Exit.UNUSABLE)
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** `true`/`1`/`yes` (any case) is true, `false`/`0`/`no`/empty false; anything else is refused. */
function envFlag(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined
  const v = value.trim().toLowerCase()
  if (v === 'true' || v === '1' || v === 'yes') return true
  if (v === 'false' || v === '0' || v === 'no' || v === '') return false
  throw usage(`${name}=${value} is not true or false`)
}

/**
 * Resolves the settings: a flag wins over the environment. Endpoint: `--endpoint`, `S3_ENDPOINT`,
 * `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` (none: AWS S3 itself). Region: `--region`,
 * `S3_REGION`, `AWS_REGION`, `AWS_DEFAULT_REGION`, `us-east-1`. Path-style addressing:
 * `--force-path-style`, `S3_FORCE_PATH_STYLE`. Credentials: `S3_ACCESS_KEY_ID` with
 * `S3_SECRET_ACCESS_KEY`, else `AWS_ACCESS_KEY_ID` with `AWS_SECRET_ACCESS_KEY` (and
 * `AWS_SESSION_TOKEN`), else the SDK's default chain (profiles, SSO, instance roles).
 */
export function resolveS3Settings(flags: BucketFlags, env = process.env): S3Settings {
  if (flags.bucket.trim() === '') throw usage('--bucket must not be empty')
  const endpoint =
    nonEmpty(flags.endpoint) ??
    nonEmpty(env.S3_ENDPOINT) ??
    nonEmpty(env.AWS_ENDPOINT_URL_S3) ??
    nonEmpty(env.AWS_ENDPOINT_URL)
  if (endpoint !== undefined) {
    let url: URL | undefined
    try {
      url = new URL(endpoint)
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw usage(`the endpoint "${endpoint}" is not an http:// or https:// URL`)
    }
  }
  const region =
    nonEmpty(flags.region) ??
    nonEmpty(env.S3_REGION) ??
    nonEmpty(env.AWS_REGION) ??
    nonEmpty(env.AWS_DEFAULT_REGION) ??
    'us-east-1'
  const forcePathStyle =
    flags.forcePathStyle ?? envFlag('S3_FORCE_PATH_STYLE', env.S3_FORCE_PATH_STYLE) ?? false
  for (const [id, secret] of [
    ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'],
    ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  ] as const) {
    if ((nonEmpty(env[id]) === undefined) !== (nonEmpty(env[secret]) === undefined)) {
      throw usage(`${id} and ${secret} must be set together`)
    }
  }
  const credentials =
    nonEmpty(env.S3_ACCESS_KEY_ID) !== undefined
      ? 'S3_ACCESS_KEY_ID'
      : nonEmpty(env.AWS_ACCESS_KEY_ID) !== undefined
        ? 'AWS_ACCESS_KEY_ID'
        : 'the AWS SDK default chain'
  const place = `s3://${flags.bucket}/${flags.prefix.replace(/^\/+/, '')}`
  return {
    bucket: flags.bucket,
    prefix: flags.prefix,
    endpoint,
    region,
    forcePathStyle,
    credentials,
    requestTimeoutMs: flags.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    where: endpoint === undefined ? place : `${place} at ${endpoint}`,
  }
}

/**
 * The client. Checksums only when an operation requires them: the SDK's default (CRC32 on every
 * request and response) is refused by gateways that predate it, such as Ceph radosgw 16.
 */
export function createS3Client(settings: S3Settings, env = process.env): S3Client {
  // The SDK warns on every start under Node < 22 that its releases after January 2027 will need
  // Node 22; this tool pins its SDK version (see the README), so the warning is noise on each
  // run. Set the variable to "false" to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const fromEnv =
    settings.credentials === 'S3_ACCESS_KEY_ID'
      ? {
          accessKeyId: env.S3_ACCESS_KEY_ID!.trim(),
          secretAccessKey: env.S3_SECRET_ACCESS_KEY!.trim(),
          ...(nonEmpty(env.S3_SESSION_TOKEN) ? { sessionToken: env.S3_SESSION_TOKEN!.trim() } : {}),
        }
      : settings.credentials === 'AWS_ACCESS_KEY_ID'
        ? {
            accessKeyId: env.AWS_ACCESS_KEY_ID!.trim(),
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY!.trim(),
            ...(nonEmpty(env.AWS_SESSION_TOKEN)
              ? { sessionToken: env.AWS_SESSION_TOKEN!.trim() }
              : {}),
          }
        : undefined
  return new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    ...(fromEnv === undefined ? {} : { credentials: fromEnv }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

/**
 * What an SDK or network error says, in one phrase: the S3 error name and HTTP status, or the
 * system error's code and message. (Node reports a refused connection to a name with several
 * addresses as an AggregateError with an empty message: its first inner error is used.)
 */
export function s3Detail(error: unknown): string {
  const e = error as {
    name?: string
    message?: string
    code?: string
    $metadata?: { httpStatusCode?: number }
    errors?: unknown[]
    cause?: unknown
  }
  if (e === null || typeof e !== 'object') return String(error)
  const status = e.$metadata?.httpStatusCode
  if (status !== undefined && status > 0) {
    const message = e.message && e.message !== 'UnknownError' ? `: ${e.message}` : ''
    return `${e.name ?? 'error'} (HTTP ${status})${message}`
  }
  if ((e.message ?? '') === '' && Array.isArray(e.errors) && e.errors.length > 0) {
    return s3Detail(e.errors[0])
  }
  const code = e.code !== undefined && !(e.message ?? '').includes(e.code) ? `${e.code}: ` : ''
  const message = e.message || e.name || 'unknown error'
  return `${code}${message}`
}

/** A failed request of the CLI's own (a probe, a listing) as `ERR_REPLICATION_OBJECT_STORE`. */
export function objectStoreError(error: unknown, settings: S3Settings, what: string): CliError {
  return new CliError(
    'ERR_REPLICATION_OBJECT_STORE',
    `${what} ${settings.where} failed: ${s3Detail(error)}; ${adviceFor('ERR_REPLICATION_OBJECT_STORE')}`,
    Exit.UNUSABLE,
    { cause: error },
  )
}

/**
 * A `ReplicationError` in the tool's words: the same code and exit code (replication-errors.ts),
 * its message on one line with the SDK's detail when the message lacks it, where, and advice.
 * Other errors are returned as they are.
 */
export function replicationCliError(error: unknown, settings: S3Settings): unknown {
  const code = replicationCode(error)
  if (code === undefined) return error
  const err = error as Error
  let message = err.message.replace(/\s*\n\s*/g, ' ')
  if (code === 'ERR_REPLICATION_OBJECT_STORE' && err.cause !== undefined) {
    const detail = s3Detail(err.cause)
    if (!message.includes(detail)) message = `${message.replace(/:\s*$/, '')}: ${detail}`
  }
  if (!message.includes(settings.where)) message = `${message} (${settings.where})`
  const advice = replicationAdvice(error)
  return new CliError(
    code,
    advice === '' ? message : `${message}; ${advice}`,
    replicationExitCode(error)!,
    {
      cause: error,
    },
  )
}
