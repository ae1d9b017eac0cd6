// The journal's read side (src/journal/reader.ts): what the CLI, reports, recovery and the settlement read, exactly:
// which orders each query returns, in which order, with which fields, and never a payment code where it says so.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openJournal, type Journal, type NewOrder } from '../../src/journal/journal.js';
import { quickCheckFile } from '../../src/journal/reader.js';

let n = 0;
function order(over: Partial<NewOrder> = {}): NewOrder {
  n++;
  return {
    deviceId: 'K1', date: '20260601', orderTime: '20260601100000', txnAmt: '150', orderType: 'wechat', authCode: `1345678901234${String(n).padStart(5, '0')}`, authMask: 'm',
    goodsId: 'G', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1, at: '2026-06-01T10:00:00.000Z', ...over,
  };
}

describe('journal reader: the queries', () => {
  let dir: string;
  let j: Journal;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-reader-'));
    j = openJournal(join(dir, 'journal.db'));
  });
  afterEach(() => {
    j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fail = (no: string, at: string) => j.transition(no, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'declined' } }], at);

  it('get, getPublic, knownOrderNos, events: exact, unknown numbers give nothing', () => {
    const a = j.createOrder(order());
    assert.equal(j.get('nope'), undefined);
    assert.equal(j.getPublic('nope'), undefined);
    const pub = j.getPublic(a.orderNo)!;
    const { authCode, ...rest } = j.get(a.orderNo)!;
    assert.ok(authCode);
    assert.deepEqual(pub, rest);
    assert.deepEqual([...j.knownOrderNos([a.orderNo, 'nope', `${a.orderNo}x`])], [a.orderNo]);
    assert.deepEqual([...j.knownOrderNos([])], []);
    assert.deepEqual(j.events('nope'), []);
    assert.deepEqual(j.events(a.orderNo), [{ id: 1, orderNo: a.orderNo, at: '2026-06-01T10:00:00.000Z', from: null, to: 'created', cause: 'scanned', call: null, respCode: null, respMsg: null, delivery: null, detail: 'm', kind: 'scan' }]);
  });

  it('activeByAuthCode and unfinished: only orders that are not final, oldest first, with their codes', () => {
    const a = j.createOrder(order());
    const b = j.createOrder(order());
    const c = j.createOrder(order());
    fail(b.orderNo, 't');
    assert.equal(j.activeByAuthCode(a.authCode!), a.orderNo);
    assert.equal(j.activeByAuthCode(b.authCode!), undefined);
    assert.equal(j.activeByAuthCode('999'), undefined);
    const un = j.unfinished();
    assert.deepEqual(un.map((o) => o.orderNo), [a.orderNo, c.orderNo]);
    assert.equal(un[0]!.authCode, a.authCode);
    assert.equal(un[0]!.final, false);
  });

  it('list: newest first, by state, since, a limit (whole numbers), never a code; counts by state; the last payment', () => {
    assert.deepEqual(j.list(), []);
    assert.equal(j.lastPayment(), undefined);
    assert.deepEqual(j.countsByState(), {});
    const a = j.createOrder(order({ at: '2026-06-01T09:00:00.000Z' }));
    const b = j.createOrder(order({ at: '2026-06-01T10:00:00.000Z' }));
    const c = j.createOrder(order({ at: '2026-06-01T11:00:00.000Z' }));
    fail(a.orderNo, 't');
    fail(c.orderNo, 't');
    assert.deepEqual(j.list().map((o) => o.orderNo), [c.orderNo, b.orderNo, a.orderNo]);
    assert.deepEqual(j.list({ limit: 2 }).map((o) => o.orderNo), [c.orderNo, b.orderNo]);
    assert.deepEqual(j.list({ limit: 1.9 }).map((o) => o.orderNo), [c.orderNo]);
    assert.deepEqual(j.list({ state: 'failed' }).map((o) => o.orderNo), [c.orderNo, a.orderNo]);
    assert.deepEqual(j.list({ state: 'failed', since: '2026-06-01T10:00:00.000Z' }).map((o) => o.orderNo), [c.orderNo]);
    assert.deepEqual(j.list({ since: '2026-06-01T10:00:00.000Z' }).map((o) => o.orderNo), [c.orderNo, b.orderNo], 'since is inclusive');
    assert.deepEqual(j.list({ state: 'failed', since: '2026-06-01T10:00:00.000Z', limit: 5 }).map((o) => o.orderNo), [c.orderNo]);
    for (const o of j.list()) assert.ok(!('authCode' in o));
    assert.equal(j.list()[1]!.final, false, 'booleans as booleans');
    assert.equal(j.list()[0]!.final, true);
    assert.deepEqual(j.countsByState(), { failed: 2, created: 1 });
    const last = j.lastPayment()!;
    assert.equal(last.orderNo, c.orderNo);
    assert.ok(!('authCode' in last));
    assert.equal(last.final, true);
  });

  it('unfinishedSummary: how many per state and the oldest of all (not of the first state)', () => {
    assert.deepEqual(j.unfinishedSummary(), { count: 0, oldestCreatedAt: null, byState: {} });
    const a = j.createOrder(order({ at: '2026-06-01T12:00:00.000Z' }));
    j.transition(a.orderNo, [{ from: 'created', to: 'unknown', event: { kind: 'threw', cause: 'timeout' } }], 't');
    j.createOrder(order({ at: '2026-06-01T08:00:00.000Z' }));
    j.createOrder(order({ at: '2026-06-01T09:00:00.000Z' }));
    const d = j.createOrder(order({ at: '2026-06-01T07:00:00.000Z' }));
    fail(d.orderNo, 't');
    assert.deepEqual(j.unfinishedSummary(), { count: 3, oldestCreatedAt: '2026-06-01T08:00:00.000Z', byState: { created: 2, unknown: 1 } });
    const e = j.createOrder(order({ at: '2026-06-01T06:00:00.000Z' }));
    j.transition(e.orderNo, [{ from: 'created', to: 'unknown', event: { kind: 'threw', cause: 'timeout' } }], 't');
    assert.equal(j.unfinishedSummary().oldestCreatedAt, '2026-06-01T06:00:00.000Z');
  });

  it('dayReport and dayProducts: [from, to) by created_at, sums in fen, grouped and ordered; products only for MDB orders', () => {
    j.createOrder(order({ at: '2026-06-01T00:00:00.000Z', txnAmt: '100', orderType: 'wechat', productId: '2', vendPrice: '1.00' }));
    j.createOrder(order({ at: '2026-06-01T12:00:00.000Z', txnAmt: '250', orderType: 'wechat', productId: '2', vendPrice: '2.50' }));
    j.createOrder(order({ at: '2026-06-01T13:00:00.000Z', txnAmt: '300', orderType: 'alipay', productId: '1', vendPrice: '3.00' }));
    const f = j.createOrder(order({ at: '2026-06-01T14:00:00.000Z', txnAmt: '7', orderType: 'alipay' }));
    fail(f.orderNo, 't');
    j.createOrder(order({ at: '2026-06-02T00:00:00.000Z', txnAmt: '999', productId: '2' }));
    j.createOrder(order({ at: '2026-05-31T23:59:59.999Z', txnAmt: '999', productId: '2' }));
    const from = '2026-06-01T00:00:00.000Z';
    const to = '2026-06-02T00:00:00.000Z';
    assert.deepEqual(j.dayReport(from, to), [
      { orderType: 'alipay', state: 'created', count: 1, amountFen: 300 },
      { orderType: 'alipay', state: 'failed', count: 1, amountFen: 7 },
      { orderType: 'wechat', state: 'created', count: 2, amountFen: 350 },
    ]);
    assert.deepEqual(j.dayProducts(from, to), [
      { productId: '1', state: 'created', count: 1, amountFen: 300 },
      { productId: '2', state: 'created', count: 2, amountFen: 350 },
    ]);
  });

  it('settlement reads: orders a day can mention (ordered, settled or changed on or after it), findings by day and open, the last reconciliation', () => {
    const old = j.createOrder(order({ orderTime: '20260530100000', at: '2026-05-30T02:00:00.000Z' }));
    const ordered = j.createOrder(order({ orderTime: '20260601000000', at: '2026-05-31T16:00:00.000Z' }));
    const settled = j.createOrder(order({ orderTime: '20260530110000', at: '2026-05-30T03:00:00.000Z' }));
    j.transition(settled.orderNo, [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'paid' }, patch: { stlDate: '20260601' } }], '2026-05-30T03:00:01.000Z');
    const changed = j.createOrder(order({ orderTime: '20260530120000', at: '2026-05-30T04:00:00.000Z' }));
    fail(changed.orderNo, '2026-05-31T16:00:00.000Z');
    const fromIso = '2026-05-31T16:00:00.000Z';
    const got = j.ordersForSettlement('20260601', fromIso);
    assert.deepEqual(got.map((o) => o.orderNo), [ordered.orderNo, settled.orderNo, changed.orderNo]);
    assert.ok(got.every((o) => !('authCode' in o)));
    assert.ok(!got.some((o) => o.orderNo === old.orderNo));

    assert.equal(j.lastReconciliation(), undefined);
    j.recordReconciliation({ stlDate: '20260601', at: 'a1', ok: true, summary: { rows: 3 }, findings: [] });
    j.recordReconciliation({ stlDate: '20260531', at: 'a0', ok: false, summary: { rows: 1 }, findings: [{ orderNo: old.orderNo, kind: 'amount-mismatch', reason: 'r0' }] });
    j.recordReconciliation({ stlDate: '20260601', at: 'a2', ok: false, summary: { rows: 4 }, findings: [{ orderNo: ordered.orderNo, kind: 'missing', reason: 'r1' }, { orderNo: 'X1', kind: 'unknown-charge', reason: 'r2' }] });
    assert.deepEqual(j.lastReconciliation(), {
      stlDate: '20260601', at: 'a2', ok: false, summary: { rows: 4 },
      findings: [
        { stlDate: '20260601', orderNo: ordered.orderNo, kind: 'missing', reason: 'r1', at: 'a2', ackedAt: null },
        { stlDate: '20260601', orderNo: 'X1', kind: 'unknown-charge', reason: 'r2', at: 'a2', ackedAt: null },
      ],
    });
    assert.deepEqual(j.settleFindings().map((f) => f.reason), ['r0', 'r1', 'r2']);
    assert.deepEqual(j.settleFindings('20260531').map((f) => f.reason), ['r0']);
    j.ackSettleFindings(ordered.orderNo, 'seen', 'a3');
    assert.deepEqual(j.settleFindings(undefined, { open: true }).map((f) => f.reason), ['r0', 'r2']);
    assert.deepEqual(j.settleFindings('20260601', { open: true }).map((f) => f.reason), ['r2']);
    assert.deepEqual(j.settleFindings('20260601').map((f) => [f.reason, f.ackedAt]), [['r1', 'a3'], ['r2', null]]);
    const ackNote = j.db.prepare(`SELECT ack_note AS note FROM settle_findings WHERE order_no = ?`).get(ordered.orderNo) as { note: string };
    assert.equal(ackNote.note, 'seen');
    assert.deepEqual([j.reconciled('20260531'), j.reconciled('20260601'), j.reconciled('20260602')], [true, true, false]);
    j.recordReconciliation({ stlDate: '20260602', at: 'a4', ok: true, summary: {}, findings: [] });
    assert.deepEqual([j.lastReconciliation()!.stlDate, j.lastReconciliation()!.ok, j.lastReconciliation()!.findings], ['20260602', true, []]);
  });

  it('a settlement finding flags its order with one event (kind settlement, the flag as detail); the acknowledgement drops only the settlement parts', () => {
    const o = j.createOrder(order());
    j.recordReconciliation({ stlDate: '20260601', at: 'r1', ok: false, summary: {}, findings: [{ orderNo: o.orderNo, kind: 'k1', reason: 'first' }, { orderNo: o.orderNo, kind: 'k2', reason: 'second' }] });
    assert.equal(j.get(o.orderNo)!.flag, 'settlement 20260601: first; settlement 20260601: second');
    const evs = j.events(o.orderNo).slice(1);
    assert.deepEqual(evs.map((e) => [e.from, e.to, e.kind, e.cause, e.detail, e.at]), [
      ['created', 'created', 'settlement', 'settlement mismatch', 'settlement 20260601: first', 'r1'],
      ['created', 'created', 'settlement', 'settlement mismatch', 'settlement 20260601: second', 'r1'],
    ]);
    assert.equal(j.ackSettleFindings(o.orderNo, 'called the bank', 'k1'), 2);
    assert.equal(j.get(o.orderNo)!.flag, null, 'nothing left');
    const ack = j.events(o.orderNo).at(-1)!;
    assert.deepEqual([ack.kind, ack.cause, ack.detail, ack.at], ['settlement', 'settlement mismatch acknowledged', 'called the bank', 'k1']);
    assert.equal(j.ackSettleFindings('nope', 'x', 'k2'), 0);
    assert.equal(j.ackSettleFindings(o.orderNo, 'again', 'k2'), 0);
    // Other flags stay, in their order.
    j.note(o.orderNo, 'created', { kind: 'settlement', cause: 'by hand' }, 'k2', { flag: 'relay failed; door open' });
    j.recordReconciliation({ stlDate: '20260604', at: 'r5', ok: false, summary: {}, findings: [{ orderNo: o.orderNo, kind: 'k4', reason: 'fourth' }] });
    j.ackSettleFindings(o.orderNo, 'ok', 'k5');
    assert.equal(j.get(o.orderNo)!.flag, 'relay failed; door open');
    // A finding about a charge the journal has no order for is acknowledged too (nothing to unflag).
    j.recordReconciliation({ stlDate: '20260602', at: 'r2', ok: false, summary: {}, findings: [{ orderNo: 'X9', kind: 'unknown-charge', reason: 'r' }] });
    assert.equal(j.ackSettleFindings('X9', 'refunded by hand', 'k3'), 1);
    // An order whose flag was cleared by hand meanwhile: the acknowledgement leaves no flag.
    j.recordReconciliation({ stlDate: '20260603', at: 'r3', ok: false, summary: {}, findings: [{ orderNo: o.orderNo, kind: 'k3', reason: 'third' }] });
    j.note(o.orderNo, 'created', { kind: 'settlement', cause: 'cleared by hand' }, 'r4', { flag: null });
    assert.equal(j.ackSettleFindings(o.orderNo, 'ok', 'k4'), 1);
    assert.equal(j.get(o.orderNo)!.flag, null);
    assert.equal(j.events(o.orderNo).filter((e) => e.at === 'k2' && e.cause !== 'by hand').length, 0, 'no event when nothing was open');
  });

  it('identity: the runs in the order their sequences start', () => {
    j.createOrder(order());
    j.close();
    j = openJournal(join(dir, 'journal.db'));
    const id = j.identity();
    assert.deepEqual(id.runs.map((r) => r.firstSeq), [1, 2]);
    assert.equal(id.runs[1]!.runId, j.runId);
    assert.equal(j.quickCheck(), 'ok');
    assert.equal(j.integrityCheck(), 'ok');
    // Meta rows deleted by hand: said as unknown, not a crash.
    j.db.prepare(`DELETE FROM meta WHERE key IN ('journalId', 'createdAt')`).run();
    assert.deepEqual([j.identity().journalId, j.identity().createdAt], [null, null]);
  });

  it('the checks name every problem, one after another', () => {
    j.close();
    // Two rows breaking a NOT NULL that SQLite was told about afterwards: one problem each.
    const raw = new Database(join(dir, 'journal.db'));
    raw.exec('CREATE TABLE filler(x); INSERT INTO filler VALUES (NULL), (NULL);');
    raw.unsafeMode(true);
    raw.pragma('writable_schema = ON');
    raw.prepare(`UPDATE sqlite_master SET sql = 'CREATE TABLE filler(x NOT NULL)' WHERE name = 'filler'`).run();
    raw.close();
    j = openJournal(join(dir, 'journal.db'));
    const both = 'NULL value in filler.x; NULL value in filler.x';
    assert.deepEqual([j.integrityCheck(), j.quickCheck(), quickCheckFile(join(dir, 'journal.db'))], [both, both, both]);
  });

  it('orderNosWithout: the numbers not of this prefix, in order, a page at a time from any number on', () => {
    const no = (deviceId: string) => j.createOrder(order({ deviceId })).orderNo;
    const own = [no('KIOSK7'), no('KIOSK7')];
    // Just below and just above the prefix's range, and both sides of where its next prefix (KIOSK8) starts.
    const others = [no('B2'), no('KIOSK6'), no('KIOSK'), no('KIOSK8'), no('KIOSL'), no('KIOSK79'), no('Q1')].filter((o) => !o.startsWith('KIOSK7')).sort();
    assert.equal(others.length, 6, 'KIOSK79 numbers start as KIOSK7 ones do');
    assert.deepEqual(j.orderNosWithout('KIOSK7'), others);
    assert.deepEqual(j.orderNosWithout(''), [], 'every number starts with the empty prefix');
    assert.deepEqual(j.orderNosWithout('KIOSK7', '', 3), others.slice(0, 3), 'a page of numbers below the range');
    assert.deepEqual(j.orderNosWithout('KIOSK7', others[1], 3), others.slice(2, 5), 'a page across the range');
    assert.deepEqual(j.orderNosWithout('KIOSK7', own[0], 10), others.slice(3), 'from a number in the range');
    assert.deepEqual(j.orderNosWithout('KIOSK7', others[4], 10), others.slice(5), 'from a number above the range');
    assert.deepEqual(j.orderNosWithout('KIOSK7', others[5], 10), []);
  });

  it('publicOrders and ordersForSettlement: exactly the orders asked for or of the day, from the first order on, never a code', () => {
    const first = j.createOrder(order());
    const second = j.createOrder(order());
    assert.deepEqual(j.publicOrders([second.orderNo, 'nope']), [j.getPublic(second.orderNo)]);
    assert.deepEqual(j.publicOrders([]), []);
    assert.deepEqual(j.ordersForSettlement('20260601', '2026-06-01T00:00:00.000Z'), [j.getPublic(first.orderNo), j.getPublic(second.orderNo)]);
  });
});
