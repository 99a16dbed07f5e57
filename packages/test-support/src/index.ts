export { hashDir } from './hash-dir.js'
export { rng } from './rng.js'
export { tempDir } from './temp-dir.js'
export { valueFor } from './value-for.js'
