import { join } from 'node:path'
import { crc32 } from './checksum.js'
import { WalError } from './errors.js'
import type { FileSystem } from './file-system.js'
import { FORMAT_VERSION, SEGMENT_HEADER_BYTES, SEGMENT_SUFFIX, TEMP_SUFFIX } from './format.js'
import { readWholeFile } from './read-whole-file.js'
import {
  decodeSegmentHeader,
  parseSegmentFileName,
  type SegmentHeader,
  segmentFileName,
} from './segment.js'
import {
  type DurableMark,
  durableMarkAfter,
  type FrameDamage,
  hasValidFrameAfter,
  scanFrames,
} from './segment-reader.js'
import type { DamageReason, RecoveryDrop, RecoveryMode, RecoveryReport } from './types.js'

/**
 * Open-time recovery: reads every segment, validates it, and decides (without changing anything)
 * what the log is, what must be truncated or removed, and where appends continue. `Wal.open`
 * then applies the plan in a crash-safe order; `Wal.inspect` returns its report and applies
 * nothing.
 *
 * Rules (docs/wal-format.md, "Recovery"):
 * - Segments whose every operation is at or below the newest checkpoint are obsolete (left over
 *   from an interrupted deletion); their damage does not matter and they are removed.
 * - In the others, the first problem found in segment order decides. Damage that a torn write can
 *   explain (soft), in the newest segment, is a torn tail if it cannot hold an acknowledged
 *   record: in a version-2 segment, if its first affected LSN (the one after the last intact
 *   frame) is above, and its offset at or past, every durable watermark in the segment's intact
 *   frames (before or after the damage); in a version-1 segment, if no intact frame follows it.
 *   Everything else is corruption. Earlier segments were fsynced before the next one was
 *   created, and segment headers are written to a temporary file, fsynced and renamed, so neither
 *   can be torn by a crash.
 * - `'tolerate-torn-tail'` truncates a torn tail and refuses corruption; `'absolute-consistency'`
 *   refuses both; `'point-in-time'` truncates at the first problem and removes every later
 *   segment.
 */

/** A segment that stays part of the log (or is obsolete, to be deleted after the new segment). */
export interface KeptSegment {
  id: number
  path: string
  prevEndLsn: number
  baseLsn: number
  /** LSN following the last intact operation. */
  endLsn: number
  /** Bytes of the file that are part of the log (after any truncation). */
  validEnd: number
  /** CRC-32 of bytes [0, validEnd), so replay can verify nothing changed since open. */
  checksum: number
}

/** What `planRecovery` decided. */
export interface RecoveryPlan {
  /** Segments still part of the log, oldest first (replay reads these). */
  segments: KeptSegment[]
  /** Obsolete segments (wholly checkpointed), to delete once the new segment exists. */
  obsolete: KeptSegment[]
  /**
   * Truncate this file (the newest kept segment) at this offset, then fsync it, before anything
   * else: a torn tail, or zero padding.
   */
  truncate: { path: string; offset: number } | undefined
  /** Files to unlink before creating the new segment (temporary files, dropped segments). */
  remove: string[]
  /** Newest checkpoint LSN. */
  checkpointLsn: number
  /** `prevEndLsn` of the new segment: the LSN following the last kept operation. */
  endLsn: number
  /** First LSN to hand out (>= endLsn; never reuses an LSN any segment header reserved). */
  nextLsn: number
  /** Id of the new segment. */
  nextSegmentId: number
  report: RecoveryReport
}

interface Scanned {
  id: number
  path: string
  size: number
  header: SegmentHeader | undefined
  headerDamage: string | undefined
  endLsn: number
  validEnd: number
  checkpointLsn: number
  damage: FrameDamage | undefined
  /**
   * True if the damage may hold an acknowledged record: version 1, an intact frame follows it;
   * version 2, it is at or below a durable watermark (`mark`).
   */
  acknowledged: boolean
  /** Version 2: the largest durable watermark in the segment's intact frames. */
  mark: DurableMark
  checksum: number
}

interface Problem {
  index: number
  offset: number
  reason: DamageReason
  hard: boolean
  detail: string
}

const TEMP_PATTERN = new RegExp(`^\\d{20}\\${SEGMENT_SUFFIX}\\${TEMP_SUFFIX}$`)

function scanSegment(fs: FileSystem, path: string, id: number): Scanned {
  const buf = readWholeFile(fs, path)
  const result: Scanned = {
    id,
    path,
    size: buf.length,
    header: undefined,
    headerDamage: undefined,
    endLsn: 0,
    validEnd: 0,
    checkpointLsn: 0,
    damage: undefined,
    acknowledged: false,
    mark: { lsn: 0, end: 0 },
    checksum: 0,
  }
  const decoded = decodeSegmentHeader(buf, id)
  if (!decoded.ok) {
    if (decoded.problem === 'version') {
      throw new WalError(
        'ERR_UNSUPPORTED_VERSION',
        `${path}: segment format version ${decoded.version} is newer than this reader (${FORMAT_VERSION})`,
        { file: path, offset: 8 },
      )
    }
    result.headerDamage = decoded.detail
    return result
  }
  const header = decoded.header
  result.header = header
  const scan = scanFrames(buf, SEGMENT_HEADER_BYTES, header.baseLsn, header.version)
  result.endLsn = scan.endLsn
  result.validEnd = scan.validEnd
  result.checkpointLsn = scan.checkpointLsn
  result.damage = scan.damage
  if (scan.damage) {
    const at = scan.damage.offset
    if (header.version === 1) {
      result.acknowledged = hasValidFrameAfter(buf, at, scan.endLsn)
    } else {
      // The damage's first affected LSN is scan.endLsn; the watermarks before the damage are
      // below it by construction (checked by scanFrames), so only later ones can cover it.
      const after = durableMarkAfter(buf, at)
      const mark = {
        lsn: Math.max(scan.durableLsn, after.lsn),
        end: Math.max(scan.durableEnd, after.end),
      }
      result.mark = mark
      result.acknowledged = scan.endLsn <= mark.lsn || at < mark.end
    }
  }
  result.checksum = crc32(buf, 0, scan.validEnd)
  return result
}

/** Why damage that a torn write could explain is nevertheless corruption. */
function acknowledgedDetail(s: Scanned): string {
  if (!s.acknowledged) return ''
  if (s.header?.version === 1) return ', followed by intact records'
  return `, at or below the durable watermark (LSN ${s.mark.lsn}, offset ${s.mark.end}): acknowledged data`
}

function corruption(path: string, offset: number, reason: DamageReason, detail: string): WalError {
  return new WalError('ERR_CORRUPTION', `${path} at offset ${offset}: ${detail} (${reason})`, {
    file: path,
    offset,
    reason,
  })
}

const REASON_TEXT: Record<DamageReason, string> = {
  'truncated-header': 'record header cut short',
  'truncated-payload': 'record runs past the end of the segment',
  'checksum-mismatch': 'record checksum mismatch',
  'bad-record-type': 'unknown record type',
  'bad-length': 'impossible record length',
  'bad-payload': 'malformed record with a valid checksum',
  'lsn-out-of-order': 'LSN does not follow the previous one',
  'bad-segment-header': 'damaged segment header',
  'missing-segment': 'records between segments are missing',
  'after-corruption': 'follows corruption',
}

/** The segment files of `dir` (scanned, in id order), its temporary files, the largest id. */
function readDirectory(
  fs: FileSystem,
  dir: string,
): { segs: Scanned[]; temps: string[]; maxId: number } {
  const names = fs.exists(dir) ? fs.readdir(dir) : []
  const temps: string[] = []
  const ids: number[] = []
  let maxId = 0
  for (const name of names) {
    if (TEMP_PATTERN.test(name)) {
      temps.push(join(dir, name))
      maxId = Math.max(maxId, Number(name.slice(0, 20)))
      continue
    }
    const id = parseSegmentFileName(name)
    if (id > 0) ids.push(id)
  }
  ids.sort((a, b) => a - b)
  for (const id of ids) maxId = Math.max(maxId, id)
  const segs = ids.map((id) => scanSegment(fs, join(dir, segmentFileName(id)), id))
  return { segs, temps, maxId }
}

/** Where segment `s` (at `index`, `first` the oldest relevant one) fails to follow `prev`. */
function linkProblem(
  s: Scanned & { header: SegmentHeader },
  index: number,
  first: number,
  prev: Scanned | undefined,
  checkpointLsn: number,
): Problem | undefined {
  if (index === first) {
    if (s.id === 1 || s.header.prevEndLsn - 1 <= checkpointLsn) return undefined
    return {
      index,
      offset: 0,
      reason: 'missing-segment',
      hard: true,
      detail: `segments before ${s.id} are missing (operations from LSN ${s.header.prevEndLsn - 1} down are not checkpointed)`,
    }
  }
  if (prev === undefined || prev.endLsn === s.header.prevEndLsn) return undefined
  const gap = s.id !== prev.id + 1
  return {
    index,
    offset: 0,
    reason: gap ? 'missing-segment' : 'lsn-out-of-order',
    hard: true,
    detail: gap
      ? `segment(s) between ${prev.id} and ${s.id} are missing`
      : `segment ${s.id} expects the previous one to end at LSN ${s.header.prevEndLsn}, it ends at ${prev.endLsn}`,
  }
}

/** The first problem among the relevant segments (from `first` on), in log order. */
function firstProblem(segs: Scanned[], first: number, checkpointLsn: number): Problem | undefined {
  for (let i = first; i < segs.length; i++) {
    const s = segs[i] as Scanned
    if (!s.header) {
      return {
        index: i,
        offset: 0,
        reason: 'bad-segment-header',
        hard: true,
        detail: s.headerDamage ?? '',
      }
    }
    const link = linkProblem(
      s as Scanned & { header: SegmentHeader },
      i,
      first,
      segs[i - 1],
      checkpointLsn,
    )
    if (link) return link
    if (s.damage) {
      const newest = i === segs.length - 1
      return {
        index: i,
        offset: s.damage.offset,
        reason: s.damage.reason,
        hard: s.damage.hard || !newest || s.acknowledged,
        detail: REASON_TEXT[s.damage.reason] + acknowledgedDetail(s),
      }
    }
  }
  return undefined
}

/** How the log is cut at a problem the mode repairs. */
interface Cut {
  truncate: { path: string; offset: number } | undefined
  dropped: RecoveryDrop[]
  /** Files to unlink. */
  remove: string[]
  /** Segments kept: those before this index. */
  keepCount: number
}

/**
 * Refuses `problem` with `ERR_CORRUPTION` unless `mode` repairs it, and otherwise cuts the log
 * there: truncates the segment at the problem (or removes it, if its header is bad) and removes
 * every later segment.
 */
function cutAt(segs: Scanned[], problem: Problem, mode: RecoveryMode): Cut {
  const s = segs[problem.index] as Scanned
  if (mode === 'absolute-consistency' || (mode === 'tolerate-torn-tail' && problem.hard)) {
    throw corruption(s.path, problem.offset, problem.reason, problem.detail)
  }
  const cut: Cut = { truncate: undefined, dropped: [], remove: [], keepCount: problem.index }
  if (problem.offset >= SEGMENT_HEADER_BYTES && s.header) {
    cut.truncate = { path: s.path, offset: problem.offset }
    cut.dropped.push({
      file: s.path,
      offset: problem.offset,
      bytesDropped: s.size - problem.offset,
      reason: problem.reason,
    })
    cut.keepCount = problem.index + 1
  } else {
    cut.remove.push(s.path)
    cut.dropped.push({ file: s.path, offset: 0, bytesDropped: s.size, reason: problem.reason })
  }
  for (let i = problem.index + 1; i < segs.length; i++) {
    const later = segs[i] as Scanned
    cut.remove.push(later.path)
    cut.dropped.push({
      file: later.path,
      offset: 0,
      bytesDropped: later.size,
      reason: 'after-corruption',
    })
  }
  return cut
}

/** The segments before `keepCount`: obsolete ones (before `first`) and those the log keeps. */
function keptSegments(
  segs: Scanned[],
  keepCount: number,
  first: number,
): { kept: KeptSegment[]; obsolete: KeptSegment[] } {
  const kept: KeptSegment[] = []
  const obsolete: KeptSegment[] = []
  for (let i = 0; i < keepCount; i++) {
    const s = segs[i] as Scanned
    const next = segs[i + 1]
    const h = s.header
    const seg: KeptSegment = {
      id: s.id,
      path: s.path,
      prevEndLsn: h ? h.prevEndLsn : 0,
      baseLsn: h ? h.baseLsn : 0,
      // A damaged obsolete segment ends where its successor says it does.
      endLsn: i < first ? (next?.header?.prevEndLsn ?? s.endLsn) : s.endLsn,
      validEnd: s.validEnd,
      checksum: s.checksum,
    }
    if (i < first) obsolete.push(seg)
    else kept.push(seg)
  }
  return { kept, obsolete }
}

/**
 * Reads and validates the log in `dir` and returns what to do (see the module comment). Only
 * reads: a missing directory plans like an empty one (`Wal.open` creates it first).
 */
export function planRecovery(
  fs: FileSystem,
  dir: string,
  mode: RecoveryMode,
  minNextLsn: number,
): RecoveryPlan {
  const { segs, temps, maxId } = readDirectory(fs, dir)

  // Newest checkpoint, and the highest LSN any header reserved (never handed out again).
  let checkpointLsn = 0
  let reserved = 0
  for (const s of segs) {
    if (s.header) {
      checkpointLsn = Math.max(checkpointLsn, s.header.checkpointLsn, s.checkpointLsn)
      reserved = Math.max(reserved, s.header.baseLsn - 1, s.endLsn - 1)
    }
  }

  // Obsolete prefix: everything before a segment whose predecessors are all checkpointed.
  let first = 0
  for (let j = segs.length - 1; j >= 1; j--) {
    const h = (segs[j] as Scanned).header
    if (h && h.prevEndLsn - 1 <= checkpointLsn) {
      first = j
      break
    }
  }

  const problem = firstProblem(segs, first, checkpointLsn)
  const cut: Cut = problem
    ? cutAt(segs, problem, mode)
    : { truncate: undefined, dropped: [], remove: [], keepCount: segs.length }

  // The newest kept segment's zero padding (left by a crash) is cut off like a torn tail, but
  // not reported: it is not damage.
  const newestKept = segs[cut.keepCount - 1]
  if (cut.truncate === undefined && cut.keepCount - 1 >= first && newestKept?.header) {
    if (newestKept.size > newestKept.validEnd) {
      cut.truncate = { path: newestKept.path, offset: newestKept.validEnd }
    }
  }
  const { kept, obsolete } = keptSegments(segs, cut.keepCount, first)

  const nextSegmentId = maxId + 1
  const last = kept[kept.length - 1]
  // With no segment left, a later open must not take the (new) first segment for one whose
  // predecessors went missing: it starts right after the checkpoint.
  const endLsn = last ? last.endLsn : nextSegmentId === 1 ? 1 : checkpointLsn + 1
  const nextLsn = Math.max(endLsn, minNextLsn, checkpointLsn + 1, reserved + 1)
  let records = 0
  // Operations up to the checkpoint may be gone with their segments: the checkpoint LSN is the
  // floor of the last LSN the log holds.
  let lastLsn = checkpointLsn
  for (const seg of kept) {
    if (seg.endLsn > seg.baseLsn) {
      lastLsn = Math.max(lastLsn, seg.endLsn - 1)
      records += Math.max(0, seg.endLsn - Math.max(seg.baseLsn, checkpointLsn + 1))
    }
  }
  return {
    segments: kept,
    obsolete,
    truncate: cut.truncate,
    remove: [...temps, ...cut.remove],
    checkpointLsn,
    endLsn,
    nextLsn,
    nextSegmentId,
    report: {
      mode,
      segments: kept.length,
      segmentIds: kept.map((seg) => seg.id),
      records,
      checkpointLsn: BigInt(checkpointLsn),
      lastLsn: BigInt(lastLsn),
      nextLsn: BigInt(nextLsn),
      dropped: cut.dropped,
      removedFiles: [...temps, ...obsolete.map((seg) => seg.path)],
    },
  }
}
