export type { CrashPoint, CrashPointOptions } from './crash-points.js'
export { forEachCrashPoint } from './crash-points.js'
export type {
  FaultInjectionOptions,
  FaultSpec,
  FsOpEvent,
  FsOpName,
  PowerCutMode,
  PowerCutOptions,
} from './fault-injection-file-system.js'
export {
  FaultInjectionFileSystem,
  MUTATING_OPS,
  SIMULATED_CRASH,
} from './fault-injection-file-system.js'
export { POWER_CUT_MODES, SECTOR_BYTES } from './power-cut-image.js'
