#!/usr/bin/env node
// Rehearses `pnpm release` without publishing anything: runs `changeset publish --no-git-tag`
// (exactly what the release script runs after the build) against a throwaway registry served
// by this script on 127.0.0.1, then checks what reached it: every published package, each
// manifest and tarball without a "workspace:" range, with LICENSE, README and dist.
// Run it through pnpm (changesets spawns `pnpm publish`, which must be on PATH):
//   pnpm release:dry-run
// It does not build: run `pnpm build` first (the release script does).
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'

const root = fileURLToPath(new URL('..', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'alex-release-'))
const received = []
const requests = []

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    requests.push(`${req.method} ${req.url} (${req.headers['user-agent'] ?? '?'})`)
    if (req.method === 'PUT') {
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      const [version, manifest] = Object.entries(doc.versions ?? {})[0] ?? []
      const tarballs = Object.values(doc._attachments ?? {}).map((a) =>
        Buffer.from(a.data, 'base64'),
      )
      received.push({ name: doc.name, version, manifest, tarball: tarballs[0] })
      res.writeHead(201, { 'content-type': 'application/json' })
      res.end('{"ok":true}')
      return
    }
    // Nothing is published here yet: every package and user lookup is a 404.
    res.writeHead(404, { 'content-type': 'application/json' })
    res.end('{"error":"not_found"}')
  })
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const registry = `http://127.0.0.1:${server.address().port}/`
const npmrc = join(work, 'npmrc')
writeFileSync(
  npmrc,
  `registry=${registry}\n//127.0.0.1:${server.address().port}/:_authToken=dry-run\n`,
)

const env = { ...process.env, npm_config_registry: registry, npm_config_userconfig: npmrc }
const code = await new Promise((resolve) => {
  const child = spawn('pnpm', ['exec', 'changeset', 'publish', '--no-git-tag'], {
    cwd: root,
    env,
    stdio: 'inherit',
  })
  child.on('error', (err) => {
    console.error(
      `could not run pnpm (${err.message}): run this script as \`pnpm release:dry-run\``,
    )
    resolve(1)
  })
  child.on('close', (c) => resolve(c ?? 1))
})
server.close()

/** The files of a .tgz, as a Map from path to contents (ustar, regular files only). */
function untar(tgz) {
  const tar = gunzipSync(tgz)
  const files = new Map()
  for (let off = 0; off + 512 <= tar.length; ) {
    const name = tar.toString('utf8', off, off + 100).replace(/\0.*$/s, '')
    if (!name) break
    const prefix = tar.toString('utf8', off + 345, off + 500).replace(/\0.*$/s, '')
    const size = Number.parseInt(tar.toString('utf8', off + 124, off + 136).trim() || '0', 8)
    const type = String.fromCharCode(tar[off + 156] || 48)
    const path = prefix ? `${prefix}/${name}` : name
    if (type === '0') files.set(path, tar.subarray(off + 512, off + 512 + size))
    off += 512 + Math.ceil(size / 512) * 512
  }
  return files
}

const problems = []
const expected = readdirSync(join(root, 'packages'))
  .map((d) => JSON.parse(readFileSync(join(root, 'packages', d, 'package.json'), 'utf8')))
  .filter((p) => !p.private)
for (const pkg of expected) {
  const got = received.find((r) => r.name === pkg.name)
  if (!got) {
    problems.push(`${pkg.name} was not published`)
    continue
  }
  if (JSON.stringify(got.manifest).includes('workspace:')) {
    problems.push(`${pkg.name}: the published manifest has a "workspace:" range`)
  }
  const files = got.tarball ? untar(got.tarball) : new Map()
  const packed = files.get('package/package.json')?.toString('utf8') ?? ''
  if (!packed) problems.push(`${pkg.name}: the tarball has no package.json`)
  if (packed.includes('workspace:')) problems.push(`${pkg.name}: tarball has a "workspace:" range`)
  for (const file of ['package/LICENSE', 'package/README.md', 'package/dist/index.js']) {
    if (!files.has(file)) problems.push(`${pkg.name}: the tarball has no ${file}`)
  }
  const deps = { ...got.manifest?.dependencies }
  console.log(
    `published ${pkg.name}@${got.version}: ${files.size} files, deps ${JSON.stringify(deps)}`,
  )
}
rmSync(work, { recursive: true, force: true })
console.log(`registry requests:\n  ${requests.join('\n  ')}`)
if (code !== 0) problems.push(`changeset publish exited with ${code}`)
if (problems.length > 0) {
  console.error(`release dry run FAILED:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log('release dry run ok: every package published by pnpm with real version ranges')
