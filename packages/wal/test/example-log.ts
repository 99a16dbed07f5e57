import { Wal } from '../src/index.js'
import { FaultInjectionFileSystem } from '../src/testing.js'

/**
 * The tiny log docs/wal-format.md dissects: a put, a delete, a batch and a checkpoint, written
 * by the real code (through the in-memory file system, so it is byte-for-byte deterministic).
 */
export async function exampleSegment(): Promise<Uint8Array> {
  const fs = new FaultInjectionFileSystem()
  const wal = await Wal.open('/example/wal', { fs })
  await wal.append({ type: 'put', key: 1, value: new TextEncoder().encode('hi') })
  await wal.append({ type: 'delete', key: 2.5 })
  await wal.appendBatch([
    { type: 'put', key: 3, value: new Uint8Array([0xff]) },
    { type: 'delete', key: -4 },
  ])
  await wal.checkpoint(2n)
  await wal.close()
  return fs.readFile('/example/wal/00000000000000000001.wal')
}

/** `xxd`-style dump: offset, 16 bytes in hex, printable ASCII. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = []
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16)
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0'))
    const groups: string[] = []
    for (let i = 0; i < 16; i += 2) groups.push((hex[i] ?? '  ') + (hex[i + 1] ?? '  '))
    const ascii = [...row]
      .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.'))
      .join('')
    lines.push(`${off.toString(16).padStart(8, '0')}: ${groups.join(' ')}  ${ascii}`)
  }
  return lines.join('\n')
}
