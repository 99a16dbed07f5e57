import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { exampleSegment, hexDump } from './example-log.js'
import { collect } from './helpers.js'

const DOC = fileURLToPath(new URL('../../../docs/wal-format.md', import.meta.url))
const DIR = '/example/wal'
const SEGMENT = `${DIR}/00000000000000000001.wal`

/** The text between `<!-- name:start -->` and `<!-- name:end -->` in the document. */
function section(doc: string, name: string): string {
  const m = new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`).exec(doc)
  expect(m, `${name} markers in docs/wal-format.md`).not.toBeNull()
  return m?.[1] ?? ''
}

/** The dump inside a fenced block of a section, as text. */
function dumpText(doc: string, name: string): string {
  const body = section(doc, name)
  expect(body.startsWith('```\n') && body.endsWith('\n```')).toBe(true)
  return body.slice(4, -4)
}

/** The bytes an `xxd`-style dump shows (the 39 hex characters after each offset). */
function parseDump(text: string): Uint8Array {
  const out: number[] = []
  for (const line of text.split('\n')) {
    const hex = line.slice(10, 49).replace(/ /g, '')
    for (let i = 0; i < hex.length; i += 2) out.push(Number.parseInt(hex.slice(i, i + 2), 16))
  }
  return new Uint8Array(out)
}

async function openImage(bytes: Uint8Array, recovery?: 'absolute-consistency') {
  const fs = new FaultInjectionFileSystem()
  fs.writeFile(SEGMENT, bytes)
  return { fs, wal: await Wal.open(DIR, { fs, recovery }) }
}

describe('docs/wal-format.md', () => {
  it('shows the exact bytes the code writes for the worked example (format is stable)', async () => {
    const doc = readFileSync(DOC, 'utf8')
    const bytes = await exampleSegment()
    expect(bytes.length).toBe(277)
    expect(hexDump(bytes)).toBe(dumpText(doc, 'example-hex-dump'))
    expect(parseDump(dumpText(doc, 'example-hex-dump'))).toEqual(bytes)
  })

  it('decodes every field of the example as the dump holds it', () => {
    const doc = readFileSync(DOC, 'utf8')
    const bytes = parseDump(dumpText(doc, 'example-hex-dump'))
    const rows = section(doc, 'example-decoded')
      .split('\n')
      .map((line) => /^\| `0x([0-9a-f]+)` \| `([0-9a-f .]+)` \|/.exec(line))
      .filter((m) => m !== null)
    expect(rows.length).toBe(57)
    let watermarks = 0
    for (const row of rows) {
      const [, offset, shown] = row
      const line = row.input
      const at = Number.parseInt(offset as string, 16)
      // `xx .. 00`: the bytes shown, then zeros to the end of the 8-byte field.
      const [head, tail] = (shown as string).split(' .. ')
      const explicit = (head as string).split(' ').map((b) => Number.parseInt(b, 16))
      const width = tail === undefined ? explicit.length : 8
      const field = [...explicit, ...new Array(width - explicit.length).fill(0)]
      expect([...bytes.subarray(at, at + width)], line).toEqual(field)
      if (line.includes('type 5, durable watermark')) {
        expect(bytes[at]).toBe(5)
        watermarks++
      }
    }
    expect(watermarks).toBe(4)
  })

  it('the example replays as the document says', async () => {
    const { wal } = await openImage(await exampleSegment(), 'absolute-consistency')
    expect(wal.checkpointLsn).toBe(2n)
    expect(collect(wal)).toEqual([
      { lsn: 3n, type: 'put', key: 3, value: [0xff] },
      { lsn: 4n, type: 'delete', key: -4, value: undefined },
    ])
    await wal.close()
  })

  it('the two damage scenarios of the example end as the document says', async () => {
    const bytes = await exampleSegment()
    // Write 4's watermark garbled, its checkpoint frame intact: a torn tail, cut at 0xe3.
    const torn = bytes.slice()
    torn.fill(0xa5, 0xe3, 0xe3 + 25)
    const { wal } = await openImage(torn)
    expect(wal.recovery.dropped).toEqual([
      { file: SEGMENT, offset: 0xe3, bytesDropped: 277 - 0xe3, reason: 'bad-record-type' },
    ])
    expect(wal.checkpointLsn).toBe(0n)
    expect(collect(wal).map((r) => r.lsn)).toEqual([1n, 2n, 3n, 4n])
    await wal.close()
    // The put of LSN 1 damaged: write 2's watermark vouches for it.
    const acked = bytes.slice()
    acked[0x6a] = 0
    const fs = new FaultInjectionFileSystem()
    fs.writeFile(SEGMENT, acked)
    await expect(Wal.open(DIR, { fs })).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      offset: 0x51,
      reason: 'checksum-mismatch',
    })
  })

  it('the version-1 example still opens, with the version-1 rules', async () => {
    const doc = readFileSync(DOC, 'utf8')
    const v1 = parseDump(dumpText(doc, 'example-v1-hex-dump'))
    expect(v1.length).toBe(177)
    expect(v1[8]).toBe(1)
    const { fs, wal } = await openImage(v1, 'absolute-consistency')
    expect(wal.checkpointLsn).toBe(2n)
    expect(collect(wal).map((r) => r.lsn)).toEqual([3n, 4n])
    expect(await wal.append({ type: 'delete', key: 9 })).toBe(5n)
    await wal.close()
    // The segment the new open started is version 2.
    expect(fs.readFile(`${DIR}/00000000000000000002.wal`)[8]).toBe(2)
    // Version 1: a bad record followed by an intact one is corruption (no watermark to judge by).
    const damaged = v1.slice()
    damaged[0x51] = (damaged[0x51] as number) ^ 1 // the put's value
    const image = new FaultInjectionFileSystem()
    image.writeFile(SEGMENT, damaged)
    await expect(Wal.open(DIR, { fs: image })).rejects.toMatchObject({
      code: 'ERR_CORRUPTION',
      offset: 0x38,
    })
  })
})
