import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import type { S3ClientLike } from '../src/index.js'

/**
 * An in-memory S3 for the unit tests, honouring the semantics the package relies on:
 *
 * - `PutObject` with `IfNoneMatch: '*'` is create-only: 412 `PreconditionFailed` when the key
 *   exists (s3rver's silent overwrite would hide exactly the fencing bugs that matter);
 * - `GetObject` of a missing key is 404 `NoSuchKey`;
 * - `ListObjectsV2` lists keys in ascending order, `Prefix`, `StartAfter`, `MaxKeys` (default
 *   `pageSize`), `ContinuationToken`/`NextContinuationToken`/`IsTruncated`;
 * - `DeleteObjects` deletes (missing keys are fine);
 * - a request's `abortSignal` aborts it.
 *
 * Faults are injected separately, by `FaultyClient`, which wraps any client (this fake or a real
 * `S3Client` against the gateway), so the same suites run against both.
 */
export class FakeS3 implements S3ClientLike {
  private readonly buckets = new Map<string, Map<string, Uint8Array>>()
  /** Objects per page of a listing (small values exercise pagination). */
  pageSize = 1000
  /** Calls per operation name. */
  readonly calls = new Map<string, number>()

  constructor(buckets: string[] = ['test']) {
    for (const b of buckets) this.buckets.set(b, new Map())
  }

  // biome-ignore lint/suspicious/noExplicitAny: the SDK's commands
  async send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any> {
    const name = operationOf(command)
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1)
    await Promise.resolve() // asynchronous, as a network call
    if (options?.abortSignal?.aborted) throw abortError(options.abortSignal)
    const input = command.input
    const bucket = this.buckets.get(input.Bucket)
    if (bucket === undefined) throw s3Error('NoSuchBucket', 404, `no bucket ${input.Bucket}`)
    switch (name) {
      case 'PutObject': {
        if (input.IfNoneMatch === '*' && bucket.has(input.Key)) {
          throw s3Error(
            'PreconditionFailed',
            412,
            'At least one of the pre-conditions you specified did not hold',
          )
        }
        bucket.set(input.Key, Uint8Array.from(input.Body as Uint8Array))
        return { $metadata: { httpStatusCode: 200 }, ETag: '"x"' }
      }
      case 'GetObject': {
        const body = bucket.get(input.Key)
        if (body === undefined) throw s3Error('NoSuchKey', 404, 'The specified key does not exist.')
        const copy = body.slice()
        return { Body: { transformToByteArray: async () => copy }, ContentLength: copy.length }
      }
      case 'ListObjectsV2': {
        const prefix: string = input.Prefix ?? ''
        const after: string | undefined =
          input.ContinuationToken !== undefined
            ? Buffer.from(input.ContinuationToken, 'base64url').toString()
            : input.StartAfter
        const max = Math.min(input.MaxKeys ?? this.pageSize, this.pageSize)
        const keys = [...bucket.keys()]
          .filter((k) => k.startsWith(prefix) && (after === undefined || k > after))
          .sort()
        const page = keys.slice(0, max)
        const truncated = keys.length > page.length
        return {
          Contents: page.map((Key) => ({ Key, Size: bucket.get(Key)!.length })),
          KeyCount: page.length,
          IsTruncated: truncated,
          ...(truncated
            ? { NextContinuationToken: Buffer.from(page[page.length - 1]!).toString('base64url') }
            : {}),
        }
      }
      case 'DeleteObjects': {
        const deleted = []
        for (const { Key } of input.Delete.Objects as { Key: string }[]) {
          bucket.delete(Key)
          deleted.push({ Key })
        }
        return { Deleted: deleted }
      }
      default:
        throw new Error(`FakeS3: unsupported command ${name}`)
    }
  }

  /** The keys of a bucket, ascending. */
  keys(bucket = 'test', prefix = ''): string[] {
    return [...this.buckets.get(bucket)!.keys()].filter((k) => k.startsWith(prefix)).sort()
  }

  /** An object's bytes (the stored array itself: tests may damage it). */
  object(key: string, bucket = 'test'): Uint8Array | undefined {
    return this.buckets.get(bucket)!.get(key)
  }

  /** Deletes an object behind the package's back. */
  remove(key: string, bucket = 'test'): void {
    this.buckets.get(bucket)!.delete(key)
  }
}

/** The operation name of an SDK command. */
export function operationOf(command: unknown): string {
  if (command instanceof PutObjectCommand) return 'PutObject'
  if (command instanceof GetObjectCommand) return 'GetObject'
  if (command instanceof ListObjectsV2Command) return 'ListObjectsV2'
  if (command instanceof DeleteObjectsCommand) return 'DeleteObjects'
  return (command as { constructor: { name: string } }).constructor.name.replace(/Command$/, '')
}

/** An error shaped as the SDK's service errors (`name`, `$metadata.httpStatusCode`). */
export function s3Error(name: string, status: number, message: string): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } })
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason
  return Object.assign(
    new Error(`aborted: ${reason instanceof Error ? reason.message : String(reason)}`),
    {
      name: 'AbortError',
    },
  )
}

/** What a fault does to the calls it matches. */
export type FaultMode =
  /** Fails with a connection error; the call never reaches the store. */
  | 'fail'
  /** Never answers, until the request's abortSignal fires (its timeout, or close). */
  | 'hang'
  /** Reaches the store (the PUT is applied), then fails: a response lost on the way back. */
  | 'lose-response'

export interface Fault {
  mode: FaultMode
  /** Only this operation ('PutObject', 'GetObject', 'ListObjectsV2', 'DeleteObjects'); default all. */
  op?: string
  /** Only keys (or listing prefixes) containing this; default all. */
  key?: string
  /** How many matching calls it affects (default: until removed). */
  times?: number
}

/**
 * Wraps an S3 client (the fake, or a real one against the gateway) and injects faults on demand:
 * `down()` makes every call fail as an unreachable store, `inject(fault)` one kind of failure for
 * matching calls, `up()` removes them all.
 */
export class FaultyClient implements S3ClientLike {
  private faults: Fault[] = []
  /** Failed calls so far (by fault). */
  injected = 0

  constructor(readonly inner: S3ClientLike) {}

  down(): void {
    this.faults = [{ mode: 'fail' }]
  }

  up(): void {
    this.faults = []
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault })
  }

  // biome-ignore lint/suspicious/noExplicitAny: the SDK's commands
  async send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any> {
    const op = operationOf(command)
    const key: string = command.input?.Key ?? command.input?.Prefix ?? ''
    const fault = this.faults.find(
      (f) => (f.op === undefined || f.op === op) && (f.key === undefined || key.includes(f.key)),
    )
    if (fault === undefined) return this.inner.send(command, options)
    if (fault.times !== undefined && --fault.times <= 0)
      this.faults = this.faults.filter((f) => f !== fault)
    this.injected++
    if (fault.mode === 'fail') {
      throw Object.assign(
        new Error(`connect ECONNREFUSED 127.0.0.1:7480 (injected, ${op} ${key})`),
        {
          name: 'Error',
          code: 'ECONNREFUSED',
        },
      )
    }
    if (fault.mode === 'hang') {
      return new Promise((_, reject) => {
        const signal = options?.abortSignal
        if (signal === undefined) return // hangs for good: the caller did not bound it
        if (signal.aborted) reject(abortError(signal))
        signal.addEventListener('abort', () => reject(abortError(signal)), { once: true })
      })
    }
    await this.inner.send(command, options)
    throw Object.assign(new Error(`socket hang up (injected after ${op} ${key} was applied)`), {
      name: 'TimeoutError',
      code: 'ECONNRESET',
    })
  }
}
