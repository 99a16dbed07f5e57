import type { AlexStorage } from '@alex/storage'
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3'
import { expect } from 'vitest'
import type { Target } from './target.js'

/** One write: a put (`value`) or a delete (`value` undefined). */
export type Op = { key: number; value: Uint8Array | undefined }

/**
 * Every write a test issues, by LSN (the log numbers operations in call order: one per put or
 * delete, one per operation of a batch), with the batch ends: the model restores and replicas
 * are compared against. `base` is the store's LSN when the model starts.
 */
export class Model {
  readonly ops: Op[] = []
  readonly ends: boolean[] = []

  constructor(
    private readonly db: AlexStorage,
    readonly base = 0,
  ) {}

  put(key: number, value: Uint8Array): Promise<void> {
    this.ops.push({ key, value })
    this.ends.push(true)
    return this.db.put(key, value)
  }

  delete(key: number): Promise<void> {
    this.ops.push({ key, value: undefined })
    this.ends.push(true)
    return this.db.delete(key)
  }

  batch(ops: Op[]): Promise<void> {
    this.ops.push(...ops)
    for (let i = 0; i < ops.length; i++) this.ends.push(i === ops.length - 1)
    return this.db.batch(
      ops.map((o) =>
        o.value === undefined
          ? { type: 'delete' as const, key: o.key }
          : { type: 'put' as const, key: o.key, value: o.value },
      ),
    )
  }

  get lastLsn(): number {
    return this.base + this.ops.length
  }

  /** Whether `lsn` ends an atomic write (the base counts). */
  isBatchEnd(lsn: number): boolean {
    return lsn === this.base || this.ends[lsn - this.base - 1] === true
  }

  stateAt(lsn: number, start: Map<number, Uint8Array> = new Map()): Map<number, Uint8Array> {
    const state = new Map(start)
    for (let i = 0; i < lsn - this.base; i++) {
      const op = this.ops[i]!
      if (op.value === undefined) state.delete(op.key)
      else state.set(op.key, op.value)
    }
    return state
  }
}

/** A deterministic write storm: puts, deletes and batches over a small key range, many in flight. */
export async function storm(
  model: Model,
  random: () => number,
  writes: number,
  inFlight = 16,
  firstKey = 0,
): Promise<void> {
  let pending: Promise<void>[] = []
  for (let i = 0; i < writes; i++) {
    const r = random()
    const key = firstKey + Math.floor(random() * 64)
    const value = () =>
      Uint8Array.from({ length: Math.floor(random() * 80) }, () => Math.floor(random() * 256))
    if (r < 0.55) pending.push(model.put(key, value()))
    else if (r < 0.7) pending.push(model.delete(key))
    else {
      const n = 1 + Math.floor(random() * 6)
      pending.push(
        model.batch(
          Array.from({ length: n }, () => ({
            key: firstKey + Math.floor(random() * 64),
            value: random() < 0.2 ? undefined : value(),
          })),
        ),
      )
    }
    if (pending.length >= inFlight) {
      await Promise.all(pending)
      pending = []
    }
  }
  await Promise.all(pending)
}

/** A store's entries as a Map. */
export function contents(db: {
  entries(): IterableIterator<[number, Uint8Array]>
}): Map<number, Uint8Array> {
  return new Map([...db.entries()].map(([k, v]) => [k, v.slice()]))
}

/** Asserts two states are equal (keys and bytes). */
export function expectSameState(
  got: Map<number, Uint8Array>,
  want: Map<number, Uint8Array>,
  what = '',
): void {
  const g = [...got.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, v]) => [k, Buffer.from(v).toString('hex')])
  const w = [...want.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([k, v]) => [k, Buffer.from(v).toString('hex')])
  expect(g, what).toEqual(w)
}

/** Resolves once `cond()` holds, checking every few milliseconds (a condition, not a timing). */
export async function waitFor(cond: () => boolean, what: string, limitMs = 120_000): Promise<void> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Object keys under the target's prefix (through the client: works on the fake and the gateway). */
export async function listKeys(t: Target, under = ''): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  for (;;) {
    const out = await t.client.inner.send(
      new ListObjectsV2Command({
        Bucket: t.bucket,
        Prefix: `${t.prefix}/${under}`,
        ContinuationToken: token,
      }),
    )
    for (const c of out.Contents ?? []) keys.push(c.Key)
    if (!out.IsTruncated) break
    token = out.NextContinuationToken
  }
  return keys.sort()
}

export async function getObject(t: Target, key: string): Promise<Uint8Array> {
  const out = await t.client.inner.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }))
  return out.Body.transformToByteArray()
}

/** Overwrites an object behind the package's back (plain PUT, no condition). */
export async function overwrite(t: Target, key: string, bytes: Uint8Array): Promise<void> {
  await t.client.inner.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: bytes }))
}

export async function removeObject(t: Target, key: string): Promise<void> {
  await t.client.inner.send(
    new DeleteObjectsCommand({ Bucket: t.bucket, Delete: { Objects: [{ Key: key }] } }),
  )
}
