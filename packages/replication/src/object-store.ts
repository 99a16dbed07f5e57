import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { ReplicationError, ReplicationErrorCode } from './errors.js'

/**
 * What the package needs of an S3 client: `send(command, { abortSignal })`, as `S3Client` from
 * `@aws-sdk/client-s3` has it. Any object with that method works (the tests' in-memory fake).
 */
export interface S3ClientLike {
  // biome-ignore lint/suspicious/noExplicitAny: the SDK's command and output types vary per command
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>
}

/** Default bound on one request (a hung connection is aborted and retried). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** The status code of an SDK error, if any. */
function statusOf(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
  return meta?.httpStatusCode
}

function nameOf(err: unknown): string | undefined {
  return (err as { name?: string; Code?: string } | undefined)?.name
}

/** A create-only PUT refused because the key exists (HTTP 412). */
function isPreconditionFailed(err: unknown): boolean {
  return statusOf(err) === 412 || nameOf(err) === 'PreconditionFailed'
}

function isNoSuchKey(err: unknown): boolean {
  return statusOf(err) === 404 || nameOf(err) === 'NoSuchKey' || nameOf(err) === 'NotFound'
}

/**
 * The four S3 calls the package makes, on one bucket: create-only PUT, GET, paginated LIST and
 * multi-key DELETE. Each call is bounded by `requestTimeoutMs` and by `signal` (close), and
 * every failure is a `ReplicationError` (`ERR_REPLICATION_OBJECT_STORE`, the SDK's error as
 * `cause`).
 */
export class ObjectStore {
  constructor(
    readonly client: S3ClientLike,
    readonly bucket: string,
    private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    private readonly signal?: AbortSignal,
  ) {}

  /** Sends one command with a timeout; failures wrapped. */
  private async send<T>(command: unknown): Promise<T> {
    const controller = new AbortController()
    const timer = setTimeout(
      () => controller.abort(new Error(`timed out after ${this.requestTimeoutMs} ms`)),
      this.requestTimeoutMs,
    )
    const onAbort = () => controller.abort(this.signal?.reason)
    this.signal?.addEventListener('abort', onAbort, { once: true })
    try {
      if (this.signal?.aborted) throw new Error('closed')
      return (await this.client.send(command, { abortSignal: controller.signal })) as T
    } finally {
      clearTimeout(timer)
      this.signal?.removeEventListener('abort', onAbort)
    }
  }

  private failed(err: unknown, what: string): ReplicationError {
    const detail = err instanceof Error ? err.message : String(err)
    return new ReplicationError(
      ReplicationErrorCode.OBJECT_STORE,
      `${what} in bucket ${this.bucket} failed: ${detail}`,
      { cause: err },
    )
  }

  /**
   * Creates `key` only if it does not exist (`If-None-Match: *`): `'created'`, or `'exists'`
   * when the store refused with 412 Precondition Failed.
   */
  async putIfAbsent(key: string, body: Uint8Array): Promise<'created' | 'exists'> {
    const what = `PUT ${key}`
    try {
      await this.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, IfNoneMatch: '*' }),
      )
      return 'created'
    } catch (err) {
      if (isPreconditionFailed(err)) return 'exists'
      throw this.failed(err, what)
    }
  }

  /** The object's bytes, or undefined if there is no such key. */
  async get(key: string): Promise<Uint8Array | undefined> {
    const what = `GET ${key}`
    try {
      const out = await this.send<{ Body?: { transformToByteArray(): Promise<Uint8Array> } }>(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      )
      if (out.Body === undefined) return new Uint8Array(0)
      return await out.Body.transformToByteArray()
    } catch (err) {
      if (isNoSuchKey(err)) return undefined
      throw this.failed(err, what)
    }
  }

  /** Every key under `prefix` after `startAfter`, in ascending order (all pages). */
  async list(prefix: string, startAfter?: string): Promise<string[]> {
    const what = `LIST ${prefix}`
    const keys: string[] = []
    let token: string | undefined
    try {
      for (;;) {
        const out = await this.send<{
          Contents?: { Key?: string }[]
          IsTruncated?: boolean
          NextContinuationToken?: string
        }>(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
            ...(startAfter === undefined || token !== undefined ? {} : { StartAfter: startAfter }),
          }),
        )
        for (const c of out.Contents ?? []) if (c.Key !== undefined) keys.push(c.Key)
        if (!out.IsTruncated) break
        token = out.NextContinuationToken
        if (token === undefined) break
      }
    } catch (err) {
      throw this.failed(err, what)
    }
    return keys.sort()
  }

  /** Deletes `keys` (1000 per request); missing keys are fine. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000)
      const what = `DELETE ${chunk.length} objects from ${chunk[0]}`
      let out: { Errors?: { Key?: string; Message?: string }[] }
      try {
        out = await this.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
          }),
        )
      } catch (err) {
        throw this.failed(err, what)
      }
      const first = out.Errors?.[0]
      if (first !== undefined) {
        throw this.failed(new Error(`${first.Key}: ${first.Message}`), what)
      }
    }
  }
}
