/**
 * CI smoke test: runs the real CLI with --quick (every available engine, every workload, tiny
 * scale, one repetition) into a temp directory, then checks the JSON: every engine x workload
 * present, sane numbers, every read verified, and the report and charts written there (never
 * into docs/).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { engineIds } from '@alex/compare'
import { afterAll, describe, expect, it } from 'vitest'
import { READERS_ENGINES } from '../src/readers/plan.js'
import { BEGIN_MARKER, END_MARKER } from '../src/report.js'
import type { BenchResults } from '../src/results.js'
import { WORKLOAD_IDS } from '../src/workloads.js'

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))
const DOCS = join(PACKAGE_DIR, '..', 'docs', 'benchmarks.md')
const out = mkdtempSync(join(tmpdir(), 'alex-bench-quick-'))

afterAll(() => {
  rmSync(out, { recursive: true, force: true })
})

describe('bench --quick', () => {
  it('runs every engine and workload, verifies every read, writes JSON, report and charts', () => {
    const docsBefore = existsSync(DOCS) ? statSync(DOCS).mtimeMs : 0
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(PACKAGE_DIR, 'src', 'cli.ts'),
        '--quick',
        '--out',
        out,
        '--tmp',
        out,
      ],
      { cwd: PACKAGE_DIR, encoding: 'utf8', env: { ...process.env, CI: 'true' }, timeout: 500_000 },
    )
    expect(run.stderr).not.toMatch(/BENCH RUN FAILED/)
    expect(run.status).toBe(0)
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchResults
    expect(results.correct).toBe(true)
    expect(results.config.quick).toBe(true)
    expect(results.engines.map((e) => e.id)).toEqual(engineIds)
    expect(results.workloads.map((w) => w.id)).toEqual(WORKLOAD_IDS)
    expect(results.fsyncNs).toBeGreaterThan(0)
    expect(results.finalVerified).toBeGreaterThan(0)
    expect(results.load?.before).toHaveLength(3)
    expect(results.load?.after).toHaveLength(3)
    expect(results.estimateSec).toBeGreaterThan(0)
    expect(run.stdout).toMatch(/estimate: about .* on a quiet machine/)
    expect(run.stdout).toMatch(/load average \(1 \/ 5 \/ 15 min\)/)
    // Issue #14: every engine's peak RSS and bytes on disk; the disk engines wrote something.
    expect(results.footprints?.map((f) => f.engine)).toEqual(engineIds)
    for (const f of results.footprints ?? []) {
      expect(f.peakRssBytes, f.engine).toBeGreaterThanOrEqual(f.harnessRssBytes)
      expect(f.keysAfterLoad).toBe(results.config.scale)
      if (!['map', 'btree'].includes(f.engine)) {
        expect(f.diskAfterLoad.allocated, f.engine).toBeGreaterThan(0)
        expect(f.diskAfterWorkloads.apparent, f.engine).toBeGreaterThan(0)
      }
    }
    expect(run.stdout).toContain('Memory and disk')
    for (const engine of engineIds) {
      for (const workload of WORKLOAD_IDS) {
        const r = results.results.find((x) => x.engine === engine && x.workload === workload)
        expect(r, `${engine}/${workload}`).toBeDefined()
        if (r!.unsupported) {
          // Only ordered scans on the unordered Map reference may be missing, and the readers
          // workload, which runs for AlexStorage and LMDB only.
          if (workload === 'readers') expect(READERS_ENGINES).not.toContain(engine)
          else {
            expect(engine).toBe('map')
            expect(['range-100', 'ycsb-e']).toContain(workload)
          }
          continue
        }
        expect(r!.ops).toBeGreaterThan(0)
        expect(r!.opsPerSec).toBeGreaterThan(0)
        expect(Number.isFinite(r!.nsPerOp)).toBe(true)
        expect(r!.nsPerOp).toBeCloseTo(1e9 / r!.opsPerSec, -1)
        expect(r!.p50).toBeGreaterThan(0)
        expect(r!.p99).toBeGreaterThanOrEqual(r!.p50)
        expect(r!.p999).toBeGreaterThanOrEqual(r!.p99)
        const reads = workload !== 'load' && !workload.includes('put') && workload !== 'insert-seq'
        if (reads && workload !== 'concurrent-64') expect(r!.verifiedValues).toBeGreaterThan(0)
      }
    }
    const report = readFileSync(join(out, 'benchmarks.md'), 'utf8')
    expect(report).toContain(BEGIN_MARKER)
    expect(report).toContain(END_MARKER)
    expect(report).toContain('--quick')
    const charts = readdirSync(join(out, 'charts'))
    for (const w of WORKLOAD_IDS) expect(charts).toContain(`${w}.svg`)
    expect(readFileSync(join(out, 'charts', 'read-uniform.svg'), 'utf8')).toMatch(/^<svg[^>]*>/)
    expect(existsSync(DOCS) ? statSync(DOCS).mtimeMs : 0).toBe(docsBefore)
    // No store directory is left behind.
    expect(readdirSync(out).filter((f) => f.startsWith('alex-bench-'))).toEqual([])
  })
})
