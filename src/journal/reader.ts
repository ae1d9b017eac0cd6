// The journal's read-only queries (orders, events, summaries, settlement findings, identity, checks): what the
// CLI, reports and recovery read. The Journal (journal.ts) adds the transitions on top.
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { FULL_SELECT, PUBLIC_SELECT, toRow, type EventRow, type OrderRow, type PublicOrder } from './rows.js';
import { inWorker } from '../worker.js';

export class JournalReader {
  protected readonly stmt: Record<string, Statement>;

  constructor(
    readonly db: Db,
    readonly file: string,
    readonly readonly: boolean,
  ) {
    this.stmt = {
      get: db.prepare(`SELECT ${FULL_SELECT} FROM orders WHERE order_no = ?`),
      events: db.prepare(`SELECT id, order_no AS orderNo, at, from_state AS "from", to_state AS "to", cause, call, resp_code AS respCode, resp_msg AS respMsg, delivery, detail, kind FROM events WHERE order_no = ? ORDER BY id`),
      activeCode: db.prepare(`SELECT order_no AS orderNo FROM orders WHERE auth_code = ? AND final = 0 LIMIT 1`),
      unfinished: db.prepare(`SELECT ${FULL_SELECT} FROM orders WHERE final = 0 ORDER BY seq`),
      counts: db.prepare(`SELECT state, count(*) AS n FROM orders GROUP BY state`),
      last: db.prepare(`SELECT ${PUBLIC_SELECT} FROM orders ORDER BY seq DESC LIMIT 1`),
    };
  }

  get(orderNo: string): OrderRow | undefined {
    return toRow<OrderRow>(this.stmt.get!.get(orderNo) as Record<string, unknown> | undefined);
  }

  /** The order without its payment code (for people and reports). */
  getPublic(orderNo: string): PublicOrder | undefined {
    const row = this.get(orderNo);
    if (!row) return undefined;
    const { authCode: _secret, ...pub } = row;
    return pub;
  }

  /** Which of these order numbers the journal has, in one query (a settlement file's rows). */
  knownOrderNos(orderNos: readonly string[]): Set<string> {
    const rows = this.db.prepare(`SELECT order_no AS orderNo FROM orders WHERE order_no IN (SELECT value FROM json_each(?))`).all(JSON.stringify(orderNos)) as { orderNo: string }[];
    return new Set(rows.map((r) => r.orderNo));
  }

  /**
   * Order numbers that do not start with `prefix` (letters and digits: orderNoPrefix), in order, at most `limit` after
   * `after`: two ranges of the primary key around the prefix's, so a page costs what it returns (nearly always
   * nothing: a kiosk's numbers all start with its device id unless the deviceId was changed).
   */
  orderNosWithout(prefix: string, after = '', limit = 1000): string[] {
    if (prefix === '') return [];
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const pick = (sql: string, ...p: unknown[]) => this.db.prepare(`SELECT order_no FROM orders WHERE ${sql} ORDER BY order_no LIMIT ?`).pluck().all(...p) as string[];
    // Below the prefix's range, then from its end on: each an index range (empty when `after` is past it).
    const below = pick('order_no > ? AND order_no < ?', after, prefix, limit);
    return [...below, ...pick('order_no > ? AND order_no >= ?', after, end, limit - below.length)];
  }

  events(orderNo: string): EventRow[] {
    return this.stmt.events!.all(orderNo) as EventRow[];
  }

  /** The active (non-final) order holding this payment code, if any: a scanner double-read. */
  activeByAuthCode(authCode: string): string | undefined {
    return (this.stmt.activeCode!.get(authCode) as { orderNo: string } | undefined)?.orderNo;
  }

  /** Every order not yet final, oldest first (recovery). */
  unfinished(): OrderRow[] {
    return (this.stmt.unfinished!.all() as Record<string, unknown>[]).map((r) => toRow<OrderRow>(r)!);
  }

  /** Orders, newest first, optionally by state and created at or after `since` (ISO). */
  list(filter: { state?: string; since?: string; limit?: number } = {}): PublicOrder[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (filter.state) {
      where.push('state = @state');
      params.state = filter.state;
    }
    if (filter.since) {
      where.push('created_at >= @since');
      params.since = filter.since;
    }
    const sql = `SELECT ${PUBLIC_SELECT} FROM orders ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC ${filter.limit ? 'LIMIT ' + Math.floor(filter.limit) : ''}`;
    return (this.db.prepare(sql).all(params) as Record<string, unknown>[]).map((r) => toRow<PublicOrder>(r)!);
  }

  countsByState(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.stmt.counts!.all() as { state: string; n: number }[]) out[r.state] = r.n;
    return out;
  }

  lastPayment(): PublicOrder | undefined {
    return toRow<PublicOrder>(this.stmt.last!.get() as Record<string, unknown> | undefined);
  }

  /** Unfinished orders without codes, and since when the oldest waits. */
  unfinishedSummary(): { count: number; oldestCreatedAt: string | null; byState: Record<string, number> } {
    const rows = this.db.prepare(`SELECT state, count(*) AS n, min(created_at) AS oldest FROM orders WHERE final = 0 GROUP BY state`).all() as { state: string; n: number; oldest: string }[];
    const byState: Record<string, number> = {};
    let count = 0;
    for (const r of rows) {
      byState[r.state] = r.n;
      count += r.n;
    }
    return { count, oldestCreatedAt: rows.map((r) => r.oldest).sort()[0] ?? null, byState };
  }

  /**
   * Takings of orders created in [fromIso, toIso): per payment type and state, count and amount in fen.
   * Dates compare as ISO text, as written by the engine.
   */
  dayReport(fromIso: string, toIso: string): Array<{ orderType: string; state: string; count: number; amountFen: number }> {
    return this.db
      .prepare(
        `SELECT order_type AS orderType, state, count(*) AS count, sum(CAST(txn_amt AS INTEGER)) AS amountFen
         FROM orders WHERE created_at >= ? AND created_at < ? GROUP BY order_type, state ORDER BY order_type, state`,
      )
      .all(fromIso, toIso) as Array<{ orderType: string; state: string; count: number; amountFen: number }>;
  }

  /** Orders paid over MDB (docs/mdb.md) created in [from, to), by the machine's product and state. */
  dayProducts(fromIso: string, toIso: string): Array<{ productId: string; state: string; count: number; amountFen: number }> {
    return this.db
      .prepare(
        `SELECT product_id AS productId, state, count(*) AS count, sum(CAST(txn_amt AS INTEGER)) AS amountFen
         FROM orders WHERE created_at >= ? AND created_at < ? AND product_id IS NOT NULL GROUP BY product_id, state ORDER BY product_id, state`,
      )
      .all(fromIso, toIso) as Array<{ productId: string; state: string; count: number; amountFen: number }>;
  }

  /** The newest reconciliation (by settlement day), with its findings. */
  lastReconciliation(): { stlDate: string; at: string; ok: boolean; summary: Record<string, unknown>; findings: { orderNo: string; kind: string; reason: string }[] } | undefined {
    const row = this.db.prepare(`SELECT stl_date AS stlDate, at, ok, summary FROM reconciliations ORDER BY stl_date DESC LIMIT 1`).get() as
      | { stlDate: string; at: string; ok: number; summary: string }
      | undefined;
    if (!row) return undefined;
    return { stlDate: row.stlDate, at: row.at, ok: row.ok === 1, summary: JSON.parse(row.summary) as Record<string, unknown>, findings: this.settleFindings(row.stlDate) };
  }

  /**
   * Orders a settlement file of days from `fromDay` (yyyyMMdd) on can mention: ordered, settled or changed on or
   * after it (`fromIso` is the local start of that day), oldest first, without payment codes.
   */
  ordersForSettlement(fromDay: string, fromIso: string): PublicOrder[] {
    return this.ordersForSettlementPage(fromDay, fromIso, -1, -1);
  }

  /** ordersForSettlement `limit` at a time (-1: all), those after sequence `afterSeq`: one query a page. */
  ordersForSettlementPage(fromDay: string, fromIso: string, afterSeq: number, limit: number): PublicOrder[] {
    const rows = this.db
      .prepare(`SELECT ${PUBLIC_SELECT} FROM orders WHERE seq > ? AND (order_time >= ? OR stl_date >= ? OR updated_at >= ?) ORDER BY seq LIMIT ?`)
      .all(afterSeq, `${fromDay}000000`, fromDay, fromIso, limit) as Record<string, unknown>[];
    return rows.map((r) => toRow<PublicOrder>(r)!);
  }

  /** The orders the journal has of these numbers, without payment codes, in one query. */
  publicOrders(orderNos: readonly string[]): PublicOrder[] {
    const rows = this.db.prepare(`SELECT ${PUBLIC_SELECT} FROM orders WHERE order_no IN (SELECT value FROM json_each(?))`).all(JSON.stringify(orderNos)) as Record<string, unknown>[];
    return rows.map((r) => toRow<PublicOrder>(r)!);
  }

  /** Whether `stlDate` (yyyyMMdd) has been reconciled. */
  reconciled(stlDate: string): boolean {
    return this.db.prepare(`SELECT 1 FROM reconciliations WHERE stl_date = ?`).get(stlDate) !== undefined;
  }

  /** Settlement mismatches, of one day or of every day; `open` only those nobody acknowledged. */
  settleFindings(stlDate?: string, opts: { open?: boolean } = {}): { stlDate: string; orderNo: string; kind: string; reason: string; at: string; ackedAt: string | null }[] {
    const where = [stlDate ? 'stl_date = ?' : '', opts.open ? 'acked_at IS NULL' : ''].filter(Boolean);
    const sql = `SELECT stl_date AS stlDate, order_no AS orderNo, kind, reason, at, acked_at AS ackedAt FROM settle_findings ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`;
    return this.db.prepare(sql).all(...(stlDate ? [stlDate] : [])) as { stlDate: string; orderNo: string; kind: string; reason: string; at: string; ackedAt: string | null }[];
  }

  /** Who this journal is: a random id made with it, when it was made, and every writable open (run). */
  identity(): { journalId: string | null; createdAt: string | null; runs: Array<{ runId: string; openedAt: string; firstSeq: number; pid: number | null }> } {
    const meta = (k: string) => (this.db.prepare(`SELECT value FROM meta WHERE key = ?`).get(k) as { value: string } | undefined)?.value ?? null;
    const runs = this.db.prepare(`SELECT run_id AS runId, opened_at AS openedAt, first_seq AS firstSeq, pid FROM runs ORDER BY first_seq, opened_at`).all() as Array<{ runId: string; openedAt: string; firstSeq: number; pid: number | null }>;
    return { journalId: meta('journalId'), createdAt: meta('createdAt'), runs };
  }

  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
  }

  /** The cheaper check (no index cross-checks), for a running daemon (the remote selftest). */
  quickCheck(): string {
    return quickCheckOf(this.db);
  }

  /** quick_check on a connection of its own in a worker thread: 'ok', or what is wrong. */
  quickCheckOffThread(): Promise<string> {
    return inWorker<string>(new URL('./quick-check-worker.js', import.meta.url), { path: this.file });
  }
}

/** PRAGMA quick_check on a connection: 'ok', or what is wrong ('; '-joined). */
export function quickCheckOf(db: Db): string {
  return (db.pragma('quick_check') as { quick_check: string }[]).map((r) => r.quick_check).join('; ');
}

/** quick_check of the journal at `path` on a read-only connection of its own (the worker's job): never throws. */
export function quickCheckFile(path: string): string {
  try {
    const db = new Database(path, { readonly: true });
    try {
      return quickCheckOf(db);
    } finally {
      db.close();
    }
  } catch (err) {
    return `could not check: ${(err as Error).message}`;
  }
}
