/**
 * The on-disk format of @alex/wal, version 2 (reads version 1 too): every magic number, offset
 * and size in one place.
 * docs/wal-format.md describes the same layout byte by byte. All integers are little-endian;
 * LSNs and segment ids are unsigned 64-bit on disk (this implementation handles values up to
 * 2^53 - 1); keys are IEEE-754 float64.
 */

/** Segment file magic: the ASCII bytes `ALEXWAL\n`. */
export const SEGMENT_MAGIC = new Uint8Array([0x41, 0x4c, 0x45, 0x58, 0x57, 0x41, 0x4c, 0x0a])

/**
 * Format version written in every new segment header. Version 2 added the durable-watermark
 * record (`RECORD_DURABLE`), written first in every group write.
 */
export const FORMAT_VERSION = 2

/**
 * Oldest version this reader accepts. A version-1 segment is read with the version-1 rules: no
 * durable-watermark records, and damage followed by an intact frame is corruption.
 */
export const OLDEST_READABLE_VERSION = 1

/**
 * Segment header layout (56 bytes):
 * magic[8] version:u16 headerLength:u16 reserved:u32 segmentId:u64 prevEndLsn:u64 baseLsn:u64
 * checkpointLsn:u64 reserved:u32 crc32:u32 (over bytes 0..51).
 */
export const SEGMENT_HEADER_BYTES = 56
export const HDR_VERSION = 8
export const HDR_LENGTH = 10
export const HDR_RESERVED_1 = 12
export const HDR_SEGMENT_ID = 16
export const HDR_PREV_END_LSN = 24
export const HDR_BASE_LSN = 32
export const HDR_CHECKPOINT_LSN = 40
export const HDR_RESERVED_2 = 48
export const HDR_CRC = 52

/**
 * Record frame: crc32:u32 length:u32 type:u8 payload[length]. The CRC-32 (zlib polynomial)
 * covers everything after itself: length, type and payload.
 */
export const FRAME_HEADER_BYTES = 9
export const FRAME_CRC = 0
export const FRAME_LENGTH = 4
export const FRAME_TYPE = 8

/** Record types (the frame's type byte). 0 is never valid, so zero-filled bytes never parse. */
export const RECORD_PUT = 1
export const RECORD_DELETE = 2
export const RECORD_BATCH = 3
export const RECORD_CHECKPOINT = 4
/** Durable watermark (format version 2 on; type 5 is `bad-record-type` in a version-1 segment). */
export const RECORD_DURABLE = 5

/** put payload: lsn:u64 key:f64 value[length - 16]. */
export const PUT_FIXED_BYTES = 16
/** delete payload: lsn:u64 key:f64. */
export const DELETE_PAYLOAD_BYTES = 16
/**
 * batch payload: firstLsn:u64 count:u32, then `count` operations, each
 * opType:u8 key:f64 and, for a put (opType 1), valueLength:u32 value[valueLength].
 * Operation i has LSN firstLsn + i.
 */
export const BATCH_FIXED_BYTES = 12
export const BATCH_PUT_FIXED_BYTES = 13
export const BATCH_DELETE_BYTES = 9
/** checkpoint payload: checkpointLsn:u64 nextLsn:u64. */
export const CHECKPOINT_PAYLOAD_BYTES = 16
/**
 * durable-watermark payload: durableLsn:u64 durableEnd:u64. When the write that carries it was
 * issued, every operation up to durableLsn was durable, and so was every byte of this segment
 * before offset durableEnd. Recovery uses it to tell a torn unsynced tail from damage to
 * acknowledged records (docs/wal-format.md, "Recovery").
 */
export const DURABLE_PAYLOAD_BYTES = 16

/** Largest payload a frame may declare: 1 GiB. Longer lengths are `bad-length`. */
export const MAX_PAYLOAD_BYTES = 1 << 30

/** Default and limits of `maxValueBytes`. */
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024
export const MAX_VALUE_BYTES_LIMIT = 512 * 1024 * 1024

/** Default and minimum of `segmentBytes`. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024
export const MIN_SEGMENT_BYTES = 4096

/**
 * The writer extends the active segment's file by up to this many zero bytes ahead of its writes
 * (with ftruncate), so that an fdatasync after an append rarely has to persist a new file size:
 * on ext4 that saves about a fifth of its latency. Readers treat zeros from a frame boundary to
 * the end of a segment as padding (docs/wal-format.md, "Zero padding").
 */
export const PREALLOCATE_BYTES = 1024 * 1024

/**
 * Inside that padding the writer also writes real zeros up to this many bytes ahead of its
 * frames, so an fdatasync rarely has to persist a block allocation either (a write into a hole
 * allocates). Same bytes as the padding: readers see no difference.
 */
export const ZERO_FILL_BYTES = 64 * 1024

/** Segment files are named `<20-digit decimal segment id>.wal`; creation goes through `.tmp`. */
export const SEGMENT_SUFFIX = '.wal'
export const TEMP_SUFFIX = '.tmp'
export const SEGMENT_ID_DIGITS = 20
