// Journal schema and forward migrations, versioned with PRAGMA user_version.
// MIGRATIONS[i] takes a database from version i to i+1; a database is never migrated backwards.
import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';

export const MIGRATIONS: ReadonlyArray<(db: Database) => void> = [
  // v0 -> v1: orders (current state + every wire field needed to query, cancel, close or refund) and events.
  (db) => {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE orders (
        order_no      TEXT PRIMARY KEY,
        seq           INTEGER NOT NULL UNIQUE,
        state         TEXT NOT NULL,
        final         INTEGER NOT NULL DEFAULT 0,
        order_time    TEXT NOT NULL,
        txn_amt       TEXT NOT NULL,
        order_type    TEXT NOT NULL,
        auth_code     TEXT,
        auth_mask     TEXT NOT NULL,
        goods_id      TEXT NOT NULL,
        goods_info    TEXT NOT NULL,
        acq_sp_id     TEXT NOT NULL,
        acq_mer_id    TEXT NOT NULL,
        transaction_id TEXT,
        send_attempts INTEGER NOT NULL DEFAULT 1,
        not_sent      INTEGER NOT NULL DEFAULT 0,
        resp_code     TEXT,
        resp_msg      TEXT,
        reversal      TEXT,
        refund_no     TEXT,
        refund_time   TEXT,
        refund_amt    TEXT,
        refund_accepted INTEGER NOT NULL DEFAULT 0,
        resume_state  TEXT,
        reason        TEXT,
        scanned_at    INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
      );
      CREATE INDEX orders_state ON orders(state);
      CREATE INDEX orders_created ON orders(created_at);
      CREATE TABLE events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        order_no   TEXT NOT NULL,
        at         TEXT NOT NULL,
        from_state TEXT,
        to_state   TEXT NOT NULL,
        cause      TEXT NOT NULL,
        call       TEXT,
        resp_code  TEXT,
        resp_msg   TEXT,
        delivery   TEXT,
        detail     TEXT
      );
      CREATE INDEX events_order ON events(order_no, id);
    `);
  },
  // v1 -> v2: events are append-only (enforced, not just promised); a delivery flag for the operator;
  // a partial index for the duplicate-scan check (only active orders still hold a code).
  (db) => {
    db.exec(`
      ALTER TABLE orders ADD COLUMN flag TEXT;
      CREATE INDEX orders_active_code ON orders(auth_code) WHERE auth_code IS NOT NULL;
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    `);
  },
  // v2 -> v3: the fleet outbox (telemetry events written in the transaction of the transition that causes
  // them, removed once the broker acknowledged them) and the remote commands' nonces (replays refused
  // across restarts). See src/journal/outbox.ts.
  (db) => {
    db.exec(`
      CREATE TABLE outbox (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        id      TEXT NOT NULL,
        at      TEXT NOT NULL,
        type    TEXT NOT NULL,
        data    TEXT NOT NULL
      );
      CREATE TABLE fleet_nonces (nonce TEXT PRIMARY KEY, ts INTEGER NOT NULL);
    `);
  },
  // v3 -> v4: order numbers carry a random run id drawn at every writable open (journal/orderno.ts); each run is
  // listed with the sequence it started at. The journal gets an identity and a birth date, so tools can say
  // when a journal is younger than the kiosk's history (a lost or replaced journal).
  (db) => {
    const first = (db.prepare('SELECT min(created_at) AS t FROM orders').get() as { t: string | null }).t;
    db.exec(`CREATE TABLE runs (run_id TEXT PRIMARY KEY, opened_at TEXT NOT NULL, first_seq INTEGER NOT NULL, pid INTEGER)`);
    const put = db.prepare(`INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)`);
    put.run('journalId', randomBytes(8).toString('hex'));
    put.run('createdAt', first ?? new Date().toISOString());
  },
  // v4 -> v5: the settlement day the platform gave a paid order (micropay/queryOrder answer stlDate); the daily
  // reconciliations against the platform's settlement file, and each mismatch found (one row per finding, also
  // for a platform charge the journal has no order for). See src/payment/settle-day.ts.
  (db) => {
    db.exec(`
      ALTER TABLE orders ADD COLUMN stl_date TEXT;
      CREATE TABLE reconciliations (
        stl_date  TEXT PRIMARY KEY,
        at        TEXT NOT NULL,
        ok        INTEGER NOT NULL,
        summary   TEXT NOT NULL
      );
      CREATE TABLE settle_findings (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        stl_date  TEXT NOT NULL,
        order_no  TEXT NOT NULL,
        kind      TEXT NOT NULL,
        reason    TEXT NOT NULL,
        at        TEXT NOT NULL,
        acked_at  TEXT,
        ack_note  TEXT,
        UNIQUE (stl_date, order_no, kind)
      );
    `);
  },
  // v5 -> v6: the scan's instant on the monotonic clock and which boot that clock belongs to, so that a
  // restarted daemon measures a code's validity from the scan without trusting the (steppable) wall clock.
  (db) => {
    db.exec(`
      ALTER TABLE orders ADD COLUMN scanned_mono REAL;
      ALTER TABLE orders ADD COLUMN boot_id TEXT;
    `);
  },
  // v6 -> v7: every event says why, as a cause kind the transition table knows (journal/states.ts); events written
  // before keep NULL (their `cause` text says it for people).
  (db) => {
    db.exec(`ALTER TABLE events ADD COLUMN kind TEXT;`);
  },
  // v7 -> v8: an order paid for a vending machine's selection over MDB (docs/mdb.md) keeps the machine's product
  // number and its price as the machine sent it (decimal text); NULL for every other order.
  (db) => {
    db.exec(`
      ALTER TABLE orders ADD COLUMN product_id TEXT;
      ALTER TABLE orders ADD COLUMN vend_price TEXT;
    `);
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class JournalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'JournalError';
  }
}

/**
 * Brings `db` to `target` (default: the newest) in one transaction: every step or none, and one fsync'd commit
 * instead of one a step (a new journal takes all eight at the kiosk's first start; docs/performance.md).
 */
export function migrate(db: Database, file: string, target = SCHEMA_VERSION): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new JournalError(
      'JOURNAL_TOO_NEW',
      `${file}: journal schema version ${current} is newer than this program knows (${SCHEMA_VERSION}); install the newer kiosk version or restore a matching backup`,
    );
  }
  if (current >= target) return;
  db.transaction(() => {
    for (let v = current; v < target; v++) MIGRATIONS[v]!(db);
    db.pragma(`user_version = ${target}`);
  }).immediate();
}
