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
import { assertBatch, assertBulk, assertValue } from '../guards.js'
import { assertKey } from '../key-encoding.js'
import { exportOf, loadEngineModule, packageVersion } from '../load-module.js'
import { isEmptyRange, toBounds } from '../range.js'
import { StoreBase } from '../store-base.js'
import type {
  BatchOp,
  BulkEntries,
  KvEngine,
  KvEntry,
  RangeOptions,
  RmwModify,
  RmwResult,
} from '../types.js'

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
  /** BEGIN IMMEDIATE; SELECT; INSERT OR REPLACE; COMMIT (see `_readModifyWrite`). */
  private readonly rmw: {
    immediate(key: number, modify: RmwModify): boolean
  }
  /** One transaction of prepared inserts (see `_bulkLoad`). */
  private readonly insertAll: (keys: BulkEntries['keys'], values: BulkEntries['values']) => void
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
    this.rmw = db.transaction((key: number, modify: RmwModify): boolean => {
      const next = modify(this.getStmt.get(key) as Buffer | undefined)
      if (next === undefined) return false
      assertValue(next) // a throw rolls the transaction back
      this.putStmt.run(key, next)
      return true
    })
    this.insertAll = db.transaction((keys: BulkEntries['keys'], values: BulkEntries['values']) => {
      const put = this.putStmt
      for (let i = 0; i < keys.length; i++) put.run((keys[i] as number) + 0, values[i]!)
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

  /**
   * A transaction begun with BEGIN IMMEDIATE (the write lock taken before the read): the
   * select, `modify` and the write run under it and commit together (fsynced when durable).
   */
  protected async _readModifyWrite(key: number, modify: RmwModify): Promise<RmwResult> {
    assertKey(key)
    return { written: this.rmw.immediate(key + 0, modify), attempts: 1 }
  }

  /**
   * One transaction of the prepared INSERT OR REPLACE, committed with synchronous = FULL (the
   * WAL fsynced at the commit) also when the store runs with OFF: durable when it resolves.
   */
  protected async _bulkLoad(entries: BulkEntries, sorted: boolean): Promise<void> {
    assertBulk(entries, sorted)
    if (!this.durable) this.db.pragma('synchronous = FULL')
    try {
      this.insertAll(entries.keys, entries.values)
    } finally {
      if (!this.durable) this.db.pragma('synchronous = OFF')
    }
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
    readModifyWrite: 'transaction',
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
