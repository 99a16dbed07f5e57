import type { WalOp } from '@alex/wal'
import { AlexStorageError, ErrorCode } from './errors.js'

/**
 * Validation of write arguments, done once at the public edge (`put`, `delete`, `batch`): what
 * passes is handed to the write pipeline and the log as it is, and a bad call is refused with a
 * typed error before anything is written anywhere.
 */

/** One operation of `batch()`. */
export type BatchOperation =
  | { type: 'put'; key: number; value: Uint8Array }
  | { type: 'delete'; key: number }

/** A short description of `value` for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'string') return JSON.stringify(value)
  return value === null ? 'null' : typeof value
}

/** `ERR_INVALID_KEY` for `key` (of batch operation `at`, if given). */
export function invalidKey(key: unknown, at?: number): AlexStorageError {
  const where = at === undefined ? '' : ` (batch operation ${at})`
  return new AlexStorageError(
    ErrorCode.INVALID_KEY,
    `key must be a finite number, got ${describe(key)}${where}`,
  )
}

/** `ERR_INVALID_VALUE` for a value that is not a `Uint8Array`. */
export function invalidValue(value: unknown, at?: number): AlexStorageError {
  const where = at === undefined ? '' : ` (batch operation ${at})`
  return new AlexStorageError(
    ErrorCode.INVALID_VALUE,
    `value must be a Uint8Array, got ${describe(value)}${where}`,
  )
}

/** `ERR_VALUE_TOO_LARGE` for a value over `maxValueBytes`. */
export function tooLarge(value: Uint8Array, maxValueBytes: number): AlexStorageError {
  return new AlexStorageError(
    ErrorCode.VALUE_TOO_LARGE,
    `value of ${value.length} bytes is over maxValueBytes (${maxValueBytes})`,
  )
}

function badOperation(at: number, what: string): AlexStorageError {
  return new AlexStorageError(ErrorCode.INVALID_OP, `batch operation ${at} ${what}`)
}

/**
 * Copies and validates a batch (each field read once: an object whose fields change between
 * reads, through getters, cannot make the live state differ from the log); the first invalid
 * operation gives its error instead. A Level user's `'del'` is told to write `'delete'`.
 */
export function copyOperations(
  operations: readonly BatchOperation[],
  maxValueBytes: number,
): WalOp[] | AlexStorageError {
  const n = operations.length
  const ops: WalOp[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const op = operations[i] as BatchOperation | undefined
    if (op === null || typeof op !== 'object') return badOperation(i, 'is not an object')
    const type = op.type
    const key = op.key
    if (typeof key !== 'number' || key - key !== 0) return invalidKey(key, i)
    if (type === 'put') {
      const value = (op as { value: unknown }).value
      if (!(value instanceof Uint8Array)) return invalidValue(value, i)
      if (value.length > maxValueBytes) return tooLarge(value, maxValueBytes)
      ops[i] = { type, key: key + 0, value } // + 0: -0 and 0 are the same key
    } else if (type === 'delete') {
      ops[i] = { type, key: key + 0 }
    } else {
      const hint = (type as string) === 'del' ? " (did you mean 'delete'?)" : ''
      return badOperation(i, `has type ${describe(type)}, not 'put' or 'delete'${hint}`)
    }
  }
  return ops
}

/** `ERR_INVALID_OP` for a `batch` argument that is not an array. */
export function notAnArray(): AlexStorageError {
  return new AlexStorageError(ErrorCode.INVALID_OP, 'batch takes an array of operations')
}
