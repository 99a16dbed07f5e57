import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AlexStorage, instruments } from '@alex/storage'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type MetricsApp, startMetricsApp } from '../src/metrics-app.js'

/**
 * The example end to end: a store wired to the OpenTelemetry Prometheus exporter, written to,
 * then `/metrics` scraped over HTTP on 127.0.0.1 and the store's metrics found by name, with the
 * values the store reports itself.
 */

let dir: string
let app: MetricsApp
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'alex-metrics-example-'))
  app = await startMetricsApp(dir)
})
afterEach(async () => {
  await app.close()
  rmSync(dir, { recursive: true, force: true })
})

/** The exposition's samples: `name{labels} value` lines, comments skipped. */
async function scrape(url: string): Promise<{ name: string; labels: string; value: number }[]> {
  const response = await fetch(url)
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toContain('text/plain')
  const samples = []
  for (const line of (await response.text()).split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line)
    if (m !== null) samples.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) })
  }
  return samples
}

/** The Prometheus name of an instrument (dots become underscores). */
const prom = (name: string) => name.replaceAll('.', '_')

describe('examples/metrics', () => {
  it('serves the store metrics on 127.0.0.1, by name, with the store values', async () => {
    expect(new URL(app.url).hostname).toBe('127.0.0.1')
    const db = app.db
    const value = new Uint8Array(100).fill(7)
    for (let k = 0; k < 200; k++) await db.put(k, value)
    await Promise.all(Array.from({ length: 100 }, (_, k) => db.put(k, value))) // 100 overwrites
    await db.delete(5)
    await db.checkpoint()
    for (let k = 0; k < 200; k++) db.get(k)
    const reader = await AlexStorage.open(dir, { readOnly: true })
    await reader.catchUp()
    const stats = db.stats()

    const samples = await scrape(app.url)
    const mine = (name: string) =>
      samples.filter((s) => s.name === name && s.labels.includes(`alexstorage_dir="${db.dir}"`))
    const one = (name: string) => {
      const found = mine(name)
      expect(found.length, name).toBeGreaterThanOrEqual(1)
      return found[0]!.value
    }
    expect(one(`${prom(instruments.putDuration.name)}_count`)).toBe(300)
    expect(mine(`${prom(instruments.putDuration.name)}_bucket`).length).toBeGreaterThan(10)
    expect(one(`${prom(instruments.groupSize.name)}_sum`)).toBe(301)
    expect(one(`${prom(instruments.fsyncDuration.name)}_count`)).toBeGreaterThan(0)
    expect(one(`${prom(instruments.logBytes.name)}_total`)).toBeGreaterThan(300 * 100)
    expect(one(`${prom(instruments.checkpointDuration.name)}_count`)).toBe(1)
    expect(one(prom(instruments.deadBytes.name))).toBe(stats.deadBytes)
    expect(stats.deadBytes).toBeGreaterThan(0)
    expect(one(`${prom(instruments.cacheHits.name)}_total`)).toBe(stats.cache.hits)
    expect(one(`${prom(instruments.cacheMisses.name)}_total`)).toBe(stats.cache.diskReads)
    const lag = mine(prom(instruments.readerLag.name))
    expect(lag.map((s) => s.value)).toEqual([0])
    expect(lag[0]!.labels).toContain(`process_pid="${process.pid}"`)

    await db.compact()
    const after = await scrape(app.url)
    const compactions = after.find(
      (s) => s.name === `${prom(instruments.compactionDuration.name)}_count`,
    )
    expect(compactions?.value).toBe(1)
    await reader.close()
  })

  it('answers 404 off /metrics', async () => {
    const response = await fetch(new URL('/other', app.url))
    expect(response.status).toBe(404)
    await response.text()
  })
})
