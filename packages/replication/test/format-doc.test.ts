import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as format from '../src/object-format.js'

/**
 * docs/replication-format.md against the code: every constant the tables name has the offset the
 * table gives, and the worked example is byte for byte what `encodeLog` writes; objects decode
 * back to what was encoded, and any damage is refused.
 */

const doc = readFileSync(new URL('../../../docs/replication-format.md', import.meta.url), 'utf8')

describe('docs/replication-format.md', () => {
  it('gives every named offset as the code defines it', () => {
    const rows = [...doc.matchAll(/^\| (\d+) \| [^|]+ \| [^|]+ \| `([A-Z_]+)` \|/gm)]
    expect(rows.length).toBeGreaterThan(15)
    for (const [, offset, name] of rows) {
      expect((format as Record<string, unknown>)[name!], name).toBe(Number(offset))
    }
    const entries = [...doc.matchAll(/^\| (\d+) \| [^|]+ \| [^|]+ \| `(ENTRY_[A-Z_]+)` \|$/gm)]
    for (const [, offset, name] of entries) {
      expect((format as Record<string, unknown>)[name!], name).toBe(Number(offset))
    }
    expect(format.HEADER_BYTES).toBe(104)
    expect(format.CHECKSUM_BYTES).toBe(32)
    expect(format.OP_FIXED_BYTES).toBe(10)
  })

  it('shows exactly the bytes encodeLog writes in its worked example', () => {
    const example = doc.slice(doc.indexOf('## Worked example'))
    const block = example.slice(
      example.indexOf('```') + 3,
      example.indexOf('```', example.indexOf('```') + 3),
    )
    const hex = block
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).slice(1).join(''))
      .join('')
    const encoded = format.encodeLog({
      lineage: '00112233445566778899aabbccddeeff',
      seq: 2,
      baseLsn: 5,
      prevChecksum: 'ab'.repeat(32),
      createdMs: 1764547200000,
      ops: [
        { lsn: 6, type: 'put', key: 7, value: new Uint8Array([0x61, 0x62]), last: false },
        { lsn: 7, type: 'delete', key: 8, last: true },
      ],
    })
    expect(Buffer.from(encoded.bytes).toString('hex')).toBe(hex)
    expect(example).toContain(encoded.checksum)
  })
})

describe('objects', () => {
  const lineage = 'ff'.repeat(16)

  it('decode back to what was encoded: log objects, snapshots, the marker', () => {
    const ops: format.LogOp[] = [
      { lsn: 11, type: 'put', key: -1.5, value: new Uint8Array([1, 2, 3]), last: true },
      { lsn: 12, type: 'delete', key: 2 ** 52, last: false },
      { lsn: 13, type: 'put', key: 0, value: new Uint8Array(0), last: true },
    ]
    const log = format.encodeLog({
      lineage,
      seq: 9,
      baseLsn: 10,
      prevChecksum: format.ZERO_CHECKSUM,
      createdMs: 5,
      ops,
    })
    const decoded = format.decodeObject(log.bytes, 'log', format.KIND_LOG)
    expect(decoded.checksum).toBe(log.checksum)
    expect(decoded.header).toMatchObject({
      lineage,
      seq: 9,
      baseLsn: 10,
      lastLsn: 13,
      count: 3,
      createdMs: 5,
    })
    expect(format.logOps(decoded, 'log')).toEqual(ops)

    const snap = format.encodeSnapshot({
      lineage,
      seq: 9,
      lsn: 13,
      prevChecksum: log.checksum,
      createdMs: 6,
      keys: [1, 2.5, 7],
      values: [new Uint8Array([1]), new Uint8Array(0), new Uint8Array([7, 7])],
    })
    const s = format.decodeObject(snap.bytes, 'snap', format.KIND_SNAPSHOT)
    expect(s.header.prevChecksum).toBe(log.checksum)
    const { keys, values } = format.snapshotEntries(s, 'snap')
    expect([...keys]).toEqual([1, 2.5, 7])
    expect(values.map((v) => [...v])).toEqual([[1], [], [7, 7]])

    const marker = format.encodeLineage(lineage, 42, 7)
    expect(format.decodeObject(marker.bytes, 'lineage', format.KIND_LINEAGE).header).toMatchObject({
      lineage,
      baseLsn: 42,
    })
  })

  it('refuses every single flipped byte, a truncation, another kind and another version', () => {
    const log = format.encodeLog({
      lineage,
      seq: 1,
      baseLsn: 0,
      prevChecksum: format.ZERO_CHECKSUM,
      createdMs: 1,
      ops: [{ lsn: 1, type: 'put', key: 1, value: new Uint8Array([9, 9]), last: true }],
    })
    for (let i = 0; i < log.bytes.length; i++) {
      const damaged = log.bytes.slice()
      damaged[i]! ^= 0x10
      expect(() => format.decodeObject(damaged, 'x', format.KIND_LOG), `byte ${i}`).toThrow(
        expect.objectContaining({ code: 'ERR_REPLICATION_CORRUPT_OBJECT' }),
      )
    }
    expect(() =>
      format.decodeObject(log.bytes.subarray(0, log.bytes.length - 1), 'x', format.KIND_LOG),
    ).toThrow(/checksum|body/)
    expect(() => format.decodeObject(log.bytes, 'x', format.KIND_SNAPSHOT)).toThrow(/kind/)
  })
})
