import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalError, openJournal, type Journal, type NewOrder } from '../../src/journal/journal.js';
import { Outbox, type OrderEventData } from '../../src/journal/outbox.js';

const CODE = '134567890123456789';
const T0 = Date.parse('2026-06-01T10:00:00.000Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();

function order(over: Partial<NewOrder> = {}): NewOrder {
  return {
    deviceId: 'K1', date: '20260601', orderTime: '20260601100000', txnAmt: '150', orderType: 'wechat', authCode: CODE, authMask: 'wechat…6789',
    goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: T0, at: iso(0), ...over,
  };
}

describe('journal outbox (fleet events)', () => {
  let dir: string;
  let j: Journal;
  let out: Outbox;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    j = openJournal(join(dir, 'journal.db'));
    out = new Outbox(j);
  });
  afterEach(() => {
    j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes nothing until capture is on (telemetry off costs nothing)', () => {
    const o = j.createOrder(order());
    j.transition(o.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'declined' } }], iso(900));
    assert.equal(out.depth().count, 0);
  });

  it('a final state adds one order event in the same transaction: amount, wallet, flags, seconds to verdict, no code', () => {
    out.captureOrderEvents();
    const o = j.createOrder(order({ orderType: 'alipay' }));
    j.transition(
      o.orderNo,
      [
        { from: 'created', to: 'paid', event: { kind: 'answer', cause: 'micropay: PAID' } },
        { from: 'paid', to: 'delivering', event: { kind: 'release', cause: 'releasing' } },
      ],
      iso(1200),
    );
    assert.equal(out.depth().count, 0, 'paid/delivering are not final');
    j.transition(o.orderNo, [{ from: 'delivering', to: 'delivered', event: { kind: 'released', cause: 'product released' }, patch: { flag: 'test-flag' } }], iso(1700));
    const rows = out.pending(0, 10);
    assert.equal(rows.length, 1);
    const d = JSON.parse(rows[0]!.data) as OrderEventData;
    assert.deepEqual(d, { orderNo: o.orderNo, amountFen: 150, wallet: 'alipay', state: 'delivered', from: 'delivering', flags: ['test-flag'], reason: null, secondsToVerdict: 1.2, seconds: 1.7 });
    assert.equal(rows[0]!.type, 'order');
    assert.match(rows[0]!.id, /^[0-9a-f-]{36}$/);
    assert.ok(!rows[0]!.data.includes(CODE.slice(0, 8)) && !rows[0]!.data.includes(CODE.slice(-8)));
  });

  it('a transition that fails (stale state) leaves no event: the event commits or rolls back with it', () => {
    out.captureOrderEvents();
    const o = j.createOrder(order());
    assert.throws(
      () =>
        j.transition(
          o.orderNo,
          [
            { from: 'created', to: 'failed', event: { kind: 'answer', cause: 'x' } },
            { from: 'created', to: 'reversed', event: { kind: 'answer', cause: 'stale' } },
          ],
          iso(1),
        ),
      (e: unknown) => e instanceof JournalError && e.code === 'STALE_STATE',
    );
    assert.equal(out.depth().count, 0);
    assert.equal(j.get(o.orderNo)!.state, 'created');
  });

  it('attention raised and cleared are events; notes (no state change) are not', () => {
    out.captureOrderEvents();
    const o = j.createOrder(order());
    j.transition(o.orderNo, [{ from: 'created', to: 'reversing', event: { kind: 'recovery', cause: 'recovery' } }], iso(1000));
    j.note(o.orderNo, 'reversing', { kind: 'answer', cause: 'cancelOrder: REFUSED' }, iso(2000));
    j.transition(o.orderNo, [{ from: 'reversing', to: 'attention', event: { kind: 'effort-spent', cause: 'bounded effort spent' }, patch: { reason: 'not finished after 8 attempts', resumeState: 'reversing' } }], iso(3000));
    j.transition(o.orderNo, [{ from: 'attention', to: 'reversed', event: { kind: 'answer', cause: 'cancelOrder: DONE' } }], iso(4000));
    const rows = out.pending(0, 10).map((r): Record<string, unknown> => ({ type: r.type, ...(JSON.parse(r.data) as Record<string, unknown>) }));
    assert.deepEqual(
      rows.map((r) => [r.type, r.raised ?? r.cleared ?? r.state]),
      [
        ['attention', true],
        ['attention', true],
        ['order', 'reversed'],
      ],
    );
    assert.equal(rows[0]!.reason, 'not finished after 8 attempts');
    assert.equal(rows[2]!.secondsToVerdict, 1);
  });

  it('pending pages in order; remove takes acknowledged events out; append adds non-order events', () => {
    out.captureOrderEvents();
    for (let i = 0; i < 5; i++) {
      const o = j.createOrder(order({ authCode: `13456789012345${String(i).padStart(4, '0')}` }));
      j.transition(o.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'declined' } }], iso(100 * i));
    }
    out.append('fault', { source: 'scanner', detail: 'unplugged' }, iso(999));
    const all = out.pending(0, 100);
    assert.equal(all.length, 6);
    assert.deepEqual(all.map((r) => r.seq), [...all.map((r) => r.seq)].sort((a, b) => a - b));
    assert.equal(all[5]!.type, 'fault');
    assert.deepEqual(out.pending(all[1]!.seq, 2).map((r) => r.seq), [all[2]!.seq, all[3]!.seq]);
    out.remove([all[0]!.seq, all[1]!.seq]);
    assert.equal(out.depth().count, 4);
    assert.equal(j.db.pragma('synchronous', { simple: true }), 2, 'the payment path keeps synchronous=FULL');
    assert.equal(new Set(all.map((r) => r.id)).size, 6);
  });

  it('the size and age caps drop the oldest, count them, and say so with a dropped event', () => {
    // Age on the outbox's own clock: a second of monotonic time between the events, marked by a trim each time.
    const clock = { bootId: 'boot-1', m: 0, mono() {
      return this.m;
    } };
    for (let i = 0; i < 10; i++) {
      out.append('fault', { n: i }, iso(i * 1000));
      assert.equal(out.trim(100, 1e5, clock), 0);
      clock.m += 1000;
    }
    assert.equal(out.trim(5, 1e5, clock), 6); // 4 kept + the dropped event = 5
    let rows = out.pending(0, 100);
    assert.deepEqual(rows.slice(0, 4).map((r) => (JSON.parse(r.data) as { n: number }).n), [6, 7, 8, 9]);
    assert.deepEqual(JSON.parse(rows[4]!.data), { count: 6, total: 6, maxEvents: 5, maxAgeMs: 1e5 });
    assert.equal(out.trim(100, 1500, clock), 3); // older than 1.5 s at 10 s: 6, 7 and 8 (marked at 6, 7, 8 s)
    rows = out.pending(0, 100);
    assert.deepEqual(rows.map((r) => r.type), ['fault', 'dropped', 'dropped']);
    assert.equal(out.depth().dropped, 9);
  });

  it('issue 21 §13: a wall-clock step (+31 days) does not age the outbox; monotonic time does, across a restart of the same boot only', () => {
    const clock = { bootId: 'boot-1', m: 5_000, mono() {
      return this.m;
    } };
    const DAY = 86_400_000;
    // Events stamped by a wall clock a month ahead (NTP stepped it): seconds old, kept.
    for (let i = 0; i < 3; i++) out.append('fault', { n: i }, new Date(Date.now() + 31 * DAY).toISOString());
    assert.equal(out.trim(100, 30 * DAY, clock), 0);
    clock.m += 5_000;
    assert.equal(out.trim(100, 30 * DAY, clock), 0);
    assert.equal(out.depth().count, 3);
    // A restart of the daemon in the same boot: the time between counts.
    j.close();
    j = openJournal(join(dir, 'journal.db'));
    out = new Outbox(j);
    clock.m += 20 * DAY;
    assert.equal(out.trim(100, 30 * DAY, clock), 0);
    // A reboot (another boot id, monotonic from 0) or the journal copied to another kiosk: that gap does not count.
    const other = { bootId: 'boot-2', m: 1_000, mono() {
      return this.m;
    } };
    assert.equal(out.trim(100, 30 * DAY, other), 0);
    other.m += 9 * DAY;
    assert.equal(out.trim(100, 30 * DAY, other), 0, '29 days of running: kept');
    other.m += 2 * DAY;
    assert.equal(out.trim(100, 30 * DAY, other), 3, '31 days of running: dropped');
  });

  it('nonces: a replay is refused, also after a restart; pruning follows the commands own timestamps', () => {
    const keep = 60_000;
    assert.equal(out.acceptNonce('n1', T0, keep), 'ok');
    assert.equal(out.acceptNonce('n1', T0, keep), 'replay');
    assert.equal(out.acceptNonce('n2', T0 - 30_000, keep), 'ok');
    j.close();
    j = openJournal(join(dir, 'journal.db'));
    out = new Outbox(j);
    assert.equal(out.acceptNonce('n1', T0, keep), 'replay', 'remembered across a restart');
    assert.equal(out.acceptNonce('n3', T0 + 120_000, keep), 'ok');
    // n1 is forgotten now, but its timestamp is too old to be accepted again.
    assert.equal(out.acceptNonce('n1', T0, keep), 'too-old');
    assert.equal((j.db.prepare('SELECT count(*) AS n FROM fleet_nonces').get() as { n: number }).n, 1);
  });
});
