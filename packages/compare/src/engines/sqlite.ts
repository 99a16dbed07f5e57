/**
 * SQLite through better-sqlite3, in WAL mode. One table `kv(k REAL PRIMARY KEY, v BLOB)
 * WITHOUT ROWID`: the key is a number compared numerically by SQLite, stored in the table's own
 * B-tree. Every call is synchronous (better-sqlite3's design); prepared statements are cached.
 * Durable: `synchronous = FULL` (the WAL is fsynced at every commit). Fast: `synchronous = OFF`.
 * Page cache at SQLite's default (2 MiB).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'
import { assertBatch, assertValue } from '../guards.js'
import { assertKey } from '../key-encoding.js'
import { exportOf, loadEngineModule, packageVersion } from '../load-module.js'
import { isEmptyRange, toBounds } from '../range.js'
import { StoreBase } from '../store-base.js'
import type { BatchOp, KvEngine, KvEntry, RangeOptions } from '../types.js'

type Db = BetterSqlite3.Database
type Statement = BetterSqlite3.Statement

/** File name of the database inside the store's directory. */
export const SQLITE_FILE = 'kv.sqlite'

class SqliteStore extends StoreBase {
  readonly id = 'sqlite' as const
  private readonly db: Db
  private readonly getStmt: Statement
  private readonly putStmt: Statement
  private readonly delStmt: Statement
  private readonly applyBatch: (ops: readonly BatchOp[]) => void
  /** Scan statements by shape: lower bound kind x upper bound kind x direction. */
  private readonly rangeStmts = new Map<string, Statement>()

  constructor(db: Db, durable: boolean) {
    super(durable)
    this.db = db
    this.getStmt = db.prepare('SELECT v FROM kv WHERE k = ?').pluck()
    this.putStmt = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)')
    this.delStmt = db.prepare('DELETE FROM kv WHERE k = ?')
    this.applyBatch = db.transaction((ops: readonly BatchOp[]) => {
      for (const op of ops) {
        if (op.type === 'put') this.putStmt.run(op.key + 0, op.value)
        else this.delStmt.run(op.key + 0)
      }
    })
  }

  protected _get(key: number): Uint8Array | undefined {
    assertKey(key)
    return this.getStmt.get(key + 0) as Buffer | undefined
  }

  protected async _put(key: number, value: Uint8Array): Promise<void> {
    assertKey(key)
    assertValue(value)
    this.putStmt.run(key + 0, value)
  }

  protected async _delete(key: number): Promise<void> {
    assertKey(key)
    this.delStmt.run(key + 0)
  }

  protected async _batch(ops: readonly BatchOp[]): Promise<void> {
    assertBatch(ops)
    this.applyBatch(ops)
  }

  protected _range(options?: RangeOptions): KvEntry[] {
    const b = toBounds(options)
    if (isEmptyRange(b)) return []
    const lowOp = b.low === undefined ? '' : b.lowInclusive ? '>=' : '>'
    const highOp = b.high === undefined ? '' : b.highInclusive ? '<=' : '<'
    const shape = `${lowOp}|${highOp}|${b.reverse ? 'desc' : 'asc'}`
    let stmt = this.rangeStmts.get(shape)
    if (stmt === undefined) {
      const where: string[] = []
      if (lowOp) where.push(`k ${lowOp} @low`)
      if (highOp) where.push(`k ${highOp} @high`)
      const sql =
        `SELECT k, v FROM kv${where.length ? ` WHERE ${where.join(' AND ')}` : ''}` +
        ` ORDER BY k ${b.reverse ? 'DESC' : 'ASC'} LIMIT @limit`
      stmt = this.db.prepare(sql).raw()
      this.rangeStmts.set(shape, stmt)
    }
    const params: Record<string, number> = { limit: Number.isFinite(b.limit) ? b.limit : -1 }
    if (b.low !== undefined) params.low = b.low
    if (b.high !== undefined) params.high = b.high
    return stmt.all(params) as KvEntry[]
  }

  protected async _sync(): Promise<void> {
    if (this.durable) return
    // With synchronous = FULL a checkpoint fsyncs the WAL, copies it into the database file
    // and fsyncs that: everything committed so far is then durable.
    this.db.pragma('synchronous = FULL')
    this.db.pragma('wal_checkpoint(FULL)')
    this.db.pragma('synchronous = OFF')
  }

  protected async _close(): Promise<void> {
    this.db.close()
  }
}

/** SQLite (better-sqlite3) in WAL mode: synchronous FULL when durable, OFF when not. */
export const sqliteEngine: KvEngine = {
  id: 'sqlite',
  name: 'SQLite (better-sqlite3, WAL)',
  packageName: 'better-sqlite3',
  capabilities: {
    syncGet: true,
    syncRange: true,
    range: true,
    getMany: false,
    atomicBatch: true,
    persistent: true,
    inMemory: false,
  },
  durability: {
    durable: 'journal_mode = WAL, synchronous = FULL (WAL fsynced at each commit)',
    fast: 'journal_mode = WAL, synchronous = OFF (no fsync)',
  },
  version: () => packageVersion('better-sqlite3'),
  open: async (dir, options) => {
    const mod = await loadEngineModule('better-sqlite3', 'SQLite')
    const Database = exportOf<typeof BetterSqlite3>(mod)
    mkdirSync(dir, { recursive: true })
    const db = new Database(join(dir, SQLITE_FILE))
    db.pragma('journal_mode = WAL')
    db.pragma(`synchronous = ${options.durable ? 'FULL' : 'OFF'}`)
    db.exec(
      'CREATE TABLE IF NOT EXISTS kv (k REAL PRIMARY KEY NOT NULL, v BLOB NOT NULL) WITHOUT ROWID',
    )
    return new SqliteStore(db, options.durable)
  },
}
