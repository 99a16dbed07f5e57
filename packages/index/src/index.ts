export { AlexIndex } from './alex-index.js'
export {
  AlexTypeError,
  ErrorCode,
  type ErrorCodeValue,
  InvariantError,
} from './errors.js'
export { checkInvariants } from './invariants.js'
export { type AlexIndexOptions, DEFAULT_OPTIONS } from './options.js'
export { type NormalizedRange, normalizeRange, type RangeOptions } from './range.js'
export type { IndexStats } from './stats.js'
