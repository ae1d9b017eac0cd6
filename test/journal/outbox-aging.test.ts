// The outbox's exact data and its bounds (src/journal/outbox.ts): the attention and order events' fields, the count
// and age caps at their edges, the age marks and the age clock (monotonic, per boot, never moved by a bad record),
// and the remote commands' nonces at the edge of their window. Fake clocks only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal, type NewOrder } from '../../src/journal/journal.js';
import { Outbox } from '../../src/journal/outbox.js';

const T0 = Date.parse('2026-06-01T10:00:00.000Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
let n = 0;
const order = (over: Partial<NewOrder> = {}): NewOrder => ({
  deviceId: 'K1', date: '20260601', orderTime: '20260601100000', txnAmt: '150', orderType: 'wechat', authCode: `1345678901234${String(++n).padStart(5, '0')}`, authMask: 'm',
  goodsId: 'G', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: T0, at: iso(0), ...over,
});
const clockAt = (m: number, bootId = 'boot-1') => ({ bootId, m, mono() {
  return this.m;
} });

describe('journal outbox: exact events, caps, age clock and nonces', () => {
  let dir: string;
  let j: Journal;
  let out: Outbox;
  const meta = (key: string): string | undefined => (j.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  const setMeta = (key: string, value: string) => j.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  const data = () => out.pending(0, 100).map((r): Record<string, unknown> => ({ type: r.type, ...(JSON.parse(r.data) as Record<string, unknown>) }));
  let made = 0;
  /** k fault events, numbered i = 0, 1, 2… across the test. */
  const faults = (k: number) => {
    for (let i = 0; i < k; i++) out.append('fault', { i: made++ });
  };
  beforeEach(() => {
    made = 0;
    dir = mkdtempSync(join(tmpdir(), 'outbox-aging-'));
    j = openJournal(join(dir, 'journal.db'));
    out = new Outbox(j);
  });
  afterEach(() => {
    j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('attention events: raised with where from and why, cleared with where to; the final step after it is an order event', () => {
    out.captureOrderEvents();
    const o = j.createOrder(order());
    j.transition(o.orderNo, [{ from: 'created', to: 'unknown', event: { kind: 'threw', cause: 'timeout' } }], iso(500));
    j.note(o.orderNo, 'unknown', { kind: 'answer', cause: 'still paying' }, iso(900));
    j.transition(o.orderNo, [{ from: 'unknown', to: 'reversing', event: { kind: 'window-over', cause: 'window' } }], iso(2_340));
    j.transition(o.orderNo, [{ from: 'reversing', to: 'attention', event: { kind: 'effort-spent', cause: 'spent' }, patch: { resumeState: 'reversing', reason: '8 attempts' } }], iso(5_000));
    j.transition(o.orderNo, [{ from: 'attention', to: 'refunding', event: { kind: 'answer', cause: 'paid after all' }, patch: { refundNo: `${o.orderNo}R1` } }], iso(6_000));
    j.transition(o.orderNo, [{ from: 'refunding', to: 'refunded', event: { kind: 'answer', cause: 'refunded' } }], iso(7_250));
    assert.deepEqual(data(), [
      { type: 'attention', orderNo: o.orderNo, raised: true, from: 'reversing', reason: '8 attempts' },
      { type: 'attention', orderNo: o.orderNo, cleared: true, to: 'refunding' },
      // The verdict is the first step out of created/unknown (not the step into unknown, not a note).
      { type: 'order', orderNo: o.orderNo, amountFen: 150, wallet: 'wechat', state: 'refunded', from: 'refunding', flags: [], reason: '8 attempts', secondsToVerdict: 2.3, seconds: 7.3 },
    ]);
    assert.deepEqual(out.pending(0, 100).map((r) => r.at), [iso(5_000), iso(6_000), iso(7_250)]);
  });

  it('an MDB order event names the product; the hook for an order the journal does not have writes nothing', () => {
    out.captureOrderEvents();
    const o = j.createOrder(order({ productId: '12', vendPrice: '1.50', orderType: 'alipay', txnAmt: '99' }));
    j.transition(o.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'declined' }, patch: { reason: 'declined 15' } }], iso(1_000));
    assert.deepEqual(data(), [{ type: 'order', orderNo: o.orderNo, amountFen: 99, wallet: 'alipay', state: 'failed', from: 'created', flags: [], reason: 'declined 15', secondsToVerdict: 1, seconds: 1, productId: '12' }]);
    j.stepHook!('nope', 'delivering', 'delivered', iso(2_000));
    j.stepHook!('nope', 'reversing', 'attention', iso(2_000));
    assert.deepEqual(data().slice(1), [{ type: 'attention', orderNo: 'nope', raised: true, from: 'reversing', reason: null }]);
    out.stopCapturing();
    assert.equal(j.stepHook, undefined);
  });

  it('append stamps now unless told; pending pages by limit; depth says the oldest and what was dropped; remove of nothing is nothing', () => {
    const before = new Date().toISOString();
    out.append('fault', { a: 1 });
    out.append('fault', { a: 2 }, '2026-01-01T00:00:00.000Z');
    const [first, second] = out.pending(0, 100);
    assert.ok(first!.at >= before && first!.at <= new Date().toISOString(), first!.at);
    assert.equal(second!.at, '2026-01-01T00:00:00.000Z');
    assert.deepEqual(out.pending(0, 1).map((r) => r.seq), [first!.seq]);
    assert.deepEqual(out.depth(), { count: 2, oldestAt: '2026-01-01T00:00:00.000Z', dropped: 0 });
    out.remove([]);
    assert.equal(out.depth().count, 2);
    out.remove([second!.seq]);
    assert.deepEqual(out.pending(0, 100).map((r) => r.seq), [first!.seq]);
    assert.deepEqual(new Outbox(j).depth(), { count: 1, oldestAt: first!.at, dropped: 0 });
  });

  it('the count cap keeps maxEvents − 1 and the dropped event (one at least); the dropped event says how many, in all, and the caps', () => {
    faults(5);
    const clock = clockAt(0);
    const before = new Date().toISOString();
    assert.equal(out.trim(3, 1e9, clock), 3);
    let rows = data();
    assert.deepEqual(rows.map((r) => r.i ?? r.type), [3, 4, 'dropped']);
    assert.deepEqual(rows[2], { type: 'dropped', count: 3, total: 3, maxEvents: 3, maxAgeMs: 1e9 });
    const at = out.pending(0, 100)[2]!.at;
    assert.ok(at >= before && at <= new Date().toISOString(), 'the dropped event is stamped now');
    assert.equal(meta('outbox_dropped'), '3');
    // At the cap (the daemon trims at start and every metrics interval, offline for days): nothing more goes.
    for (let i = 0; i < 4; i++) assert.equal(out.trim(3, 1e9, clock), 0, 'at the cap: nothing more');
    assert.deepEqual(data().map((r) => r.i ?? r.type), [3, 4, 'dropped']);
    faults(1);
    assert.equal(out.trim(1, 1e9, clock), 3, 'a cap of 1 keeps the newest and the dropped event');
    rows = data();
    assert.deepEqual(rows.map((r) => r.i ?? r.type), [5, 'dropped']);
    assert.deepEqual([rows[1]!.count, rows[1]!.total], [3, 6]);
    faults(1);
    assert.equal(out.trim(0, 1e9, clock), 2, 'a cap of 0 is a cap of 1');
    assert.equal(out.depth().dropped, 8);
  });

  it('the age cap drops an event older than maxAgeMs (strictly) on the age clock, marked at most once per 1 % of the cap', () => {
    const clock = clockAt(10_000);
    faults(1); // seq 1
    assert.equal(out.trim(100, 100_000, clock), 0);
    assert.deepEqual(JSON.parse(meta('outbox_age_marks')!), [[1, 0]]);
    clock.m += 999;
    faults(1); // seq 2, under 1 % of the cap later: no mark of its own
    assert.equal(out.trim(100, 100_000, clock), 0);
    assert.deepEqual(JSON.parse(meta('outbox_age_marks')!), [[1, 0]]);
    clock.m += 1;
    assert.equal(out.trim(100, 100_000, clock), 0);
    assert.deepEqual(JSON.parse(meta('outbox_age_marks')!), [[1, 0], [2, 1_000]], 'at 1 % a new mark');
    clock.m += 5_000;
    assert.equal(out.trim(100, 100_000, clock), 0);
    assert.deepEqual(JSON.parse(meta('outbox_age_marks')!), [[1, 0], [2, 1_000]], 'no new event, no new mark');
    clock.m = 10_000 + 100_000;
    assert.equal(out.trim(100, 100_000, clock), 0, 'exactly maxAgeMs old: kept');
    clock.m += 1;
    assert.equal(out.trim(100, 100_000, clock), 1, 'older: dropped (only seq 1)');
    assert.deepEqual(data().map((r) => r.i ?? r.type), [1, 'dropped']);
    assert.deepEqual(JSON.parse(meta('outbox_age_marks')!), [[2, 1_000]], 'the marks of dropped events are forgotten');
    clock.m += 1_000;
    assert.equal(out.trim(100, 100_000, clock), 1);
    // The newest mark now covers the dropped event too.
    assert.deepEqual(JSON.parse(meta('outbox_age_marks')!), [[3, 101_001]]);
  });

  it('marks of events the outbox never had (a journal restored from a backup) and malformed marks are ignored', () => {
    faults(2);
    setMeta('outbox_age_marks', JSON.stringify([[1, 0], [99, 0]]));
    setMeta('outbox_age_clock', JSON.stringify({ boot: 'boot-1', mono: 0, age: 50_000 }));
    const clock = clockAt(0);
    assert.equal(out.trim(100, 10_000, clock), 1, 'only seq 1 is that old');
    assert.deepEqual(JSON.parse(meta('outbox_age_marks')!), [[2, 50_000]]);
    for (const bad of ['not json', '{"a":1}', '[[1,"x"],["2",0],"y",[3]]']) {
      setMeta('outbox_age_marks', bad);
      assert.equal(out.trim(100, 10_000, clock), 0, bad);
    }
    setMeta('outbox_age_marks', '[[1,"x"],[2,0],"y"]');
    clock.m += 10_001;
    faults(1);
    assert.equal(out.trim(100, 10_000, clock), 1, 'the well-formed mark is kept');
  });

  it('the age clock adds monotonic time of the same boot only, never a clock that went back, and survives a bad record', () => {
    assert.equal(out.ageClock(clockAt(7_000)), 0, 'starts at 0');
    assert.deepEqual(JSON.parse(meta('outbox_age_clock')!), { boot: 'boot-1', mono: 7_000, age: 0 });
    assert.equal(out.ageClock(clockAt(7_000)), 0);
    assert.equal(out.ageClock(clockAt(9_500)), 2_500);
    assert.equal(out.ageClock(clockAt(9_000)), 2_500, 'a monotonic reading before the last one (not this boot after all) adds nothing');
    assert.equal(out.ageClock(clockAt(9_400)), 2_900);
    assert.equal(out.ageClock(clockAt(100, 'boot-2')), 2_900, 'another boot adds nothing');
    assert.equal(out.ageClock(clockAt(600, 'boot-2')), 3_400);
    setMeta('outbox_age_clock', 'garbage');
    assert.equal(out.ageClock(clockAt(700, 'boot-2')), 0);
    setMeta('outbox_age_clock', JSON.stringify({ boot: 'boot-2', mono: 'x', age: 'y' }));
    assert.equal(out.ageClock(clockAt(800, 'boot-2')), 0);
    setMeta('outbox_age_clock', '{"boot":"boot-2","mono":800,"age":1e400}');
    assert.equal(out.ageClock(clockAt(900, 'boot-2')), 100, 'a non-finite age starts again');
  });

  it('nonces: the window edge is inside; an older command never lowers the newest; pruning keeps the edge', () => {
    const keep = 60_000;
    assert.equal(out.acceptNonce('a', T0, keep), 'ok');
    assert.equal(meta('fleet_nonce_newest'), String(T0));
    assert.equal(out.acceptNonce('b', T0 - 30_000, keep), 'ok');
    assert.equal(meta('fleet_nonce_newest'), String(T0), 'an older command leaves the newest');
    assert.equal(out.acceptNonce('c', T0 - keep - 1, keep), 'too-old');
    assert.equal(out.acceptNonce('d', T0 - keep, keep), 'ok', 'exactly keepMs older: accepted');
    assert.equal(out.acceptNonce('e', T0 + 30_000, keep), 'ok');
    const left = () => (j.db.prepare('SELECT nonce FROM fleet_nonces ORDER BY nonce').all() as { nonce: string }[]).map((r) => r.nonce);
    assert.deepEqual(left(), ['a', 'b', 'e'], 'd is older than the new window; b is at its edge');
    assert.equal(out.acceptNonce('b', T0 - 30_000, keep), 'replay');
    assert.equal(out.acceptNonce('x', 1, 0), 'too-old', 'the newest, not 0, bounds the window');
  });
});
