// Background work at its edges (src/payment/background.ts), on a fake clock and gateway: a moved order's next step
// at once, one drive per order, a stop is not an error, a failing vend report, what the queries name, the code's
// validity to the millisecond, each refusal's next call and the attention reason, the call names a throwing gateway
// is logged under, and refund serials past R9 or after an order number with an R in it; the first retry in
// attention, a start after an internal error, a cancel past midnight, a 37 on a reversal, an unclear cancel the
// platform never saw.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal, type OrderState } from '../../src/journal/journal.js';
import { PaymentEngine, type EngineOptions, type Timing } from '../../src/payment/engine.js';
import { FakeClock } from '../fake-clock.js';
import { FakeGateway, logCapture, seedOrder, UNIONPAY, type Seed } from './fakes.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const refused = { kind: 'REFUSED', code: '35', reason: 'wrong state' } as const;
const unclear = { kind: 'UNKNOWN', cause: 'timeout' } as const;
const union = { code: UNIONPAY, orderType: 'unionpay' };

describe('background work at its edges (fake clock, fake gateway)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let cap: ReturnType<typeof logCapture>;
  let attention: Array<{ orderNo: string; reason: string }>;
  let e: PaymentEngine | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'background-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    gw = new FakeGateway();
    cap = logCapture();
    attention = [];
    e = undefined;
  });
  afterEach(async () => {
    await e?.stop(0);
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const seed = (state: OrderState, o: Seed = {}): string => seedOrder(journal, clock, state, o);
  async function recover(timing: Partial<Timing> = {}, ms?: number, extra: Partial<EngineOptions> = {}): Promise<PaymentEngine> {
    e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K1', goods: { goodsId: 'G', goodsInfo: 'g' }, clock, timing, random: () => 0.5, clockCheck: () => null, log: cap.log, ...extra });
    e.on('attention', (a: { orderNo: string; reason: string }) => attention.push(a));
    await e.start();
    if (ms === undefined) await clock.run(e.whenIdle());
    else await clock.advance(ms);
    return e;
  }

  it('an order that moved is worked on again at once; start() twice drives it once', async () => {
    const no = seed('unknown', union);
    gw = new FakeGateway({ clock, ms: 100 });
    gw.on('closeOrder', { kind: 'DONE' });
    const engine = await recover({}, 0);
    await engine.start();
    await clock.advance(100);
    assert.equal(journal.get(no)!.state, 'reversed', 'closed at once after unknown → reversing');
    assert.equal(gw.count('closeOrder'), 1);
    assert.ok(!cap.lines.some((l) => l.event === 'drive-error'));
  });

  it('a stop is not an error: no drive-error, no attention', async () => {
    seed('reversing', { ...union, patch: { reversal: 'closeOrder' } });
    gw.on('closeOrder', unclear);
    const engine = await recover({}, 5_000);
    await engine.stop(0);
    await clock.advance(0);
    assert.deepEqual(attention, []);
    assert.ok(!cap.lines.some((l) => l.event === 'drive-error'));
  });

  it('a vend report that fails with nothing is an internal error in words; the order stays for the next start', async () => {
    const no = seed('delivering', { ...union, productId: '3' });
    journal.note(no, 'delivering', { kind: 'vend-approved', cause: 'vend approved', detail: 'C,VEND' }, new Date(clock.wall()).toISOString());
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a driver may reject with anything
    await recover({}, undefined, { vendReport: () => Promise.reject(undefined) });
    assert.deepEqual(attention, [{ orderNo: no, reason: 'internal error: undefined' }]);
    assert.equal(cap.lines.find((l) => l.event === 'drive-error')!.msg, `background work on ${no} failed: undefined`);
    assert.equal(journal.get(no)!.state, 'delivering');
  });

  it('the order queries name the transactionId when one is known', async () => {
    const a = seed('reversing', { ...union, patch: { reversal: 'closeOrder', transactionId: 'T5' } });
    const b = seed('refunding', { ...union, code: '6212345678901234568' });
    gw.on('closeOrder', refused).on('refund', refused).on('queryOrder', { kind: 'NOT_PAID', state: 'closed', code: '01', reason: 'closed' });
    await recover();
    const q = gw.sent.filter((s) => s.call === 'queryOrder').map((s) => s.fields);
    assert.deepEqual(q.find((f) => f.orderNo === a), { orderNo: a, transactionId: 'T5' });
    assert.deepEqual(q.find((f) => f.orderNo === b), { orderNo: b, transactionId: undefined });
    const o = journal.get(a)!;
    assert.deepEqual([o.state, o.reason, o.respCode, o.respMsg], ['reversed', 'platform: closed (01 closed)', '01', 'closed']);
  });

  it('close refused, no such order: still waiting at the very end of the code\'s validity', async () => {
    const no = seed('reversing', { ...union, agoMs: 45_000, patch: { reversal: 'closeOrder' } });
    gw.on('closeOrder', refused).on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'none' });
    await recover({ codeValidityMs: 45_000, effortAttempts: 1, minRequestIntervalMs: 0 }, 0);
    const o = journal.get(no)!;
    assert.deepEqual([o.state, o.reason], ['attention', 'not finished after 1 attempts: no such order yet; waiting until the code has expired']);
  });

  it('cancel refused and the query unclear: cancelled again; close refused while paying: no "close instead", attention says why', async () => {
    const w = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    const u = seed('reversing', { ...union, patch: { reversal: 'closeOrder' } });
    gw.on('cancelOrder', refused).on('closeOrder', refused).on('queryOrder', (f) => (f.orderNo === w ? unclear : { kind: 'PENDING', code: '02', reason: 'paying' }));
    await recover({ effortAttempts: 2 }, 10_000);
    assert.deepEqual([journal.get(w)!.reversal, journal.get(w)!.reason], ['cancelOrder', 'not finished after 2 attempts: cancelOrder refused 35 wrong state; query: UNKNOWN']);
    assert.ok(gw.sent.filter((s) => s.fields.orderNo === w).every((s) => s.call !== 'closeOrder'));
    assert.equal(journal.get(u)!.reason, 'not finished after 2 attempts: closeOrder refused 35 wrong state; query: PENDING');
    assert.ok(!journal.events(u).some((ev) => /close instead/.test(ev.cause)));
  });

  it('cancel refused while paying: attention says so', async () => {
    const w = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    gw.on('cancelOrder', refused).on('closeOrder', unclear).on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' });
    await recover({ effortAttempts: 1 }, 100);
    assert.equal(journal.get(w)!.reason, 'not finished after 1 attempts: cancel refused 35; order still paying');
  });

  it('a gateway that throws is logged under the call that threw', async () => {
    seed('reversing', { patch: { reversal: 'cancelOrder' } });
    seed('refunding', { ...union, code: '6212345678901234568' });
    seed('refunding', { ...union, code: '6212345678901234569', patch: { refundAccepted: true } });
    const boom = async (): Promise<never> => {
      throw new Error('boom');
    };
    gw.on('cancelOrder', refused);
    gw.queryOrder = boom;
    gw.refund = boom;
    gw.refundQuery = boom;
    await recover({}, 1_000);
    const calls = new Set(cap.lines.filter((l) => l.event === 'gateway-threw').map((l) => l.call));
    assert.deepEqual([...calls].sort(), ['queryOrder', 'refund', 'refundQuery']);
  });

  it('refund serials: 16 asks for a new one, in words; R10 is followed by R11; an R in the order number is not the serial', async () => {
    const a = seed('refunding', { ...union, patch: { refundNo: 'x', refundAccepted: false } });
    journal.note(a, 'refunding', { kind: 'answer', cause: 'seed' }, new Date(clock.wall()).toISOString(), { refundNo: `${a}R10` });
    gw.on('refund', (f) => (f.orderNo!.endsWith('R10') ? { kind: 'REFUSED', code: '16', reason: 'used', notOurs: true } : { kind: 'ACCEPTED' })).on('refundQuery', { kind: 'REFUNDED' });
    await recover({ effortAttempts: 1 }, 0);
    assert.equal(journal.get(a)!.refundNo, `${a}R11`);
    assert.ok(journal.events(a).some((ev) => ev.cause === 'refund serial used by another refund: new refund serial'));
    assert.equal(journal.get(a)!.reason, `not finished after 1 attempts: refund ${a}R10: 16 used`);
  });

  it('a refund query saying the refund failed: attention says which serial failed and why', async () => {
    const no = seed('refunding', { ...union, patch: { refundAccepted: true } });
    gw.on('refundQuery', { kind: 'FAILED', code: '01', reason: 'refund failed' });
    await recover({ effortAttempts: 1 }, 0);
    assert.equal(journal.get(no)!.reason, `not finished after 1 attempts: refund ${no}R1 failed: 01 refund failed`);
  });

  it('the first retry after an order enters attention waits attentionRetryMs, not the backoff', async () => {
    const no = seed('reversing', { ...union, patch: { reversal: 'closeOrder' } });
    gw.on('closeOrder', unclear).on('queryOrder', unclear);
    await recover({ effortAttempts: 1, backoffBaseMs: 4_000, attentionRetryMs: 300_000, minRequestIntervalMs: 0 }, 0);
    assert.deepEqual([journal.get(no)!.state, gw.count('closeOrder')], ['attention', 1]);
    await clock.advance(299_999);
    assert.equal(gw.count('closeOrder'), 1, 'not sent again at the backoff (4 s)');
    await clock.advance(1);
    assert.equal(gw.count('closeOrder'), 2);
  });

  it('an internal error keeps when the process first knew an order of another boot: the next start does not restart its validity', async () => {
    const no = seed('reversing', { ...union, bootId: 'an-earlier-boot', patch: { reversal: 'closeOrder' } });
    gw.on('closeOrder', refused).on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'none' });
    const note = journal.note.bind(journal);
    let failures = 1;
    journal.note = (...args: Parameters<Journal['note']>) => {
      if (failures-- > 0) throw new Error('disk I/O error');
      return note(...args);
    };
    const engine = await recover({ codeValidityMs: 60_000, backoffBaseMs: 1_000, backoffMaxMs: 1_000, effortAttempts: 1_000, minRequestIntervalMs: 0 }, 0);
    assert.deepEqual(attention, [{ orderNo: no, reason: 'internal error: disk I/O error' }]);
    await clock.advance(30_000);
    await engine.start();
    await clock.advance(31_500);
    const o = journal.get(no)!;
    assert.deepEqual([o.state, o.reason], ['reversed', "platform has no such order (17) and the code's validity is over: not charged"]);
  });

  it('a cancel chosen before midnight is a close after it (cancelOrder works only the order\'s own day)', async () => {
    const no = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    clock.stepWall(24 * 3_600_000);
    gw.on('closeOrder', { kind: 'DONE' });
    await recover();
    assert.deepEqual(gw.sent.map((s) => s.call), ['closeOrder']);
    assert.deepEqual([journal.get(no)!.state, journal.get(no)!.reason], ['reversed', 'closed at the platform: can no longer be paid']);
  });

  it('a rate-limited reversal is neither journaled nor queried: it waits, and attention says why', async () => {
    const no = seed('reversing', { ...union, patch: { reversal: 'closeOrder' } });
    gw.on('closeOrder', { kind: 'UNKNOWN', cause: '37 too many requests', rateLimited: true }).on('queryOrder', unclear);
    await recover({ effortAttempts: 1 }, 100);
    assert.equal(gw.count('queryOrder'), 0);
    assert.ok(!journal.events(no).some((ev) => ev.call === 'closeOrder'));
    assert.equal(journal.get(no)!.reason, 'not finished after 1 attempts: closeOrder: 37 too many requests');
  });

  it('an unclear cancel for an order the platform does not know is cancelled again, never switched to close', async () => {
    const no = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    gw.on('cancelOrder', unclear).on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'none' });
    await recover();
    assert.deepEqual(gw.sent.map((s) => s.call), ['cancelOrder', 'queryOrder']);
    assert.deepEqual([journal.get(no)!.state, journal.get(no)!.reversal], ['reversed', 'cancelOrder']);
  });

  it("a refund's order query that throws is logged as queryOrder", async () => {
    seed('refunding', union);
    gw.on('refund', refused);
    gw.queryOrder = async (): Promise<never> => {
      throw new Error('boom');
    };
    await recover({}, 1_000);
    assert.deepEqual([...new Set(cap.lines.filter((l) => l.event === 'gateway-threw').map((l) => l.call))], ['queryOrder']);
  });

  it('a device id with R and digits in it: the next refund serial counts only the serial at the end', async () => {
    const no = seed('refunding', { ...union, deviceId: 'KR7', patch: { refundAccepted: true } });
    assert.match(no, /^KR7/);
    gw.on('refundQuery', { kind: 'FAILED', code: '01', reason: 'refund failed' });
    await recover({ effortAttempts: 1 }, 0);
    assert.equal(journal.get(no)!.refundNo, `${no}R2`);
  });
});
