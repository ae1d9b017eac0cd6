// The write-ahead payment journal (better-sqlite3: synchronous on purpose, so a transition is on disk
// before the next line of engine code runs). One SQLite transaction per transition, updating the order
// row and appending its event together; synchronous=FULL so a commit survives a power cut. Every transition
// and note is checked against the transition table (states.ts). Reads are in reader.ts, rows in rows.ts, the
// file's own checks (and its -wal/-shm) in files.ts. About 390 lines: opening stays with the class it builds.
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { JournalError, migrate, SCHEMA_VERSION } from './schema.js';
import { formatOrderNo, newRunId, orderNoPrefix } from './orderno.js';
import { allowed, isFinal, subStateProblem, type OrderState } from './states.js';
import { assertReadable, fileIdAt, secureFile, whereIs, type FileId, type HeldFiles } from './files.js';
import { JournalReader } from './reader.js';
import { COLUMNS, type EventInput, type NewOrder, type OpenOptions, type OrderPatch, type OrderRow, type StepHook } from './rows.js';
import { makeDirs } from '../dirs.js';

export { JournalError, SCHEMA_VERSION, orderNoPrefix };
export { JournalReader } from './reader.js';
export { journalSchemaVersion, type FileId } from './files.js';
export type { EventInput, EventRow, NewOrder, OpenOptions, OrderPatch, OrderRow, PublicOrder, StepHook } from './rows.js';

// States, the transition table and sub-states are data in states.ts (enforced here, on every write).
export { ORDER_STATES, FINAL_STATES, isFinal, type OrderState, type CauseKind } from './states.js';

export class Journal extends JournalReader {
  /** Set by the fleet outbox when telemetry is on; undefined (nothing extra written) otherwise. */
  stepHook: StepHook | undefined;
  /** UPDATE statements by their SQL text (see applyStep). */
  private readonly updates = new Map<string, Statement>();

  constructor(
    db: Db,
    file: string,
    readonly: boolean,
    /** This open's random run id (writable journals only): part of every order number it makes. */
    readonly runId: string | null = null,
    /** The files this connection holds (writable journals): the paths must keep naming them (whereabouts()). */
    private readonly held: HeldFiles | null = null,
  ) {
    super(db, file, readonly);
    // Stryker disable next-line ConditionalExpression: read-only, these are prepared but never run (writable())
    if (readonly) return;
    Object.assign(this.stmt, {
      seqGet: db.prepare(`SELECT value FROM meta WHERE key = 'seq'`),
      seqSet: db.prepare(`INSERT INTO meta(key, value) VALUES ('seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
      insert: db.prepare(`INSERT INTO orders (order_no, seq, state, order_time, txn_amt, order_type, auth_code, auth_mask, goods_id, goods_info, acq_sp_id, acq_mer_id, scanned_at, scanned_mono, boot_id, product_id, vend_price, created_at, updated_at)
        VALUES (@orderNo, @seq, 'created', @orderTime, @txnAmt, @orderType, @authCode, @authMask, @goodsId, @goodsInfo, @acqSpId, @acqMerId, @scannedAt, @scannedMono, @bootId, @productId, @vendPrice, @at, @at)`),
      event: db.prepare(`INSERT INTO events (order_no, at, from_state, to_state, cause, call, resp_code, resp_msg, delivery, detail, kind)
        VALUES (@orderNo, @at, @from, @to, @cause, @call, @respCode, @respMsg, @delivery, @detail, @kind)`),
      current: db.prepare(`SELECT state, resume_state AS resumeState, reversal, refund_accepted AS refundAccepted FROM orders WHERE order_no = ?`),
    });
  }

  /**
   * Allocates the next order number (device + date + persistent sequence) and commits the order in
   * state `created` with its first event, in one transaction. Nothing may be sent before this returns.
   */
  createOrder(o: NewOrder): OrderRow {
    this.writable();
    // A journal deleted, replaced or moved under us still takes writes (SQLite writes to the open file), but
    // nothing would find them after a restart: no new order goes into it.
    const gone = this.whereabouts();
    if (gone) throw new JournalError('JOURNAL_GONE', gone);
    orderNoPrefix(o.deviceId);
    return this.db
      .transaction(() => {
        // Stryker disable next-line StringLiteral: Number('') is 0 as Number('0') is
        const seq = Number((this.stmt.seqGet!.get() as { value: string } | undefined)?.value ?? '0') + 1;
        this.stmt.seqSet!.run(String(seq));
        const orderNo = formatOrderNo(o.deviceId, o.date, seq, this.runId!);
        this.stmt.insert!.run({ ...o, scannedMono: o.scannedMono ?? null, bootId: o.bootId ?? null, productId: o.productId ?? null, vendPrice: o.vendPrice ?? null, orderNo, seq });
        // The MDB selection is the first step of such an order: its product and the machine's price, with the scan.
        const detail = o.productId !== undefined ? `${o.authMask}; MDB selection: product ${o.productId} at ${o.vendPrice ?? '?'}` : o.authMask;
        this.stmt.event!.run({ orderNo, at: o.at, from: null, to: 'created', cause: 'scanned', call: null, respCode: null, respMsg: null, delivery: null, detail, kind: 'scan' });
        return this.get(orderNo)!;
      })
      .immediate();
  }

  /**
   * Moves an order along one or more steps in ONE transaction (e.g. paid → delivering when the customer
   * is still there). `from` is the state the caller read: when the order is no longer in it, nothing is
   * written and JournalError('STALE_STATE') is thrown; a step the transition table (states.ts) does not have
   * for its cause kind, or a sub-state change it does not allow, throws JournalError('ILLEGAL_TRANSITION').
   * Reaching a final state erases the payment code.
   */
  transition(orderNo: string, steps: ReadonlyArray<{ from: OrderState; to: OrderState; event: EventInput; patch?: OrderPatch }>, at: string): OrderRow {
    this.writable();
    return this.db
      .transaction(() => {
        for (const step of steps) {
          if (step.from === step.to) throw new JournalError('ILLEGAL_TRANSITION', `order ${orderNo}: ${step.from} → ${step.to} is not a transition (record it with note())`);
          this.applyStep(orderNo, step.from, step.to, step.event, step.patch ?? {}, at);
        }
        return this.get(orderNo)!;
      })
      .immediate();
  }

  /**
   * An event that changes no state (a send attempt, an answer that decided nothing...), with an optional patch.
   * `state` is the state the caller read (STALE_STATE otherwise); the table says what each state may record.
   */
  note(orderNo: string, state: OrderState, event: EventInput, at: string, patch: OrderPatch = {}): OrderRow {
    this.writable();
    return this.db
      .transaction(() => {
        this.applyStep(orderNo, state, state, event, patch, at);
        return this.get(orderNo)!;
      })
      .immediate();
  }

  private applyStep(orderNo: string, from: OrderState, to: OrderState, event: EventInput, patch: OrderPatch, at: string): void {
    const row = this.stmt.current!.get(orderNo) as { state: OrderState; resumeState: OrderState | null; reversal: string | null; refundAccepted: number } | undefined;
    if (!row) throw new JournalError('NO_SUCH_ORDER', `${this.file}: no order ${orderNo}`);
    if (row.state !== from) throw new JournalError('STALE_STATE', `order ${orderNo} is ${row.state}, not ${from} (wanted ${from === to ? `a note in ${from}` : `${from} → ${to}`} by ${event.kind})`);
    if (!allowed(from, to, event.kind)) {
      const what = from === to ? `a note of kind ${event.kind} in ${from}` : `${from} → ${to} by ${event.kind}`;
      throw new JournalError('ILLEGAL_TRANSITION', `order ${orderNo}: ${what} (${event.cause}) is not in the transition table`);
    }
    const sub = subStateProblem({ ...row, refundAccepted: row.refundAccepted === 1 }, to, patch);
    if (sub) throw new JournalError('ILLEGAL_TRANSITION', `order ${orderNo}: ${sub}`);
    // updated_at is when the order last changed: a note on a final order (a settlement flag, its acknowledgement)
    // leaves it, or the settlement would count the order as returned on that later day (a new finding each day).
    const sets = ['state = @to'];
    if (from !== to || !isFinal(to)) sets.push('updated_at = @at');
    const params: Record<string, unknown> = { orderNo, to, at };
    for (const [k, v] of Object.entries(patch)) {
      const col = COLUMNS[k as keyof OrderRow];
      if (!col || v === undefined) continue;
      sets.push(`${col} = @p_${k}`);
      params[`p_${k}`] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    if (isFinal(to)) sets.push('final = 1', 'auth_code = NULL');
    // The SET list depends on which fields a transition patches: a handful of shapes, each prepared once.
    const sql = `UPDATE orders SET ${sets.join(', ')} WHERE order_no = @orderNo`;
    let update = this.updates.get(sql);
    // Stryker disable next-line ConditionalExpression: a statement prepared again is the same statement, only slower
    if (!update) this.updates.set(sql, (update = this.db.prepare(sql)));
    update.run(params);
    this.stmt.event!.run({
      orderNo,
      at,
      from,
      to,
      cause: event.cause,
      call: event.call ?? null,
      respCode: event.respCode ?? null,
      respMsg: event.respMsg ?? null,
      delivery: event.delivery ?? null,
      detail: event.detail ?? null,
      kind: event.kind,
    });
    if (from !== to) this.stepHook?.(orderNo, from, to, at);
  }

  private writable(): void {
    if (this.readonly) throw new JournalError('READ_ONLY', `${this.file}: opened read-only`);
  }

  /**
   * Copies the WAL into the database and truncates it. secure_delete overwrites an erased payment code in
   * the database file, but the WAL keeps older page images (with the code) until it is reused; the daemon
   * calls this when no payment is in progress. A truncated WAL makes the next commit write and sync a fresh
   * WAL header (a third fsync on the customer's path), so a one-page commit right after the truncation pays
   * that sync here, while idle: the customer's two commits then append to a WAL that is already started.
   * Returns false when a reader kept part of the WAL (it is tried again next time).
   */
  purgeWal(): boolean {
    if (!this.db.open) return false;
    const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    // Stryker disable next-line ConditionalExpression: a read-only connection fails the checkpoint above first
    if (!this.readonly) this.db.prepare(`INSERT INTO meta(key, value) VALUES ('walStartedAt', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(new Date().toISOString());
    return !!r && r.busy === 0;
  }

  /**
   * Stores one day's reconciliation with the platform's settlement file and its mismatches, in one transaction:
   * each mismatch is a `settle_findings` row, and an order the journal has also gets `flag` (so it is on the
   * attention list) and an event saying why. Recording the same day again replaces the summary; a finding
   * already recorded is not repeated.
   */
  recordReconciliation(r: {
    stlDate: string;
    at: string;
    ok: boolean;
    summary: Record<string, unknown>;
    findings: ReadonlyArray<{ orderNo: string; kind: string; reason: string }>;
  }): { newFindings: number } {
    this.writable();
    return this.db
      .transaction(() => {
        this.db
          .prepare(`INSERT INTO reconciliations (stl_date, at, ok, summary) VALUES (?, ?, ?, ?) ON CONFLICT(stl_date) DO UPDATE SET at = excluded.at, ok = excluded.ok, summary = excluded.summary`)
          .run(r.stlDate, r.at, r.ok ? 1 : 0, JSON.stringify(r.summary));
        return { newFindings: this.recordSettleFindings(r.stlDate, r.at, r.findings) };
      })
      .immediate();
  }

  /**
   * recordReconciliation's findings alone, in one transaction (the daily run records a day's findings a few at a time
   * and then the day: a crash between leaves the day unreconciled, and recording it again repeats nothing).
   * Returns how many were new.
   */
  recordSettleFindings(stlDate: string, at: string, findings: ReadonlyArray<{ orderNo: string; kind: string; reason: string }>): number {
    this.writable();
    return this.db
      .transaction(() => {
        const insert = this.db.prepare(`INSERT OR IGNORE INTO settle_findings (stl_date, order_no, kind, reason, at) VALUES (?, ?, ?, ?, ?)`);
        let newFindings = 0;
        for (const f of findings) {
          if (insert.run(stlDate, f.orderNo, f.kind, f.reason, at).changes === 0) continue;
          newFindings++;
          const cur = this.get(f.orderNo);
          if (!cur) continue;
          const flag = `settlement ${stlDate}: ${f.reason}`;
          const prev = cur.flag;
          this.applyStep(f.orderNo, cur.state, cur.state, { kind: 'settlement', cause: 'settlement mismatch', detail: flag }, { flag: prev ? `${prev}; ${flag}` : flag }, at);
        }
        return newFindings;
      })
      .immediate();
  }

  /**
   * A person dealt with an order's settlement mismatches: they are marked acknowledged (kept, with the note) and
   * the settlement part of the order's flag is removed (other flags stay), with an event; one transaction.
   * Returns how many findings were open.
   */
  ackSettleFindings(orderNo: string, note: string, at: string): number {
    this.writable();
    return this.db
      .transaction(() => {
        const n = this.db.prepare(`UPDATE settle_findings SET acked_at = ?, ack_note = ? WHERE order_no = ? AND acked_at IS NULL`).run(at, note, orderNo).changes;
        const cur = this.get(orderNo);
        if (n > 0 && cur) {
          const rest = (cur.flag ?? '').split('; ').filter((part) => part && !part.startsWith('settlement '));
          const flag = rest.length ? rest.join('; ') : null;
          this.applyStep(orderNo, cur.state, cur.state, { kind: 'settlement', cause: 'settlement mismatch acknowledged', detail: note }, { flag }, at);
        }
        return n;
      })
      .immediate();
  }

  /**
   * Why journal.path no longer names the file this connection writes (deleted, replaced by another file, moved
   * away), or null while it does. Unfinished orders can still be finished in the open file; new ones must not
   * start there (after a restart nobody would find them).
   */
  whereabouts(): string | null {
    if (!this.held) return null;
    const after = 'new payments are refused; unfinished orders are finished in the open file; restart the daemon once they are (kiosk status)';
    const main = whereIs(this.file, this.held.main);
    if (main === 'gone') return `${this.file} was deleted (or moved away) while the daemon has it open: ${after}`;
    if (main === 'other') return `${this.file} is now another file than the journal the daemon has open (replaced or restored while it ran): ${after}`;
    if (main !== 'same') return main;
    // The -wal holds every commit since the last checkpoint, and SQLite keeps writing to the one it has open: deleted,
    // those commits are gone at the next crash (and another process reading the journal gets an I/O error or
    // stale data). The -shm is where processes agree on the -wal and lock it: a new one means two
    // writers that do not see each other. Either way the journal at the path is no longer the one written here.
    for (const [side, id, what] of [
      ['-wal', this.held.wal, "the journal's write-ahead log: the latest transitions, not yet in the journal file"],
      ['-shm', this.held.shm, "the journal's shared-memory index: what readers and writers of the journal agree on"],
    ] as const) {
      if (!id) continue;
      const where = whereIs(this.file + side, id);
      if (where === 'same') continue;
      if (where === 'gone') return `${this.file}${side} (${what}) was deleted (or moved away) while the daemon has it open: ${after}`;
      if (where === 'other') return `${this.file}${side} (${what}) is now another file than the one the daemon has open (replaced or restored while it ran): ${after}`;
      // (An error of lstat: only in a race, the folder's lstat for the journal file just having worked.)
      return where;
    }
    return null;
  }

  /**
   * A consistent copy of this journal in a new file `dest` (created here 0600, never over an existing file):
   * the rescue of a journal deleted or replaced under the daemon.
   */
  saveCopy(dest: string): void {
    closeSync(openSync(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
    this.db.prepare('VACUUM INTO ?').run(dest);
  }

  /**
   * Closes the connection, unless a path beside the journal (-wal, -shm) now names a file this connection did not
   * make: SQLite's close deletes `<path>-wal` and `<path>-shm` by name (after its last checkpoint), and a file the
   * daemon did not create is never deleted (say a restored backup's -wal). Then the connection is left open (the
   * process ends without closing it; everything it committed is on disk) and the reason is returned.
   */
  close(): string | null {
    if (!this.db.open) return null;
    if (this.held) {
      const { wal, shm } = this.held;
      const foreign = [wal && whereIs(`${this.file}-wal`, wal) === 'other' ? '-wal' : '', shm && whereIs(`${this.file}-shm`, shm) === 'other' ? '-shm' : ''].filter(Boolean);
      if (foreign.length) {
        LEFT_OPEN.push(this.db); // never closed by a garbage collection either
        return `${foreign.map((side) => this.file + side).join(' and ')}: not the file(s) this connection made: the connection is left open so that SQLite's close does not delete them`;
      }
    }
    this.db.close();
    return null;
  }
}

/**
 * Opens (creating and migrating when writable) the journal at `path`. The file is 0600; a folder this
 * creates is 0700 (an existing folder is left as it is: it may be shared, like /tmp).
 * A read-only connection is safe while the daemon writes (WAL readers do not block the writer).
 */
export function openJournal(path: string, opts: OpenOptions = {}): Journal {
  const file = resolve(path);
  const busy = opts.busyTimeoutMs ?? 5000;
  if (opts.readonly) {
    assertReadable(file);
    const db = new Database(file, { readonly: true });
    db.pragma(`busy_timeout = ${busy}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      // A newer kiosk wrote it: starting this daemon would not help (it refuses too).
      db.close();
      throw new JournalError('JOURNAL_TOO_NEW', `${file}: journal schema version ${version} is newer than this program knows (${SCHEMA_VERSION}); use the newer kiosk version`);
    }
    if (version !== SCHEMA_VERSION) {
      db.close();
      throw new JournalError(
        'JOURNAL_VERSION',
        `${file}: journal schema version ${version}, this program reads version ${SCHEMA_VERSION} (start the daemon once to migrate it, or use the matching kiosk version)`,
      );
    }
    return new Journal(db, file, true);
  }
  const dir = dirname(file);
  if (!existsSync(dir)) makeDirs(dir, 0o700);
  // Create the file ourselves so it is 0600 from its first byte; SQLite gives new -wal/-shm the same mode.
  // Never through a symlink, and only a regular file we own is chmod'ed (as root, a link to /etc/passwd
  // would otherwise make it 0600 before SQLite refuses it).
  const id = secureFile(file, true)!;
  // SQLite keeps the mode of side files that already exist (a restored backup): the -wal holds recent commits.
  // Stryker disable next-line BooleanLiteral: SQLite creates a missing -wal/-shm itself at open, 0600 like the journal
  for (const side of ['-wal', '-shm']) secureFile(file + side, false);
  try {
    return openWritable(file, busy, id);
  } catch (err) {
    // SQLite's own message does not say which file (the daemon prints it as the reason it cannot start).
    const e = err as Error & { code?: unknown };
    if (e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT' || e.code === 'SQLITE_ERROR') {
      throw new JournalError('NOT_A_JOURNAL', `${file}: not a journal (${e.message}); check journal.path`);
    }
    if (typeof e.code === 'string' && e.code.startsWith('SQLITE_')) throw new JournalError(e.code, `${file}: ${e.message}`);
    throw err;
  }
}

/** Connections Journal.close() must not close (see there): referenced for the life of the process. */
// Stryker disable next-line ArrayDeclaration: only references are kept here; nothing reads them
const LEFT_OPEN: Db[] = [];

function openWritable(file: string, busy: number, id: FileId): Journal {
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${busy}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // better-sqlite3 builds with a 16 MB page cache; the daemon reads by key and recent orders, so SQLite's own
    // 2 MB is plenty, and the bigger cache fills as the journal grows (RSS +1 KB per payment; docs/performance.md).
    db.pragma('cache_size = -2000');
    // Freed pages (an erased payment code) are overwritten with zeros, not left in the file.
    db.pragma('secure_delete = ON');
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    // A new run id at every open: a restored or cloned copy of this file never repeats a number (orderno.ts).
    // SQLite has opened the -wal and -shm by now (journal_mode WAL, migrate wrote): these are the files it holds
    // until the connection closes (it never reopens them, whoever else opens or closes the journal).
    const journal = new Journal(db, file, false, newRunId(), { main: id, wal: fileIdAt(`${file}-wal`), shm: fileIdAt(`${file}-shm`) });
    db.prepare(`INSERT INTO runs (run_id, opened_at, first_seq, pid) VALUES (?, ?, (SELECT coalesce(max(CAST(value AS INTEGER)), 0) + 1 FROM meta WHERE key = 'seq'), ?)`).run(
      journal.runId,
      new Date().toISOString(),
      process.pid,
    );
    return journal;
  } catch (err) {
    db.close();
    throw err;
  }
}
