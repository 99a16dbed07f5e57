import { describe, expect, it } from 'vitest'
import { forEachCrashPoint } from './crash-points.js'
import { FaultInjectionFileSystem } from './fault-injection-file-system.js'

/** Writes a file atomically: temp file, sync, rename, syncDir. */
async function atomicWrite(fs: FaultInjectionFileSystem, data: Uint8Array): Promise<void> {
  const h = fs.open('/d/f.tmp', 'w+')
  h.write(data, 0, data.length, 0)
  await h.sync()
  h.close()
  fs.rename('/d/f.tmp', '/d/f')
  await fs.syncDir('/d')
}

describe('forEachCrashPoint', () => {
  it('visits every crash point of a workload, in every mode', async () => {
    const base = new FaultInjectionFileSystem()
    base.writeFile('/d/f', new Uint8Array([1]))
    const seen: number[] = []
    const checked = await forEachCrashPoint({
      base,
      workload: (fs) => atomicWrite(fs, new Uint8Array([2, 2])),
      check: async (survivor, point) => {
        if (point.mode === 'drop') seen.push(point.index)
        // The atomic-write pattern: the old or the new contents, never a mix.
        const now = [...survivor.readFile('/d/f')]
        expect([[1], [2, 2]]).toContainEqual(now)
        if (point.index > point.total) expect(now).toEqual([2, 2])
      },
    })
    // create, write, sync, rename, syncDir: 5 operations, 6 cut points, 4 modes.
    expect(seen).toEqual([1, 2, 3, 4, 5, 6])
    expect(checked).toBe(24)
  })

  it('catches a workload that forgets the directory sync', async () => {
    const base = new FaultInjectionFileSystem()
    base.writeFile('/d/f', new Uint8Array([1]))
    const failures: number[] = []
    await forEachCrashPoint({
      base,
      modes: ['drop'],
      workload: async (fs) => {
        const h = fs.open('/d/f.tmp', 'w+')
        h.write(new Uint8Array([2]), 0, 1, 0)
        await h.sync()
        fs.rename('/d/f.tmp', '/d/f')
      },
      check: async (survivor, point) => {
        // A caller would have acknowledged after the rename: the cut after it loses the write.
        if (point.index > point.total && survivor.readFile('/d/f')[0] !== 2)
          failures.push(point.index)
      },
    })
    expect(failures).toEqual([5])
  })

  it('honours stride but always checks the cut after the last operation', async () => {
    const base = new FaultInjectionFileSystem()
    base.writeFile('/d/f', new Uint8Array([1]))
    const seen: number[] = []
    await forEachCrashPoint({
      base,
      modes: ['drop'],
      stride: 2,
      workload: (fs) => atomicWrite(fs, new Uint8Array([3])),
      check: async (_s, point) => {
        seen.push(point.index)
      },
    })
    expect(seen).toEqual([1, 3, 5, 6])
  })
})
