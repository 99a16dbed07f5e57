import { join } from 'node:path'
import type { FileHandle, FileSystem } from '@alex/wal/io'
import { crc32, getU64, setU64 } from '@alex/wal/io'
import {
  BEACON_BYTES,
  BEACON_CRC,
  BEACON_EPOCH,
  BEACON_FILE,
  BEACON_LSN,
  BEACON_MAGIC,
  BEACON_PUBLISHED_AT,
  BEACON_VERSION,
  BEACON_VERSION_AT,
  READERS_DIR,
} from './format.js'

/**
 * The visibility beacon (docs/storage-format.md, section 11): a 36-byte file in which the writer
 * publishes, after every apply step and before any of the applied writes is acknowledged, the
 * highest LSN its readers may show. A reader in another process or thread tails the log up to
 * that LSN and never further, so it never shows a write the writer has not acknowledged (a
 * record can be in the log file before its fsync completes).
 *
 * The writer rewrites the bytes in place with one `pwrite` (no fsync: the page cache is shared
 * by every process of the machine, and after a power cut no reader outlives the writer). A
 * reader can see a torn rewrite; the CRC tells, and the reader reads again on its next poll.
 */

/** What a beacon says. */
export interface Beacon {
  /** Every write with an LSN up to this is acknowledged and in the log file. */
  lsn: number
  /** Random number of the writer instance that published it (a new writer changes it). */
  epoch: number
  /** When it was published (ms since the Unix epoch, the writer's clock). */
  publishedAt: number
}

/** Path of the beacon of store `dir`. */
export function beaconPath(dir: string): string {
  return join(dir, READERS_DIR, BEACON_FILE)
}

/** Encodes `beacon` into `buf` (36 bytes). */
export function encodeBeacon(buf: Uint8Array, beacon: Beacon): void {
  const view = new DataView(buf.buffer, buf.byteOffset, BEACON_BYTES)
  buf.set(BEACON_MAGIC, 0)
  view.setUint16(BEACON_VERSION_AT, BEACON_VERSION, true)
  view.setUint16(BEACON_VERSION_AT + 2, 0, true)
  setU64(view, BEACON_LSN, beacon.lsn)
  view.setUint32(BEACON_EPOCH, beacon.epoch >>> 0, true)
  view.setUint32(BEACON_EPOCH + 4, 0, true)
  view.setFloat64(BEACON_PUBLISHED_AT, beacon.publishedAt, true)
  view.setUint32(BEACON_CRC, crc32(buf, 0, BEACON_CRC), true)
}

/** Decodes a beacon; `undefined` if the bytes are not a complete, intact one (torn, foreign). */
export function decodeBeacon(buf: Uint8Array, length: number): Beacon | undefined {
  if (length < BEACON_BYTES) return undefined
  for (let i = 0; i < BEACON_MAGIC.length; i++) if (buf[i] !== BEACON_MAGIC[i]) return undefined
  const view = new DataView(buf.buffer, buf.byteOffset, BEACON_BYTES)
  if (view.getUint32(BEACON_CRC, true) !== crc32(buf, 0, BEACON_CRC)) return undefined
  if (view.getUint16(BEACON_VERSION_AT, true) !== BEACON_VERSION) return undefined
  return {
    lsn: getU64(view, BEACON_LSN),
    epoch: view.getUint32(BEACON_EPOCH, true),
    publishedAt: view.getFloat64(BEACON_PUBLISHED_AT, true),
  }
}

/**
 * The writer's side: created (or taken over from a previous writer) at open, rewritten by
 * `publish`. Publishing allocates nothing: it reuses one buffer.
 */
export class BeaconWriter {
  private readonly handle: FileHandle
  private readonly buf = new Uint8Array(BEACON_BYTES)
  private readonly epoch = (Math.random() * 0x100000000) >>> 0
  private last = -1
  private closed = false

  private constructor(handle: FileHandle) {
    this.handle = handle
  }

  /** Creates `readers/` and the beacon if missing and publishes `lsn`. */
  static open(fs: FileSystem, dir: string, lsn: number): BeaconWriter {
    fs.mkdir(join(dir, READERS_DIR))
    const path = beaconPath(dir)
    const handle = fs.open(path, fs.exists(path) ? 'r+' : 'w+')
    const writer = new BeaconWriter(handle)
    try {
      writer.publish(lsn)
    } catch (err) {
      handle.close()
      throw err
    }
    return writer
  }

  /** Publishes `lsn` (no-op if unchanged). Must run before the writes up to it are acknowledged. */
  publish(lsn: number): void {
    if (lsn === this.last || this.closed) return
    encodeBeacon(this.buf, { lsn, epoch: this.epoch, publishedAt: Date.now() })
    this.handle.write(this.buf, 0, BEACON_BYTES, 0)
    this.last = lsn
  }

  /** Closes the file; the last published LSN stays for readers that outlive the writer. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.handle.close()
  }
}

/**
 * The reader's side: reads the beacon, keeping the file open between reads. `read` returns
 * `undefined` while no writer has published yet or the bytes are torn (read again later).
 */
export class BeaconReader {
  private readonly fs: FileSystem
  private readonly path: string
  private handle: FileHandle | undefined
  private readonly buf = new Uint8Array(BEACON_BYTES)

  constructor(fs: FileSystem, dir: string) {
    this.fs = fs
    this.path = beaconPath(dir)
  }

  /** The current beacon, or `undefined` (none yet, or torn: try again). */
  read(): Beacon | undefined {
    if (this.handle === undefined) {
      try {
        this.handle = this.fs.open(this.path, 'r')
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw err
      }
    }
    const got = this.handle.read(this.buf, 0, BEACON_BYTES, 0)
    return decodeBeacon(this.buf, got)
  }

  close(): void {
    this.handle?.close()
    this.handle = undefined
  }
}
