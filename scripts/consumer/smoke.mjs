// ESM consumer check: loads the installed packages with `import` (their "import" exports).
// Usage: node smoke.mjs [fixture-dir] | node smoke.mjs --make-fixture <dir>
import * as compare from '@alex/compare'
import * as index from '@alex/index'
import * as storage from '@alex/storage'
import * as wal from '@alex/wal'
import * as walIo from '@alex/wal/io'
import * as walTesting from '@alex/wal/testing'
import workload from './workload.cjs'

const mods = { compare, index, storage, wal, walIo, walTesting }
if (storage.AlexStorage === undefined) throw new Error('@alex/storage has no AlexStorage export')
if (process.argv[2] === '--make-fixture') {
  await workload.makeFixture(mods, process.argv[3])
  process.exit(0) // without closing: the next open replays the log
}
await workload.run(mods, process.argv[2])
console.log(`ESM ok on Node ${process.version}`)
