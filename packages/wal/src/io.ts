export { crc32 } from './checksum.js'
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
export type { FileHandle, FileSystem, OpenFlags } from './file-system.js'
export { NodeFileSystem, nodeFileSystem } from './node-file-system.js'
export { POWER_CUT_MODES, SECTOR_BYTES } from './power-cut-image.js'
export { ReadOnlyOverlayFileSystem } from './read-only-file-system.js'
export { readWholeFile } from './read-whole-file.js'
export { getU64, setU64 } from './u64.js'
