import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { validateRecord, writeRecord } from '../src/data-record.js'
import { TYPE_PUT, TYPE_TOMBSTONE } from '../src/format.js'
import { lengthFieldOf, offsetOf, packLocation, slotOf } from '../src/location.js'
import { checkSegmentHeader, writeSegmentHeader } from '../src/segment-header.js'
import { buildSnapshot, decodeSnapshot, sealSnapshot } from '../src/snapshot.js'

/**
 * Binds docs/storage-format.md's worked examples (a data segment, section 3.3; a snapshot,
 * section 4.1) to the code: the dumps are parsed out of the document, compared with what the
 * store's encoders write, and decoded by the store's readers. A layout change that forgets the
 * document (or the reverse) fails here.
 */

const DOC = fileURLToPath(new URL('../../../docs/storage-format.md', import.meta.url))

/** The bytes of the hex dump between `<!-- name:start -->` and `<!-- name:end -->`. */
function dump(name: string): Uint8Array {
  const doc = readFileSync(DOC, 'utf8')
  const m = new RegExp(
    `<!-- ${name}:start -->\\n\`\`\`\\n([\\s\\S]*?)\\n\`\`\`\\n<!-- ${name}:end -->`,
  ).exec(doc)
  expect(m, `${name} markers in docs/storage-format.md`).not.toBeNull()
  const out: number[] = []
  let expectedOffset = 0
  for (const line of m![1]!.split('\n')) {
    // "offset  xx xx ... xx   annotation": the offset, then up to 16 two-digit hex bytes.
    expect(Number.parseInt(line.slice(0, 8), 16)).toBe(expectedOffset)
    const tokens = line.slice(8).trim().split(/\s+/)
    let n = 0
    while (n < 16 && n < tokens.length && /^[0-9a-f]{2}$/.test(tokens[n]!)) {
      out.push(Number.parseInt(tokens[n]!, 16))
      n++
    }
    expectedOffset += n
  }
  return new Uint8Array(out)
}

describe('docs/storage-format.md worked examples', () => {
  it('section 3.3: the segment dump is what the store writes, and it decodes', () => {
    const bytes = dump('segment-example')
    expect(bytes.length).toBe(68)
    const built = new Uint8Array(68)
    const view = new DataView(built.buffer)
    writeSegmentHeader(built, 1)
    const second = writeRecord(built, view, 16, TYPE_PUT, 1, 42, new Uint8Array([0x68, 0x69]))
    expect(second).toBe(43)
    expect(writeRecord(built, view, second, TYPE_TOMBSTONE, 2, 7, undefined)).toBe(68)
    expect(built).toEqual(bytes)
    const docView = new DataView(bytes.buffer)
    expect(checkSegmentHeader(bytes, bytes.length, 1)).toBeUndefined()
    expect(validateRecord(bytes, docView, 16, 68)).toBe(27)
    expect(validateRecord(bytes, docView, 43, 68)).toBe(25)
  })

  it('section 4.1: the snapshot dump is what a checkpoint writes, and it decodes', () => {
    const bytes = dump('snapshot-example')
    expect(bytes.length).toBe(72 + 32 + 16)
    const location = packLocation(0, 16, 2)
    expect(location).toBe(32770)
    const header = {
      seq: 1,
      lsn: 2,
      nextSegmentId: 2,
      checkpoints: 1,
      compactions: 0,
      retireBelow: 0,
      segments: [{ slot: 0, id: 1, length: 68, liveBytes: 27 }],
    }
    const builder = buildSnapshot(header, 1)
    builder.keys[0] = 42
    builder.locations[0] = location
    sealSnapshot(builder.bytes)
    expect(builder.bytes).toEqual(bytes)
    const decoded = decodeSnapshot(bytes, 'doc', 1)
    expect({ ...decoded, keys: [...decoded.keys], locations: [...decoded.locations] }).toEqual({
      ...header,
      keys: [42],
      locations: [32770],
    })
    expect([slotOf(location), offsetOf(location), lengthFieldOf(location)]).toEqual([0, 16, 2])
  })
})
