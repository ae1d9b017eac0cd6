import assert from 'node:assert/strict';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openJournal, orderNoPrefix, SCHEMA_VERSION, type Journal, type NewOrder } from '../../src/journal/journal.js';
import { migrate, MIGRATIONS } from '../../src/journal/schema.js';
import { parseOrderNo } from '../../src/journal/orderno.js';
import { compareDay } from '../../src/payment/settle-day.js';

const CODE = '134567890123456789';

function order(over: Partial<NewOrder> = {}): NewOrder {
  return {
    deviceId: 'kiosk-07', date: '20260601', orderTime: '20260601100000', txnAmt: '150', orderType: 'wechat', authCode: CODE, authMask: 'wechat…6789',
    goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1, at: '2026-06-01T10:00:00.000Z', ...over,
  };
}

describe('journal', () => {
  let dir: string;
  let j: Journal;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-'));
    j = openJournal(join(dir, 'state', 'journal.db'));
  });
  afterEach(() => {
    j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a settlement mismatch flags its order (other flags kept) in one transaction, once; acknowledging it clears only that part', () => {
    const o = j.createOrder(order());
    j.note(o.orderNo, 'created', { kind: 'settlement', cause: 'test' }, '2026-06-01T10:00:01.000Z', { flag: 'relay failed' });
    const rec = (at: string) =>
      j.recordReconciliation({ stlDate: '20260601', at, ok: false, summary: { rows: 1 }, findings: [{ orderNo: o.orderNo, kind: 'amount-mismatch', reason: 'amount differs' }, { orderNo: 'K0720260601999999', kind: 'paid-not-delivered', reason: 'unknown here' }] });
    assert.equal(rec('2026-06-02T09:30:00.000Z').newFindings, 2);
    assert.equal(rec('2026-06-02T10:30:00.000Z').newFindings, 0, 'a second run of the day adds nothing');
    assert.equal(j.get(o.orderNo)!.flag, 'relay failed; settlement 20260601: amount differs');
    assert.equal(j.events(o.orderNo).filter((e) => e.cause === 'settlement mismatch').length, 1);
    assert.deepEqual([j.reconciled('20260601'), j.reconciled('20260602'), j.lastReconciliation()!.at], [true, false, '2026-06-02T10:30:00.000Z']);
    assert.equal(j.ackSettleFindings(o.orderNo, 'checked with support', '2026-06-02T11:00:00.000Z'), 1);
    assert.equal(j.get(o.orderNo)!.flag, 'relay failed');
    assert.deepEqual(j.settleFindings(undefined, { open: true }).map((f) => f.orderNo), ['K0720260601999999']);
    assert.equal(j.ackSettleFindings(o.orderNo, 'again', '2026-06-02T11:00:01.000Z'), 0);
  });

  it('a settlement flag or its acknowledgement does not move a returned order into a later day\'s file (no new finding every day)', () => {
    const local = (d: number, h: number) => new Date(2026, 5, d, h).toISOString();
    const o = j.createOrder(order({ at: local(1, 10) }));
    j.transition(o.orderNo, [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'paid' } }, { from: 'paid', to: 'delivering', event: { kind: 'release', cause: 'vend' } }], local(1, 10));
    j.transition(o.orderNo, [{ from: 'delivering', to: 'refunding', event: { kind: 'vend-failed', cause: 'relay' }, patch: { refundNo: `${o.orderNo}R1`, refundAmt: '150' } }], local(1, 10));
    j.transition(o.orderNo, [{ from: 'refunding', to: 'refunded', event: { kind: 'answer', cause: 'refunded' } }], local(1, 11));
    // The 20260601 file is reconciled the next morning and finds something about this order (here: its fee).
    j.recordReconciliation({ stlDate: '20260601', at: local(2, 9), ok: false, summary: {}, findings: [{ orderNo: o.orderNo, kind: 'fee-mismatch', reason: 'fees do not add up' }] });
    assert.deepEqual(compareDay(j, [], '20260602', 'kiosk-07', '41509208').findings, [], 'the flag made a clean 20260602 unclean');
    j.ackSettleFindings(o.orderNo, 'checked', local(3, 9));
    assert.deepEqual(compareDay(j, [], '20260603', 'kiosk-07', '41509208').findings, [], 'the acknowledgement made a clean 20260603 unclean');
    assert.equal(j.get(o.orderNo)!.updatedAt, local(1, 11), 'updatedAt is when the order last changed state');
  });

  it('creates the file 0600 in a 0700 folder, WAL, synchronous=FULL, newest schema', () => {
    assert.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'state', 'journal.db')).mode & 0o777, 0o600);
    assert.equal(j.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(j.db.pragma('synchronous', { simple: true }), 2);
    assert.equal(j.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  });

  it('under umask 022 the -wal and -shm side files are 0600 too; secure_delete is on and an erased code leaves no bytes', () => {
    const old = process.umask(0o022);
    const file = join(dir, 'u', 'journal.db');
    try {
      const k = openJournal(file);
      const o = k.createOrder(order());
      for (const side of ['-wal', '-shm']) assert.equal(statSync(file + side).mode & 0o777, 0o600, side);
      assert.equal(k.db.pragma('secure_delete', { simple: true }), 1);
      k.transition(o.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'declined' } }], 'now');
      k.close(); // checkpoints the WAL into the file
    } finally {
      process.umask(old);
    }
    assert.ok(!readFileSync(file).includes(CODE), 'the erased payment code is still in the file');
  });

  it('purgeWal: an erased code leaves no bytes in the WAL of a journal that stays open', () => {
    const file = join(dir, 'open.db');
    const k = openJournal(file);
    const o = k.createOrder(order());
    k.transition(o.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'declined' } }], 'now');
    assert.ok(readFileSync(file + '-wal').includes(CODE), 'precondition: the WAL holds the code before the purge');
    assert.equal(k.purgeWal(), true);
    for (const f of [file, file + '-wal']) assert.ok(!readFileSync(f).includes(CODE), `the erased payment code is still in ${f}`);
    k.close();
  });

  it('side files restored with a loose mode (a backup copied under umask 022) are made 0600 at open', () => {
    // A copy of a live journal: the -wal holds the latest commits (and the codes of open orders).
    const live = openJournal(join(dir, 'live.db'));
    live.createOrder(order());
    const file = join(dir, 'restored.db');
    for (const side of ['', '-wal', '-shm']) {
      copyFileSync(join(dir, 'live.db') + side, file + side);
      chmodSync(file + side, 0o644);
    }
    live.close();
    const k = openJournal(file);
    k.createOrder(order());
    for (const f of [file, file + '-wal', file + '-shm']) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    k.close();
  });

  it('a file that is not a journal is refused with its name (the daemon prints this and exits)', () => {
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, Buffer.alloc(4096, 7), { mode: 0o600 });
    assert.throws(() => openJournal(garbage), (e: Error & { code?: string }) => e.code === 'NOT_A_JOURNAL' && e.message.startsWith(`${garbage}: not a journal (file is not a database)`));
    const foreign = join(dir, 'foreign.db');
    const f = new Database(foreign);
    f.exec('CREATE TABLE x (a)');
    f.pragma(`user_version = ${SCHEMA_VERSION}`);
    f.close();
    assert.throws(() => openJournal(foreign), (e: Error) => e.message.startsWith(`${foreign}: not a journal (no such table: orders)`));
  });

  it('order numbers: device + date + sequence + this run\'s random id, [A-Za-z0-9_], ≤ 58 (room for a refund serial), unique across reopen', () => {
    const a = j.createOrder(order());
    const b = j.createOrder(order({ authCode: '134567890123456780' }));
    assert.match(a.orderNo, /^kiosk0720260601000001_[0-9a-z]{10}$/);
    assert.equal(b.orderNo, `kiosk0720260601000002_${j.runId}`);
    assert.equal(a.orderNo.slice(-10), j.runId);
    j.close();
    j = openJournal(join(dir, 'state', 'journal.db'));
    // Same date again (a clock set back): still unique thanks to the sequence, and a new run id.
    const c = j.createOrder(order({ date: '20250101' }));
    assert.match(c.orderNo, /^kiosk0720250101000003_[0-9a-z]{10}$/);
    assert.notEqual(c.orderNo.slice(-10), a.orderNo.slice(-10));
    const long = j.createOrder(order({ deviceId: 'x'.repeat(100) }));
    assert.ok(long.orderNo.length <= 58 && /^[A-Za-z0-9_]+$/.test(long.orderNo), long.orderNo);
    assert.throws(() => orderNoPrefix('--'), /no letters or digits/);
    assert.deepEqual(parseOrderNo(c.orderNo, 'kiosk-07'), { date: '20250101', seq: 3, runId: c.orderNo.slice(-10) });
    assert.deepEqual(parseOrderNo('kiosk0720250101000003', 'kiosk-07'), { date: '20250101', seq: 3 }, 'a number from before run ids');
    assert.equal(parseOrderNo('other0120250101000003', 'kiosk-07'), undefined);
  });

  it('a fresh, restored or cloned journal never makes a number any journal made before (issue 10 §1)', () => {
    const file = join(dir, 'state', 'journal.db');
    const made = new Set<string>();
    const take = (k: Journal, n: number) => {
      for (let i = 0; i < n; i++) {
        const no = k.createOrder(order({ authCode: `1345678901234${String(made.size).padStart(5, '0')}` })).orderNo;
        assert.ok(!made.has(no), `${no} made twice`);
        made.add(no);
      }
    };
    take(j, 2);
    j.close();
    const backup = join(dir, 'backup.db');
    copyFileSync(file, backup);
    j = openJournal(file);
    take(j, 3);
    j.close();
    // Restored from the older backup: its sequence goes back to 2.
    copyFileSync(backup, file);
    rmSync(file + '-wal', { force: true });
    rmSync(file + '-shm', { force: true });
    j = openJournal(file);
    take(j, 3);
    // Cloned onto a second kiosk with the same deviceId, both running.
    const clone = join(dir, 'clone', 'journal.db');
    j.close();
    openJournal(clone).close();
    copyFileSync(file, clone);
    rmSync(clone + '-wal', { force: true });
    rmSync(clone + '-shm', { force: true });
    j = openJournal(file);
    const k = openJournal(clone);
    try {
      take(j, 2);
      take(k, 2);
    } finally {
      k.close();
    }
    // A fresh journal (lost SD card).
    const fresh = openJournal(join(dir, 'fresh', 'journal.db'));
    try {
      take(fresh, 3);
    } finally {
      fresh.close();
    }
    assert.equal(made.size, 15);
    // The runs are listed with where their sequence started; the journal has an identity and a birth date.
    const id = j.identity();
    assert.match(id.journalId!, /^[0-9a-f]{16}$/);
    assert.ok(id.createdAt);
    assert.deepEqual(id.runs.map((r) => r.firstSeq), [1, 3, 6]);
  });

  it('issue 10 §6: a journal path (or its -wal) that is a symlink, or a file of another user, is refused before any chmod or write', () => {
    const target = join(dir, 'passwd');
    writeFileSync(target, 'root:x:0:0::/root:/bin/sh\n', { mode: 0o644 });
    chmodSync(target, 0o644);
    const link = join(dir, 'link.db');
    symlinkSync(target, link);
    assert.throws(() => openJournal(link), (e: Error & { code?: string }) => e.code === 'JOURNAL_SYMLINK' && e.message.includes(link));
    assert.equal(statSync(target).mode & 0o777, 0o644, 'the target was not made 0600');
    assert.equal(readFileSync(target, 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
    const file = join(dir, 'side.db');
    symlinkSync(target, `${file}-wal`);
    assert.throws(() => openJournal(file), (e: Error & { code?: string }) => e.code === 'JOURNAL_SYMLINK' && e.message.includes('-wal'));
    assert.equal(statSync(target).mode & 0o777, 0o644);
    if (process.getuid?.() === 0) {
      const theirs = join(dir, 'theirs.db');
      writeFileSync(theirs, '', { mode: 0o644 });
      chmodSync(theirs, 0o644);
      chownSync(theirs, 4321, 4321);
      assert.throws(() => openJournal(theirs), (e: Error & { code?: string }) => e.code === 'JOURNAL_NOT_OURS' && /uid 4321/.test(e.message));
      assert.equal(statSync(theirs).mode & 0o777, 0o644);
    }
  });

  it('a transition from the wrong state writes nothing', () => {
    const o = j.createOrder(order());
    assert.throws(
      () => j.transition(o.orderNo, [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'a' } }, { from: 'unknown', to: 'delivering', event: { kind: 'release', cause: 'b' } }], 'now'),
      /STALE|is paid, not unknown/,
    );
    assert.equal(j.get(o.orderNo)!.state, 'created');
    assert.equal(j.events(o.orderNo).length, 1);
  });

  it('the payment code lives only until the order is final; duplicates are found while active', () => {
    const o = j.createOrder(order());
    assert.equal(j.activeByAuthCode(CODE), o.orderNo);
    j.transition(o.orderNo, [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'x', respCode: '00' }, patch: { transactionId: 'T' } }], 'now');
    assert.equal(j.get(o.orderNo)!.authCode, CODE);
    j.transition(o.orderNo, [{ from: 'paid', to: 'delivering', event: { kind: 'release', cause: 'x' } }, { from: 'delivering', to: 'delivered', event: { kind: 'released', cause: 'y' } }], 'now');
    const row = j.get(o.orderNo)!;
    assert.equal(row.authCode, null);
    assert.equal(row.final, true);
    assert.equal(j.activeByAuthCode(CODE), undefined);
    assert.ok(!JSON.stringify(j.list()).includes(CODE));
    assert.ok(!('authCode' in j.getPublic(o.orderNo)!));
    assert.deepEqual(j.events(o.orderNo).map((e) => e.to), ['created', 'paid', 'delivering', 'delivered']);
  });

  it('events are append-only', () => {
    const o = j.createOrder(order());
    assert.throws(() => j.db.prepare('UPDATE events SET cause = ? WHERE order_no = ?').run('x', o.orderNo), /append-only/);
    assert.throws(() => j.db.prepare('DELETE FROM events').run(), /append-only/);
  });

  it('read-only queries: list by state/since, counts, last, unfinished, day report; read-only connection beside the writer', () => {
    const a = j.createOrder(order({ at: '2026-06-01T09:00:00.000Z' }));
    const b = j.createOrder(order({ authCode: '134567890123456780', txnAmt: '200', at: '2026-06-01T11:00:00.000Z' }));
    j.transition(a.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'x' } }], '2026-06-01T09:00:01.000Z');
    const ro = openJournal(join(dir, 'state', 'journal.db'), { readonly: true });
    try {
      assert.deepEqual(ro.list().map((o) => o.orderNo), [b.orderNo, a.orderNo]);
      assert.deepEqual(ro.list({ state: 'failed' }).map((o) => o.orderNo), [a.orderNo]);
      assert.deepEqual(ro.list({ since: '2026-06-01T10:00:00.000Z' }).map((o) => o.orderNo), [b.orderNo]);
      assert.deepEqual(ro.countsByState(), { failed: 1, created: 1 });
      assert.equal(ro.lastPayment()!.orderNo, b.orderNo);
      assert.deepEqual(ro.unfinishedSummary(), { count: 1, oldestCreatedAt: '2026-06-01T11:00:00.000Z', byState: { created: 1 } });
      assert.deepEqual(ro.dayReport('2026-06-01', '2026-06-02'), [
        { orderType: 'wechat', state: 'created', count: 1, amountFen: 200 },
        { orderType: 'wechat', state: 'failed', count: 1, amountFen: 150 },
      ]);
      assert.throws(() => ro.createOrder(order()), /read-only/);
      // The writer keeps writing while a reader is open.
      j.createOrder(order({ authCode: '134567890123456781' }));
      assert.equal(ro.list().length, 3);
      assert.equal(ro.integrityCheck(), 'ok');
    } finally {
      ro.close();
    }
  });

  it('read-only open of a missing journal says where it looked', () => {
    assert.throws(() => openJournal(join(dir, 'nope.db'), { readonly: true }), /nope\.db: no journal here/);
  });

  describe('migrations', () => {
    it('from an empty (v0) file', () => {
      const file = join(dir, 'v0.db');
      new Database(file).close();
      const m = openJournal(file);
      assert.equal(m.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.equal(m.integrityCheck(), 'ok');
      m.close();
    });

    for (let v = 1; v < MIGRATIONS.length; v++) {
      it(`from version ${v}, keeping its orders`, () => {
        const file = join(dir, `v${v}.db`);
        const old = new Database(file);
        migrate(old, file, v);
        old.prepare(`INSERT INTO orders (order_no, seq, state, order_time, txn_amt, order_type, auth_code, auth_mask, goods_id, goods_info, acq_sp_id, acq_mer_id, scanned_at, created_at, updated_at)
          VALUES ('K1', 1, 'unknown', '20260601100000', '100', 'wechat', ?, 'm', 'G', 'g', 'Y471790403', '41509208', 1, 'a', 'a')`).run(CODE);
        old.prepare(`INSERT INTO meta (key, value) VALUES ('seq', '1')`).run();
        old.close();
        const m = openJournal(file);
        assert.equal(m.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
        assert.equal(m.unfinished()[0]!.orderNo, 'K1');
        assert.equal(m.activeByAuthCode(CODE), 'K1');
        const next = m.createOrder(order());
        assert.equal(next.seq, 2);
        // Older numbers stay as they were; new ones carry the run id (v3).
        assert.equal(next.orderNo, `kiosk0720260601000002_${m.runId}`);
        if (v < 4) assert.equal(m.identity().createdAt, 'a', 'a journal is as old as its first order');
        m.close();
      });
    }

    it('refuses a journal from a newer version, naming the file', () => {
      const file = join(dir, 'new.db');
      const db = new Database(file);
      db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      db.close();
      assert.throws(() => openJournal(file), (e: Error & { code?: string }) => e.code === 'JOURNAL_TOO_NEW' && e.message.includes('new.db'));
    });
  });
});
