/**
 * The bench toolkit: the one copy of the primitives every bench script uses, the bench CLI
 * (src/cli.ts) and the per-package scripts in packages/{index,wal,storage}/bench alike.
 *
 * Dependency-free on purpose (Node built-ins only, no @alex/compare): the per-package scripts
 * import this file by relative path (../../../benchmarks/src/toolkit.js, run by tsx), because
 * @alex/benchmarks depends on @alex/compare, which depends on @alex/storage, which depends on
 * @alex/index and @alex/wal, so a workspace dependency of those packages on @alex/benchmarks
 * would be a cycle in the package graph (turbo's `^build`).
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
export { mix32, Random } from './random.js'
export { median, medianItem, spread } from './stats.js'
