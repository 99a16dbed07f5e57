/** Input and state guards shared by every adapter, so all engines reject bad calls alike. */
import { CompareError, ErrorCode } from './errors.js'
import { assertKey } from './key-encoding.js'
import type { BulkEntries } from './types.js'

/** The ERR_CLOSED of a store used after `close()` (see store-base.ts). */
export function closedError(engine: string): CompareError {
  return new CompareError(ErrorCode.CLOSED, `${engine} store is closed`)
}

/** Throws ERR_CLOSED (see store-base.ts). */
export function throwClosed(engine: string): never {
  throw closedError(engine)
}

/** Throws ERR_INVALID_VALUE unless `value` is a Uint8Array. */
export function assertValue(value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CompareError(ErrorCode.INVALID_VALUE, 'value must be a Uint8Array')
  }
}

/** Validates every operation of a batch before any is applied, so a bad batch writes nothing. */
export function assertBatch(ops: readonly { type: string; key: number; value?: unknown }[]): void {
  for (const op of ops) {
    assertKey(op.key)
    if (op.type === 'put') assertValue(op.value)
    else if (op.type !== 'delete') {
      throw new CompareError(ErrorCode.INVALID_OP, `unknown batch operation ${String(op.type)}`)
    }
  }
}

/** A Buffer sharing the bytes of `value`, for bindings that insist on Buffer (no copy). */
export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value)
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/**
 * Validates the input of `bulkLoad` before anything is written: two columns of equal length,
 * finite keys (strictly ascending when `sorted`; -0 counts as +0), Uint8Array values.
 */
export function assertBulk(entries: unknown, sorted: boolean): asserts entries is BulkEntries {
  const e = entries as Partial<BulkEntries> | null
  if (e === null || typeof e !== 'object' || e.keys === undefined || e.values === undefined) {
    throw new CompareError(ErrorCode.INVALID_ARGUMENT, 'bulkLoad takes { keys, values }')
  }
  const { keys, values } = e
  if (!(keys instanceof Float64Array) && !Array.isArray(keys)) {
    throw new CompareError(ErrorCode.INVALID_ARGUMENT, 'keys must be a Float64Array or an array')
  }
  if (!Array.isArray(values) || values.length !== keys.length) {
    throw new CompareError(ErrorCode.INVALID_ARGUMENT, 'values must be an array as long as keys')
  }
  let previous = Number.NEGATIVE_INFINITY
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number
    assertKey(key)
    assertValue(values[i])
    if (sorted) {
      if (!(key > previous)) {
        throw new CompareError(
          ErrorCode.INVALID_ARGUMENT,
          `keys are not strictly ascending at index ${i} (${key} after ${previous}); pass { sorted: false }`,
        )
      }
      previous = key
    }
  }
}
