// CommonJS consumer check: loads the installed packages with `require` (their "require" exports).
// Usage: node smoke.cjs [fixture-dir]
'use strict'

const mods = {
  compare: require('@alex/compare'),
  index: require('@alex/index'),
  storage: require('@alex/storage'),
  wal: require('@alex/wal'),
  walIo: require('@alex/wal/io'),
  walTesting: require('@alex/wal/testing'),
}
const workload = require('./workload.cjs')

if (typeof mods.storage.AlexStorage !== 'function') {
  throw new Error('@alex/storage has no AlexStorage export')
}
if (!require.resolve('@alex/storage').endsWith('.cjs'))
  throw new Error('require did not get the CJS build')
workload.run(mods, process.argv[2]).then(
  () => console.log(`CJS ok on Node ${process.version}`),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
