/**
 * The bench toolkit: the one copy of the primitives every bench script uses, the bench CLI
 * (benchmarks/src/cli.ts) and the per-package scripts in packages/{index,wal,storage}/bench
 * alike. It lives here, in the private package at the bottom of the graph (Node built-ins only),
 * because @alex/benchmarks depends on @alex/compare, which depends on @alex/storage, which
 * depends on @alex/index and @alex/wal: a dependency of those packages on @alex/benchmarks would
 * be a cycle.
 */
export { makeDataset, makeQueries } from './bench-dataset.js'
export {
  type BenchFlagSpec,
  type BenchFlags,
  benchFlags,
  type FlagSpec,
  type ParsedFlags,
  parseFlags,
  positiveInt,
} from './flags.js'
export {
  distinct,
  hilbert24,
  KEY_SET_ORDER,
  KEY_SETS,
  type KeySetName,
  makeKeySet,
  shuffle,
} from './key-sets.js'
export { mix32, Random, ScrambledZipf, Zipf } from './random.js'
export { median, medianItem, spread } from './stats.js'
