import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'
import { exampleSegment, hexDump } from './example-log.js'
import { collect } from './helpers.js'

const DOC = fileURLToPath(new URL('../../../docs/wal-format.md', import.meta.url))

describe('docs/wal-format.md', () => {
  it('shows the exact bytes the code writes for the worked example (format is stable)', async () => {
    const doc = readFileSync(DOC, 'utf8')
    const m =
      /<!-- example-hex-dump:start -->\n```\n([\s\S]*?)\n```\n<!-- example-hex-dump:end -->/.exec(
        doc,
      )
    expect(m, 'hex dump markers in docs/wal-format.md').not.toBeNull()
    const bytes = await exampleSegment()
    expect(bytes.length).toBe(177)
    expect(hexDump(bytes)).toBe(m?.[1])
  })

  it('the example replays as the document says', async () => {
    const fs = new FaultInjectionFileSystem()
    fs.writeFile('/example/wal/00000000000000000001.wal', await exampleSegment())
    const wal = await Wal.open('/example/wal', { fs, recovery: 'absolute-consistency' })
    expect(wal.checkpointLsn).toBe(2n)
    expect(collect(wal)).toEqual([
      { lsn: 3n, type: 'put', key: 3, value: [0xff] },
      { lsn: 4n, type: 'delete', key: -4, value: undefined },
    ])
    await wal.close()
  })
})
