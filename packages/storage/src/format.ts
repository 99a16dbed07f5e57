/**
 * Format constants shared by every file of the store (docs/storage-format.md is the reference;
 * the two must change together, and a layout change bumps the version it belongs to).
 */

/** Data segment header: magic "AXDS". */
export const SEGMENT_MAGIC = 0x53445841 // 'A' 'X' 'D' 'S' read as a little-endian u32
/** Data segment format version written by this code and the only one it reads. */
export const SEGMENT_VERSION = 1
/** Size of the data segment header; the first record starts here. */
export const SEGMENT_HEADER_SIZE = 16
/**
 * Segment header flag (section 3.1): the segment was written by a bulk ingest, directly and not
 * through the log. Recovery's full scan counts such a segment only once the log's checkpoint
 * covers its records (the ingest committed); otherwise it is an ingest cut short.
 */
export const SEGMENT_FLAG_INGEST = 1
/** Segment header field offsets (section 3.1): magic u8[4], version u16, flags u16, id u32. */
export const SEGMENT_MAGIC_AT = 0
export const SEGMENT_VERSION_AT = 4
export const SEGMENT_FLAGS_AT = 6
export const SEGMENT_ID_AT = 8
/** The header's crc32, over the bytes before it. */
export const SEGMENT_CRC_AT = 12

/** Record header size: crc32 (4), value length (4), type (1), LSN (8), key (8). */
export const RECORD_HEADER_SIZE = 25
/** Offset of the crc32 field in a record. */
export const RECORD_CRC = 0
/** Offset of the value-length field in a record. */
export const RECORD_LENGTH = 4
/** Offset of the type byte in a record. */
export const RECORD_TYPE = 8
/** Offset of the LSN field in a record. */
export const RECORD_LSN = 9
/** Offset of the key field in a record. */
export const RECORD_KEY = 17
/** Record type: a put (key has this value). */
export const TYPE_PUT = 1
/** Record type: a tombstone (key was deleted). */
export const TYPE_TOMBSTONE = 2

/** Snapshot magic, "AXSNAP01". */
export const SNAPSHOT_MAGIC = 'AXSNAP01'
/** Snapshot end marker, "AXSE". */
export const SNAPSHOT_END_MAGIC = 'AXSE'
/** Snapshot format version written by this code and the only one it reads. */
export const SNAPSHOT_VERSION = 1
/** Size of the snapshot header. */
export const SNAPSHOT_HEADER_SIZE = 64
/** Snapshot header field offsets (section 4). The magic, u8[8], is at 0. */
export const SNAPSHOT_VERSION_AT = 8
export const SNAPSHOT_FLAGS_AT = 10
export const SNAPSHOT_HEADER_SIZE_AT = 12
export const SNAPSHOT_SEQ_AT = 16
export const SNAPSHOT_LSN_AT = 24
export const SNAPSHOT_KEY_COUNT_AT = 32
export const SNAPSHOT_SEGMENT_COUNT_AT = 40
export const SNAPSHOT_NEXT_SEGMENT_ID_AT = 44
export const SNAPSHOT_CHECKPOINTS_AT = 48
export const SNAPSHOT_COMPACTIONS_AT = 52
export const SNAPSHOT_RETIRE_BELOW_AT = 56
/** The header's crc32, over the bytes before it. */
export const SNAPSHOT_HEADER_CRC_AT = 60
/** Size of one segment-table entry in a snapshot. */
export const SNAPSHOT_TABLE_ENTRY_SIZE = 32
/** Segment-table entry field offsets: slot u32, id u32, trusted length u64, live bytes u64. */
export const TABLE_SLOT_AT = 0
export const TABLE_ID_AT = 4
export const TABLE_LENGTH_AT = 8
export const TABLE_LIVE_BYTES_AT = 16
/** Reserved u64, written as 0. */
export const TABLE_RESERVED_AT = 24
/** Bytes per key in a snapshot: the key (f64) plus its location (f64), in two arrays. */
export const SNAPSHOT_BYTES_PER_KEY = 16
/** Size of the snapshot trailer (crc32 + end marker). */
export const SNAPSHOT_TRAILER_SIZE = 8
/** Offset of the end marker within the trailer (after the whole-file crc32). */
export const TRAILER_END_MAGIC_AT = 4

/**
 * A location packs a slot, a byte offset and (for short values) the value length into one
 * integer below 2^53 (section 2 of the format doc): `(slot * 2^27 + offset) * 2^11 + length`.
 */
export const LOCATION_LENGTH_BITS = 11
/** `2^LOCATION_LENGTH_BITS`. */
export const LOCATION_LENGTH_FACTOR = 2048
/** Length field meaning "2047 bytes or more: read the length from the record header". */
export const LOCATION_LONG = 2047
/** `2^27`: offsets are below this. */
export const LOCATION_OFFSET_FACTOR = 134217728
/** Exclusive upper bound on slots (15 bits). */
export const MAX_SLOTS = 32768
/** Exclusive upper bound on a segment's size: offsets have 27 bits (128 MiB). */
export const MAX_SEGMENT_BYTES = 134217728

/** Lock file first line. */
export const LOCK_HEADER = 'alexstorage-lock 1'

/** Name of the lock file. */
export const LOCK_FILE = 'LOCK'
/** Name of the write-ahead-log subdirectory. */
export const WAL_DIR = 'wal'
/**
 * Name of the marker of an unfinished backup (docs/storage-format.md, section 1): `backup()`
 * makes it durable before any other file of the copy and removes it last; `open` refuses a
 * directory that holds it (`ERR_INCOMPLETE_BACKUP`).
 */
export const BACKUP_INCOMPLETE = 'BACKUP-INCOMPLETE'
/** Suffix of every file being written and not yet renamed into place. */
export const TEMP_SUFFIX = '.tmp'

/**
 * The readers directory (docs/storage-format.md, section 11): where the writer publishes the
 * LSN its readers may show (`beacon`) and where every live reader registers (`<token>.reader`).
 */
export const READERS_DIR = 'readers'
/** Name of the writer's visibility beacon inside `READERS_DIR`. */
export const BEACON_FILE = 'beacon'
/** Suffix of a reader's registration file inside `READERS_DIR`. */
export const READER_SUFFIX = '.reader'

/**
 * Beacon layout (36 bytes): magic[4] version:u16 reserved:u16 visibleLsn:u64 epoch:u32
 * reserved:u32 publishedAtMs:f64 crc32:u32 (over bytes 0..31).
 */
export const BEACON_MAGIC = new Uint8Array([0x41, 0x58, 0x56, 0x42]) // "AXVB"
export const BEACON_VERSION = 1
export const BEACON_BYTES = 36
export const BEACON_VERSION_AT = 4
export const BEACON_LSN = 8
export const BEACON_EPOCH = 16
export const BEACON_PUBLISHED_AT = 24
export const BEACON_CRC = 32

/** Registration file first line; the file is rewritten in place, padded to this size. */
export const READER_HEADER = 'alexstorage-reader 1'
export const READER_FILE_BYTES = 256
