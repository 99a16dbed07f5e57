import { AlexStorageError, ErrorCode, unknownKey } from './errors.js'
import { describe, invalidKey } from './write-arguments.js'

/**
 * Conditional writes (`db.batch(ops, { ifVersion })`): the options of `batch`, validated once at
 * the public edge, and the conflict error. The check itself is in the write pipeline
 * (`WritePipeline.writeBatchIf`), which sees the writes issued but not yet applied.
 */

/** Options of `batch`. */
export interface BatchOptions {
  /**
   * `[key, version]` pairs: the batch is applied only if each key is still at that version (the
   * LSN `db.version(key)` returned; `undefined`: the key has no value), counting every write
   * issued before the call; else it rejects with `ERR_CONFLICT` and writes nothing.
   */
  ifVersion?: ReadonlyArray<readonly [key: number, version: number | undefined]>
}

/** The validated conditions: key `keys[i]` must be at version `versions[i]`. */
export interface WriteConditions {
  keys: number[]
  versions: (number | undefined)[]
}

const KNOWN_OPTIONS = ['ifVersion']

function badArgument(message: string): AlexStorageError {
  return new AlexStorageError(ErrorCode.INVALID_ARGUMENT, message)
}

/**
 * Validates `batch`'s options: an object whose only key is `ifVersion`, an array of
 * `[key, version]` pairs (key: a finite number; version: a positive integer LSN or `undefined`).
 * Returns the conditions, or the error (`ERR_INVALID_ARGUMENT`, `ERR_INVALID_KEY`).
 */
export function checkBatchOptions(options: unknown): WriteConditions | AlexStorageError {
  if (options === null || typeof options !== 'object') {
    return badArgument(`batch options must be an object, got ${describe(options)}`)
  }
  for (const name in options) {
    if (!KNOWN_OPTIONS.includes(name)) return unknownKey('option', name, KNOWN_OPTIONS)
  }
  const list = (options as BatchOptions).ifVersion
  const conditions: WriteConditions = { keys: [], versions: [] }
  if (list === undefined) return conditions
  if (!Array.isArray(list)) return badArgument('ifVersion must be an array of [key, version]')
  for (let i = 0; i < list.length; i++) {
    const pair = list[i] as unknown
    if (!Array.isArray(pair) || pair.length !== 2) {
      return badArgument(`ifVersion[${i}] must be a [key, version] pair`)
    }
    const key = pair[0] as unknown
    const version = pair[1] as unknown
    if (typeof key !== 'number' || key - key !== 0) return invalidKey(key)
    if (
      version !== undefined &&
      (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    ) {
      return badArgument(
        `ifVersion[${i}]: a version is an LSN (a positive integer) or undefined, got ${describe(version)}`,
      )
    }
    conditions.keys.push(key + 0) // + 0: -0 and 0 are the same key
    conditions.versions.push(version)
  }
  return conditions
}

/** `ERR_CONFLICT`: `key` is at version `actual`, not `expected`. */
export function conflict(
  key: number,
  expected: number | undefined,
  actual: number | undefined,
): AlexStorageError {
  const v = (x: number | undefined) => (x === undefined ? 'absent' : `version ${x}`)
  return new AlexStorageError(
    ErrorCode.CONFLICT,
    `key ${key} is ${v(actual)}, not ${v(expected)}: the batch was not written`,
  )
}
