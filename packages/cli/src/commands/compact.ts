import { AlexStorage } from '@alex/storage'
import { bytes } from '../progress.js'
import { mustBeStoreForWriting } from '../store.js'

export interface CompactOptions {
  json?: boolean
}

/** `alexstorage compact <dir>`: opens as the writer, compacts, closes. */
export async function compact(dir: string, options: CompactOptions): Promise<number> {
  await mustBeStoreForWriting(dir, false)
  // ERR_LOCKED if a writer has the store open.
  const db = await AlexStorage.open(dir, { autoCompaction: false })
  let before: ReturnType<AlexStorage['stats']>
  let after: ReturnType<AlexStorage['stats']>
  try {
    before = db.stats()
    await db.compact()
    after = db.stats()
  } finally {
    await db.close()
  }
  const pick = (s: typeof before) => ({
    keys: s.keys,
    liveBytes: s.liveBytes,
    deadBytes: s.deadBytes,
    segments: s.segments,
  })
  if (options.json) {
    const out = { dir: db.dir, before: pick(before), after: pick(after) }
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  } else {
    process.stdout.write(
      [
        `compacted ${db.dir}`,
        `dead bytes     ${bytes(before.deadBytes)} (${before.deadBytes}) -> ${bytes(after.deadBytes)} (${after.deadBytes})`,
        `live bytes     ${bytes(before.liveBytes)} -> ${bytes(after.liveBytes)}`,
        `data segments  ${before.segments} -> ${after.segments}`,
        '',
      ].join('\n'),
    )
  }
  return 0
}
