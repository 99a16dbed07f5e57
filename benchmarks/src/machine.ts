/**
 * A description of the machine a run measured: CPU, cores, memory, the disk and file system
 * under the stores' directory, OS and Node version.
 */
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { basename, resolve } from 'node:path'

/** What the report says about the machine. */
export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  /** Device, file system and medium of the directory holding the stores. */
  readonly disk: string
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** The mount (device, fs type) holding `dir`, from /proc/mounts (Linux only). */
function diskOf(dir: string): string {
  const mounts = readText('/proc/mounts')
  if (mounts === undefined) return 'unknown'
  const path = resolve(dir)
  let best: { point: string; device: string; type: string } | undefined
  for (const line of mounts.split('\n')) {
    const [device, point, type] = line.split(' ')
    if (device === undefined || point === undefined || type === undefined) continue
    const inside = path === point || path.startsWith(point.endsWith('/') ? point : `${point}/`)
    if (inside && (best === undefined || point.length > best.point.length)) {
      best = { point, device, type }
    }
  }
  if (best === undefined) return 'unknown'
  let medium = ''
  const dev = basename(best.device).replace(/\d+$/, '')
  const rotational = readText(`/sys/block/${dev}/queue/rotational`)
  if (rotational !== undefined) {
    medium = ` (${dev}: rotational=${rotational.trim()}${dev.startsWith('vd') ? ', a virtio disk' : ''})`
  }
  return `${best.type} on ${best.device}${medium}`
}

function osName(): string {
  const release = existsSync('/etc/os-release') ? readText('/etc/os-release') : undefined
  const pretty = release?.match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1]
  return `${pretty ?? os.type()} (${os.type()} ${os.release()}, ${os.arch()})`
}

/** Describes this machine; `dir` is where the stores are written. */
export function describeMachine(dir: string): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: osName(),
    node: process.version,
    disk: diskOf(dir),
  }
}
