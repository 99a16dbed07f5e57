/**
 * Runs the example of the root README exactly as written (the first ```ts block under
 * "## Example"), against the built @alex/storage, in a temp directory, and checks what it prints.
 * A README example that no longer runs fails here.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const STORAGE = join(REPO, 'packages', 'storage', 'dist', 'index.js')
// tsx's loader by absolute URL: the example runs in a temp directory, outside this package.
const TSX = pathToFileURL(
  join(createRequire(import.meta.url).resolve('tsx/package.json'), '..', 'dist', 'loader.mjs'),
).href
const dir = mkdtempSync(join(tmpdir(), 'alex-readme-'))

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** The first ```ts block after the "## Example" heading of the root README. */
export function readmeExample(readme: string): string {
  const at = readme.indexOf('\n## Example\n')
  if (at < 0) throw new Error('README.md has no "## Example" section')
  const m = /```ts\n([\s\S]*?)```/.exec(readme.slice(at))
  if (m === null) throw new Error('README.md: no ```ts block under "## Example"')
  return m[1]!
}

describe('README example', () => {
  it('runs as written and prints what its comments say', () => {
    const code = readmeExample(readFileSync(join(REPO, 'README.md'), 'utf8'))
    expect(code.split('\n').filter((l) => l.trim() !== '').length).toBeLessThanOrEqual(13)
    for (const call of ['AlexStorage.open(', '.put(', '.get(', '.batch(', '.entries(', '.close()'])
      expect(code).toContain(call)
    expect(code).toMatch(/gt: .*lt: .*limit: /)
    // The package is not installed under its name here: point the import at the built package.
    const file = join(dir, 'example.mts')
    writeFileSync(file, code.replace("'@alex/storage'", `'${pathToFileURL(STORAGE).href}'`))
    const run = spawnSync(process.execPath, ['--import', TSX, file], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 300_000,
    })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
    expect(run.stdout.trim().split('\n')).toEqual([
      'one',
      '2 Uint8Array(1) [ 2 ]',
      '3 Uint8Array(1) [ 3 ]',
    ])
  })
})
