import { AlexStorageError, ErrorCode } from './errors.js'
import { RECORD_HEADER_SIZE } from './format.js'
import { describe, invalidKey, invalidValue, tooLarge } from './write-arguments.js'

/**
 * The bulk ingest's input (docs/architecture.md, "Bulk ingest"): what `db.ingest` accepts, its
 * validation, and the sort for unsorted input. Everything here happens before the ingest touches
 * the store, so a refused input changes nothing on disk.
 */

/** One entry: a key and its value. */
export type IngestEntry = readonly [key: number, value: Uint8Array]

/** The column form, the fastest: `keys[i]` gets `values[i]`. */
export interface IngestColumns {
  keys: ArrayLike<number>
  values: ArrayLike<Uint8Array>
}

/** What `db.ingest` takes: entries (sync or async iterable), or two columns. */
export type IngestSource = Iterable<IngestEntry> | AsyncIterable<IngestEntry> | IngestColumns

/** Options of `db.ingest`. */
export interface IngestOptions {
  /**
   * `true` (default): the keys come in strictly ascending order, and an entry whose key is not
   * above the previous one is refused (`ERR_INVALID_ARGUMENT` naming it). `false`: any order,
   * sorted in memory; of a repeated key the last entry wins.
   */
  sorted?: boolean
}

/** The validated input: keys strictly ascending, values in the same order. */
export interface IngestInput {
  keys: Float64Array
  values: Uint8Array[]
  /** Number of entries. */
  count: number
  /**
   * The caller's own arrays (the column fast path): they may change until the ingest has read
   * them, so the writer checks every entry again as it encodes it.
   */
  borrowed?: boolean
}

/** Validates the options (unknown keys refused). */
export function checkIngestOptions(options: unknown): { sorted: boolean } | AlexStorageError {
  if (options === undefined) return { sorted: true }
  if (options === null || typeof options !== 'object') {
    return bad(`ingest options must be an object, got ${describe(options)}`)
  }
  for (const name of Object.keys(options)) {
    if (name !== 'sorted') return bad(`unknown ingest option '${name}' (known: sorted)`)
  }
  const sorted = (options as IngestOptions).sorted
  if (sorted !== undefined && typeof sorted !== 'boolean') {
    return bad(`ingest option sorted must be a boolean, got ${describe(sorted)}`)
  }
  return { sorted: sorted ?? true }
}

/** Growable columns, filled entry by entry. */
class Collector {
  keys = new Float64Array(1024)
  values: Uint8Array[] = []
  count = 0
  private previous = Number.NEGATIVE_INFINITY

  constructor(
    private readonly sorted: boolean,
    private readonly maxValueBytes: number,
  ) {}

  /** Validates and adds one entry (`at`: its position in the input, for messages). */
  add(key: unknown, value: unknown, at: number): void {
    if (typeof key !== 'number' || key - key !== 0) throw invalidKey(key, at)
    if (!(value instanceof Uint8Array)) throw invalidValue(value, at)
    if (value.length > this.maxValueBytes) throw tooLarge(value, this.maxValueBytes)
    const k = key + 0 // -0 and 0 are the same key
    if (this.sorted) {
      if (!(k > this.previous)) throw outOfOrder(k, this.previous, at)
      this.previous = k
    }
    const i = this.count
    if (i === this.keys.length) {
      const grown = new Float64Array(i * 2)
      grown.set(this.keys)
      this.keys = grown
    }
    this.keys[i] = k
    this.values.push(value)
    this.count = i + 1
  }

  entry(entry: unknown, at: number): void {
    if (entry === null || typeof entry !== 'object') {
      throw bad(`ingest entry ${at} is not a [key, value] pair (got ${describe(entry)})`)
    }
    const e = entry as IngestEntry
    this.add(e[0], e[1], at)
  }

  result(): IngestInput {
    const input = {
      keys: this.keys.subarray(0, this.count),
      values: this.values,
      count: this.count,
    }
    return this.sorted ? input : sortInput(input)
  }
}

/**
 * Reads and validates every entry of `source` (nothing is written meanwhile), sorting them if
 * `sorted` is false. Throws `ERR_INVALID_ARGUMENT` (not an iterable or columns, a malformed
 * entry, a key out of order), `ERR_INVALID_KEY`, `ERR_INVALID_VALUE`, `ERR_VALUE_TOO_LARGE`, or
 * what the iterable throws.
 */
export async function collectInput(
  source: unknown,
  sorted: boolean,
  maxValueBytes: number,
): Promise<IngestInput> {
  const c = new Collector(sorted, maxValueBytes)
  if (source === null || typeof source !== 'object') {
    throw bad(
      `ingest takes an iterable of [key, value] or { keys, values }, got ${describe(source)}`,
    )
  }
  const iterable = source as Partial<Iterable<unknown> & AsyncIterable<unknown>>
  if (typeof iterable[Symbol.iterator] === 'function') {
    let at = 0
    for (const entry of iterable as Iterable<unknown>) c.entry(entry, at++)
  } else if (typeof iterable[Symbol.asyncIterator] === 'function') {
    let at = 0
    for await (const entry of iterable as AsyncIterable<unknown>) c.entry(entry, at++)
  } else {
    const { keys, values } = source as Partial<IngestColumns>
    if (!isArrayLike(keys) || !isArrayLike(values) || keys.length !== values.length) {
      throw bad('ingest columns must be { keys, values }, two array-likes of the same length')
    }
    const n = keys.length
    if (sorted && keys instanceof Float64Array && Array.isArray(values)) {
      const borrowed = checkColumns(keys, values, maxValueBytes)
      if (borrowed !== undefined) return borrowed
    }
    c.keys = new Float64Array(Math.max(n, 1))
    for (let i = 0; i < n; i++) c.add(keys[i], values[i], i)
  }
  return c.result()
}

/**
 * The column fast path: sorted `Float64Array` keys and an array of values are validated where
 * they are and used as they are, without a copy (`borrowed`: the writer checks them again as it
 * encodes, in case the caller changed them meanwhile). Undefined if a key is -0 (stored as +0:
 * then the keys are copied).
 */
function checkColumns(
  keys: Float64Array,
  values: unknown[],
  maxValueBytes: number,
): IngestInput | undefined {
  const n = keys.length
  let previous = Number.NEGATIVE_INFINITY
  for (let i = 0; i < n; i++) {
    const key = keys[i]!
    const value = values[i]
    if (key - key !== 0) throw invalidKey(key, i)
    if (!(value instanceof Uint8Array)) throw invalidValue(value, i)
    if (value.length > maxValueBytes) throw tooLarge(value, maxValueBytes)
    if (!(key > previous)) throw outOfOrder(key, previous, i)
    if (key === 0 && 1 / key < 0) return undefined // -0
    previous = key
  }
  return { keys, values: values as Uint8Array[], count: n, borrowed: true }
}

function isArrayLike(x: unknown): x is ArrayLike<unknown> {
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof (x as ArrayLike<unknown>).length === 'number' &&
    Number.isSafeInteger((x as ArrayLike<unknown>).length)
  )
}

/** Sorts by key, stably; of a repeated key the last entry stays (as a `Map` filled in order). */
function sortInput(input: IngestInput): IngestInput {
  const { keys, values, count } = input
  const order = new Uint32Array(count)
  for (let i = 0; i < count; i++) order[i] = i
  order.sort((a, b) => keys[a]! - keys[b]! || a - b)
  const outKeys = new Float64Array(count)
  const outValues: Uint8Array[] = []
  let n = 0
  for (let j = 0; j < count; j++) {
    const i = order[j]!
    const k = keys[i]!
    if (n > 0 && outKeys[n - 1] === k) {
      outValues[n - 1] = values[i]! // a later entry of the same key wins
      continue
    }
    outKeys[n] = k
    outValues.push(values[i]!)
    n++
  }
  return { keys: outKeys.subarray(0, n), values: outValues, count: n }
}

/** Bytes the records of `input` take in data segments. */
export function recordBytes(input: IngestInput): number {
  let bytes = 0
  for (let i = 0; i < input.count; i++) bytes += RECORD_HEADER_SIZE + input.values[i]!.length
  return bytes
}

export function outOfOrder(key: number, previous: number, at: number): AlexStorageError {
  return bad(
    `ingest entry ${at}: key ${key} is not above the previous key ${previous} (entries must be ` +
      'in strictly ascending key order; pass { sorted: false } to have them sorted)',
  )
}

function bad(message: string): AlexStorageError {
  return new AlexStorageError(ErrorCode.INVALID_ARGUMENT, message)
}
