import { closest, distance } from 'fastest-levenshtein'
import { invalidOption } from './errors.js'

/** Tuning options of an {@link AlexIndex}; every field is optional. */
export interface AlexIndexOptions {
  /**
   * Largest data node, in slots (a slot is 16 bytes: key and payload). A full node of this size
   * is split instead of expanded, which bounds the cost of any single resize. Default 8192.
   */
  maxDataNodeSlots?: number
  /** Largest model-node fanout (child pointers, a power of two). Default 16384. */
  maxFanout?: number
  /** Density of data nodes built by bulk load and splits. Default 0.7. */
  initialDensity?: number
  /** Density at which a data node is expanded or split before the next insert. Default 0.8. */
  maxDensity?: number
  /** Density a data node is given when it expands. Default 0.55. */
  expandDensity?: number
  /** Density under which a delete contracts the node. Default 0.25. */
  minDensity?: number
  /**
   * Deepest level a split may create. A data node at this depth grows past
   * `maxDataNodeSlots` instead of splitting, so no input can deepen the tree without bound.
   * Default 24.
   */
  maxDepth?: number
}

/** Fully resolved options shared by the nodes of one index. */
export interface Config {
  readonly maxDataNodeSlots: number
  readonly maxFanout: number
  readonly initialDensity: number
  readonly maxDensity: number
  readonly expandDensity: number
  readonly minDensity: number
  readonly maxDepth: number
  /** Most keys a freshly built data node may hold: maxDataNodeSlots * initialDensity. */
  readonly maxBuildKeys: number
}

/** The defaults documented on {@link AlexIndexOptions}. */
export const DEFAULT_OPTIONS: Readonly<Required<AlexIndexOptions>> = Object.freeze({
  maxDataNodeSlots: 8192,
  maxFanout: 16384,
  initialDensity: 0.7,
  maxDensity: 0.8,
  expandDensity: 0.55,
  minDensity: 0.25,
  maxDepth: 24,
})

/**
 * ` (did you mean 'x'?)` when the known name closest to `name` is near enough to be a likely
 * typo, else ''. Shared by the option and range checks: an unknown key is an error rather than
 * silently ignored, and the hint saves a trip to the docs.
 */
export function didYouMean(name: string, known: readonly string[]): string {
  const best = closest(name, known)
  return distance(name, best) <= Math.max(2, Math.ceil(name.length / 2))
    ? ` (did you mean '${best}'?)`
    : ''
}

const KNOWN_OPTIONS = Object.keys(DEFAULT_OPTIONS)

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0
}

function num(options: AlexIndexOptions, name: keyof AlexIndexOptions): number {
  const v = options[name]
  if (v === undefined) return DEFAULT_OPTIONS[name]
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw invalidOption(name, 'must be a finite number')
  return v
}

/**
 * Validates options against their bounds and fills in defaults. An unknown key is
 * `ERR_INVALID_ARGUMENT` (with a did-you-mean hint): a misspelt option must not be ignored.
 */
export function resolveOptions(options: AlexIndexOptions = {}): Config {
  if (options === null || typeof options !== 'object') {
    throw invalidOption('options', 'must be an object')
  }
  for (const name in options) {
    if (!Object.hasOwn(DEFAULT_OPTIONS, name)) {
      throw invalidOption(
        `'${name}'`,
        `is unknown${didYouMean(name, KNOWN_OPTIONS)}; known: ${KNOWN_OPTIONS.join(', ')}`,
      )
    }
  }
  const maxDataNodeSlots = num(options, 'maxDataNodeSlots')
  const maxFanout = num(options, 'maxFanout')
  const initialDensity = num(options, 'initialDensity')
  const maxDensity = num(options, 'maxDensity')
  const expandDensity = num(options, 'expandDensity')
  const minDensity = num(options, 'minDensity')
  const maxDepth = num(options, 'maxDepth')
  if (!Number.isInteger(maxDataNodeSlots) || maxDataNodeSlots < 32 || maxDataNodeSlots > 1 << 24) {
    throw invalidOption('maxDataNodeSlots', 'must be an integer in [32, 2^24]')
  }
  if (!isPowerOfTwo(maxFanout) || maxFanout < 2 || maxFanout > 1 << 20) {
    throw invalidOption('maxFanout', 'must be a power of two in [2, 2^20]')
  }
  if (!(maxDensity > 0.3 && maxDensity <= 0.95)) {
    throw invalidOption('maxDensity', 'must be in (0.3, 0.95]')
  }
  if (!(initialDensity > 0.1 && initialDensity <= maxDensity)) {
    throw invalidOption('initialDensity', 'must be in (0.1, maxDensity]')
  }
  if (!(expandDensity > 0.1 && expandDensity < maxDensity)) {
    throw invalidOption('expandDensity', 'must be in (0.1, maxDensity)')
  }
  if (!(minDensity >= 0 && minDensity < expandDensity / 1.5)) {
    throw invalidOption('minDensity', 'must be in [0, expandDensity / 1.5)')
  }
  if (!Number.isInteger(maxDepth) || maxDepth < 2 || maxDepth > 64) {
    throw invalidOption('maxDepth', 'must be an integer in [2, 64]')
  }
  return Object.freeze({
    maxDataNodeSlots,
    maxFanout,
    initialDensity,
    maxDensity,
    expandDensity,
    minDensity,
    maxDepth,
    maxBuildKeys: Math.max(1, Math.floor(maxDataNodeSlots * initialDensity)),
  })
}
