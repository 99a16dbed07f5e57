import { WalError } from './errors.js'
import type { WalOp } from './types.js'

/**
 * Validation of the operations `Wal.append` and `Wal.appendBatch` take (the log's public edge;
 * the store's seam, `appendValidated`, skips it because the store validated already): returns
 * the error to reject with, or undefined.
 */
export function checkOp(op: WalOp, maxValueBytes: number): WalError | undefined {
  if (op === null || typeof op !== 'object') {
    return new WalError('ERR_INVALID_OP', 'an operation must be an object')
  }
  if (op.type !== 'put' && op.type !== 'delete') {
    return new WalError('ERR_INVALID_OP', `unknown operation type ${String((op as WalOp).type)}`)
  }
  if (typeof op.key !== 'number' || !Number.isFinite(op.key)) {
    return new WalError('ERR_INVALID_KEY', `key must be a finite number, got ${String(op.key)}`)
  }
  if (op.type === 'put') {
    const value = op.value
    if (!(value instanceof Uint8Array)) {
      return new WalError('ERR_INVALID_VALUE', 'value must be a Uint8Array')
    }
    if (value.length > maxValueBytes) {
      return new WalError(
        'ERR_VALUE_TOO_LARGE',
        `value of ${value.length} bytes exceeds maxValueBytes (${maxValueBytes})`,
      )
    }
  }
  return undefined
}

/** `ERR_VALUE_TOO_LARGE` for a batch of `bytes` encoded, over the 1 GiB record limit. */
export function batchTooLarge(bytes: number): WalError {
  return new WalError(
    'ERR_VALUE_TOO_LARGE',
    `batch encodes to ${bytes} bytes, over the 1 GiB limit`,
  )
}
