/** Input and state guards shared by every adapter, so all engines reject bad calls alike. */
import { CompareError, ErrorCode } from './errors.js'
import { assertKey } from './key-encoding.js'

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
