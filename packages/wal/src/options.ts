import { WalError } from './errors.js'
import {
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_SEGMENT_BYTES,
  MAX_VALUE_BYTES_LIMIT,
  MIN_SEGMENT_BYTES,
} from './format.js'
import type { RecoveryMode, SyncMode, WalOptions } from './types.js'

/**
 * Validation of `WalOptions`, shared by `Wal.open` and `Wal.inspect` so that both accept and
 * refuse exactly the same options and plan with the same defaults.
 */

const SYNC_MODES: readonly SyncMode[] = ['always', 'interval', 'none']
const RECOVERY_MODES: readonly RecoveryMode[] = [
  'tolerate-torn-tail',
  'absolute-consistency',
  'point-in-time',
]

/** The options with their defaults applied (the file system aside). */
export interface CheckedOptions {
  sync: SyncMode
  syncIntervalMs: number
  segmentBytes: number
  maxValueBytes: number
  recovery: RecoveryMode
  minNextLsn: number
  blockingSync: boolean
  retainBytes: number
  retainMs: number
}

/** Applies the defaults; throws `ERR_INVALID_ARGUMENT` for an option out of range. */
export function checkOptions(o: WalOptions): CheckedOptions {
  const bad = (message: string) => new WalError('ERR_INVALID_ARGUMENT', message)
  const sync = o.sync ?? 'always'
  if (!SYNC_MODES.includes(sync)) throw bad(`sync must be one of ${SYNC_MODES.join(', ')}`)
  const recovery = o.recovery ?? 'tolerate-torn-tail'
  if (!RECOVERY_MODES.includes(recovery)) {
    throw bad(`recovery must be one of ${RECOVERY_MODES.join(', ')}`)
  }
  const syncIntervalMs = o.syncIntervalMs ?? 100
  if (!(Number.isFinite(syncIntervalMs) && syncIntervalMs > 0)) {
    throw bad('syncIntervalMs must be a positive number')
  }
  const segmentBytes = o.segmentBytes ?? DEFAULT_SEGMENT_BYTES
  if (!(Number.isSafeInteger(segmentBytes) && segmentBytes >= MIN_SEGMENT_BYTES)) {
    throw bad(`segmentBytes must be an integer >= ${MIN_SEGMENT_BYTES}`)
  }
  const maxValueBytes = o.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
  if (
    !(
      Number.isSafeInteger(maxValueBytes) &&
      maxValueBytes >= 0 &&
      maxValueBytes <= MAX_VALUE_BYTES_LIMIT
    )
  ) {
    throw bad(`maxValueBytes must be an integer in [0, ${MAX_VALUE_BYTES_LIMIT}]`)
  }
  const min = o.minNextLsn ?? 1n
  if (typeof min !== 'bigint' || min < 1n || min > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw bad('minNextLsn must be a bigint in [1, 2^53 - 1]')
  }
  const blockingSync = o.blockingSync ?? false
  if (typeof blockingSync !== 'boolean') throw bad('blockingSync must be a boolean')
  const retainBytes = o.retainBytes ?? 0
  if (!(Number.isSafeInteger(retainBytes) && retainBytes >= 0)) {
    throw bad('retainBytes must be an integer >= 0')
  }
  const retainMs = o.retainMs ?? 0
  if (!(typeof retainMs === 'number' && retainMs >= 0 && retainMs <= Number.MAX_SAFE_INTEGER)) {
    throw bad('retainMs must be a number >= 0')
  }
  return {
    sync,
    syncIntervalMs,
    segmentBytes,
    maxValueBytes,
    recovery,
    minNextLsn: Number(min),
    blockingSync,
    retainBytes,
    retainMs,
  }
}
