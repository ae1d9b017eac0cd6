// The customer path (src/payment/customer.ts) on a fake clock and gateway, for what the customer, the operator and
// recovery get from it: the exact micropay request and journaled order, re-sends and their pace, the reasons and
// flags journaled for each outcome, the kiosk's progress, and each way a release can fail.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { PaymentEngine, type CustomerResult, type PayHooks, type PaymentRequest, type Timing } from '../../src/payment/engine.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import { FakeClock } from '../fake-clock.js';
import { FakeGateway, logCapture, UNIONPAY, WECHAT } from './fakes.js';

const fail = (code?: string, message = 'no drop seen') => async (): Promise<void> => {
  throw Object.assign(new Error(message), code ? { code } : {});
};

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const neverLeft = { outcome: { kind: 'UNKNOWN', cause: 'connect ECONNREFUSED' }, delivery: 'not-sent', cause: 'ECONNREFUSED' } as const;

describe('the customer path: what is sent, journaled and told (fake clock, fake gateway)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let cap: ReturnType<typeof logCapture>;
  let progress: string[];
  let attention: Array<{ orderNo: string; reason: string }>;
  let e: PaymentEngine;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'customer-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    gw = new FakeGateway();
    cap = logCapture();
    progress = [];
    attention = [];
  });
  afterEach(async () => {
    await e.stop(0);
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function pay(timing: Partial<Timing> = {}, hooks: Partial<PayHooks> = {}, req: Partial<PaymentRequest> = {}): Promise<CustomerResult> {
    e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock, timing, random: () => 0.5, clockCheck: () => null, log: cap.log });
    e.on('attention', (a: { orderNo: string; reason: string }) => attention.push(a));
    return clock.run(e.pay({ authCode: WECHAT, amountFen: 250, ...req }, { deliver: async () => undefined, progress: (s) => void progress.push(s), ...hooks }));
  }
  const order = () => journal.list()[0]!;
  const notes = () => journal.events(order().orderNo).filter((ev) => ev.from === ev.to);

  it('journals the order before the one micropay request, which carries exactly its fields; the log line masks the code', async () => {
    gw.on('micropay', { kind: 'PAID', transactionId: 'T1' });
    const orderTime = formatOrderTime(clock.wall());
    const r = await pay({}, {}, { goodsId: 'G7', goodsInfo: 'cola', productId: '12', vendPrice: '2.50' });
    const o = order();
    assert.deepEqual(r, { kind: 'approved', orderNo: o.orderNo });
    assert.deepEqual(gw.sent.map((s) => s.fields), [{ orderTime, orderNo: o.orderNo, txnAmt: '250', orderType: 'wechat', authCode: WECHAT, goodsId: 'G7', goodsInfo: 'cola' }]);
    assert.deepEqual([o.txnAmt, o.orderType, o.authMask, o.goodsId, o.goodsInfo, o.acqSpId, o.acqMerId, o.productId, o.vendPrice, o.scannedAt, o.bootId], ['250', 'wechat', 'wechat…6789', 'G7', 'cola', merchant.acqSpId, merchant.acqMerId, '12', '2.50', clock.wall(), clock.bootId]);
    assert.equal(o.reason, 'paid and delivered 0 s after the scan');
    const line = cap.lines.find((l) => l.event === 'order')!;
    assert.deepEqual([line.orderNo, line.txnAmt, line.orderType, line.msg], [o.orderNo, '250', 'wechat', 'order journaled']);
    assert.ok(!JSON.stringify(cap.lines).includes(WECHAT), 'the code never in the log');
    assert.deepEqual(progress, ['sending']);
  });

  it('without goods in the request the configured goods are sent; a field the platform would refuse is caught before anything is journaled', async () => {
    gw.on('micropay', { kind: 'PAID' });
    await pay();
    assert.deepEqual([gw.sent[0]!.fields.goodsId, gw.sent[0]!.fields.goodsInfo, order().goodsId, order().goodsInfo], ['G1', 'drink', 'G1', 'drink']);
    journal.close();
    journal = openJournal(join(dir, 'k.db'));
    gw = new FakeGateway();
    await assert.rejects(pay({}, {}, { goodsInfo: 'x'.repeat(129) }));
    assert.equal(journal.list().length, 0);
    assert.equal(gw.sent.length, 0);
  });

  it('a send that never left is retried after 1, 2, 4, 5, 5 s, each journaled; then refused as offline, saying for how long', async () => {
    const at: number[] = [];
    gw.on('micropay', () => (at.push(clock.mono()), neverLeft));
    const r = await pay({ codeValidityMs: 20_000 });
    assert.deepEqual(at, [0, 1_000, 3_000, 7_000, 12_000, 17_000]);
    const reason = 'not sent: gateway unreachable for 17 s after the scan (never left: ECONNREFUSED)';
    assert.deepEqual(r, { kind: 'refused', reason: 'offline', detail: reason, orderNo: order().orderNo });
    const o = order();
    assert.deepEqual([o.state, o.sendAttempts, o.notSent, o.reason], ['failed-not-sent', 6, 6, reason]);
    const n = notes();
    assert.deepEqual(n.filter((x) => x.kind === 'not-sent').map((x) => [x.cause, x.call, x.delivery, x.detail]), Array(5).fill(['not-sent', 'micropay', 'not-sent', 'never left: ECONNREFUSED']));
    assert.deepEqual(n.filter((x) => x.kind === 'resend').map((x) => [x.cause, x.call, x.detail]), [2, 3, 4, 5, 6].map((k) => ['resend', 'micropay', `attempt ${k}`]));
    const last = journal.events(o.orderNo).at(-1)!;
    assert.deepEqual([last.kind, last.cause, last.call, last.delivery, last.detail], ['not-sent', 'not-sent', 'micropay', 'not-sent', 'never left: ECONNREFUSED']);
    assert.deepEqual(progress, ['sending', 'offline', 'offline', 'offline', 'offline', 'offline']);
  });

  it('answered 37 until the code ran out: each answer journaled as rate-limited, then closed as code-expired, in words', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '37 too frequent', rateLimited: true }).on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' });
    const r = await pay({ codeValidityMs: 4_000, customerWindowMs: 6_000 });
    assert.equal(r.kind, 'not-charged');
    const limited = notes().filter((x) => x.kind === 'rate-limited');
    assert.equal(limited.length, gw.count('micropay') - 1);
    assert.deepEqual([limited[0]!.cause, limited[0]!.call], ['rate-limited', 'micropay']);
    const expired = journal.events(order().orderNo).find((x) => x.to === 'unknown')!;
    assert.deepEqual([expired.kind, expired.call], ['code-expired', 'micropay']);
    assert.ok(journal.events(order().orderNo).some((x) => x.to === 'unknown'));
    assert.equal(order().notSent, 0);
  });

  it('an unclear answer is journaled with its cause; a 02 tells the kiosk the customer is confirming', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'paying', code: '02' }).on('queryOrder', { kind: 'PAID', transactionId: 'T2' });
    await pay();
    assert.equal(journal.events(order().orderNo).find((x) => x.to === 'unknown')!.cause, 'micropay: UNKNOWN');
    assert.deepEqual(progress, ['sending', 'paying', 'waiting']);
    assert.equal(order().transactionId, 'T2');
  });

  it('declined: the platform\'s code and words journaled', async () => {
    gw.on('micropay', { kind: 'NOT_PAID', code: '15', reason: 'insufficient balance' });
    await pay();
    const o = order();
    assert.deepEqual([o.state, o.respCode, o.respMsg, o.reason], ['failed', '15', 'insufficient balance', 'declined: 15 insufficient balance']);
  });

  it('an order number the platform knows as another order\'s: declined, flagged, logged, announced', async () => {
    gw.on('micropay', { kind: 'NOT_PAID', code: '16', reason: 'order number used', notOurs: true });
    const r = await pay();
    const no = order().orderNo;
    assert.deepEqual(r, { kind: 'declined', orderNo: no, code: '16', reason: 'order number used' });
    const reason = `order number ${no} already belongs to another order at the platform (16 order number used): not charged; another journal used this deviceId's numbers`;
    const o = order();
    assert.deepEqual([o.state, o.flag, o.reason, o.respCode], ['failed', 'order-no-collision', reason, '16']);
    assert.deepEqual(attention, [{ orderNo: no, reason }]);
    assert.ok(cap.lines.some((l) => l.event === 'order-no-collision' && l.orderNo === no && l.level === 50 && l.msg === reason));
  });

  it('a paid answer after the customer window: nothing released, journaled why, the customer told it is given back', async () => {
    gw = new FakeGateway({ clock, ms: 5_000 });
    gw.on('micropay', { kind: 'PAID', transactionId: 'T3' }).on('cancelOrder', { kind: 'DONE' });
    const released: string[] = [];
    const r = await pay({ customerWindowMs: 5_000 }, { deliver: async (no) => void released.push(no) });
    assert.deepEqual(r, { kind: 'not-charged', orderNo: order().orderNo, reason: 'the payment platform answered too late; the payment is being given back' });
    assert.deepEqual(released, []);
    const paid = journal.events(order().orderNo).find((x) => x.to === 'paid')!;
    assert.equal(paid.from, 'created');
    await clock.run(e.whenIdle());
    assert.equal(order().transactionId, 'T3');
  });

  it('a query that says paid before our order was made: not released, flagged, logged, the customer told', async () => {
    const hourEarlier = formatOrderTime(clock.wall() - 3_600_000).slice(4);
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'timeout' })
      .on('queryOrder', { outcome: { kind: 'PAID', transactionId: 'T4' }, delivery: 'answered', answer: { txnAmt: '250', payTime: hourEarlier } })
      .on('cancelOrder', { kind: 'UNKNOWN', cause: 'timeout' });
    const r = await pay();
    const no = order().orderNo;
    assert.deepEqual(r, { kind: 'not-charged', orderNo: no, reason: 'the payment could not be confirmed for this order; it is being given back' });
    const o = order();
    assert.deepEqual([o.flag, o.transactionId, o.respCode], ['pay-time-doubt', 'T4', '00']);
    const line = cap.lines.find((l) => l.event === 'pay-time-doubt')!;
    assert.deepEqual([line.orderNo, line.level], [no, 40]);
    assert.match(String(line.msg), /^paid, not released: .+; the payment is given back$/);
  });

  it('no verdict in the window: reversing with its reason; queries every interval, slower after a 37', async () => {
    const at: number[] = [];
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'timeout' })
      .on('queryOrder', (_f, n) => (at.push(clock.mono()), n === 2 || n === 3 ? { kind: 'UNKNOWN', cause: '37', rateLimited: true } : { kind: 'PENDING', code: '02', reason: 'paying' }))
      .on('cancelOrder', { kind: 'UNKNOWN', cause: 'timeout' });
    const r = await pay({ customerWindowMs: 20_000, queryIntervalMs: 3_000 });
    assert.deepEqual(r, { kind: 'not-charged', orderNo: order().orderNo, reason: 'no answer from the payment platform in time; the payment is being reversed' });
    // After a 37 the next query waits the backoff (3 s · 2^(n-1), jitter 1): 3 s, then 6 s; then 3 s again.
    assert.deepEqual(at, [3_000, 6_000, 9_000, 15_000, 18_000]);
    const o = order();
    assert.deepEqual([o.state, o.reversal, o.reason], ['reversing', 'cancelOrder', 'no verdict within the customer window']);
    assert.deepEqual(progress, ['sending', 'waiting', 'paying', 'waiting', 'waiting', 'waiting', 'paying', 'waiting', 'paying']);
  });

  it('a query that says the platform has no such order: closed (never cancelled), the answer journaled', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'timeout' }).on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'none' }).on('closeOrder', { kind: 'UNKNOWN', cause: 'timeout' });
    await pay();
    assert.deepEqual([order().state, order().reversal], ['reversing', 'closeOrder']);
    assert.equal(gw.count('queryOrder'), 1);
    assert.ok(notes().some((x) => x.cause === 'queryOrder: NOT_PAID'));
  });

  it('a query that says closed or refunded: the order ends that way, in the platform\'s words', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'timeout' }).on('queryOrder', { kind: 'NOT_PAID', state: 'closed', code: '01', reason: 'closed' });
    const r = await pay();
    assert.deepEqual(r, { kind: 'declined', orderNo: order().orderNo, code: '01', reason: 'closed' });
    const o = order();
    assert.deepEqual([o.state, o.respCode, o.respMsg, o.reason], ['failed', '01', 'closed', 'platform: closed (01 closed)']);
  });

  for (const [what, deliver, vend, flag, detail, told] of [
    ['no drop seen (VEND_FAILED)', fail('VEND_FAILED'), 'failed', 'vend-failed', 'vend not confirmed: no drop seen', 'the product did not come out; the payment is being refunded'],
    ['the sensor is faulty (VEND_SENSOR_FAULT)', fail('VEND_SENSOR_FAULT', 'sensor stuck'), 'sensor-fault', 'vend-sensor-fault', 'vend not confirmed: sensor stuck', 'the product did not come out; the payment is being refunded'],
    ['the relay failed', fail(undefined, 'GPIO write failed'), undefined, 'delivery-failed', 'vend relay failed: GPIO write failed', 'the product could not be released; the payment is being refunded'],
  ] as const) {
    it(`paid, but ${what}: refunded (UnionPay), flagged, logged, announced; the customer told`, async () => {
      gw.on('micropay', { kind: 'PAID', transactionId: 'T5' }).on('refund', { kind: 'ACCEPTED' }).on('refundQuery', { kind: 'REFUNDED' });
      const r = await pay({}, { deliver }, { authCode: UNIONPAY });
      const no = order().orderNo;
      assert.deepEqual(r, vend ? { kind: 'not-charged', orderNo: no, reason: told, vend } : { kind: 'not-charged', orderNo: no, reason: told });
      const o = order();
      assert.deepEqual([o.flag, o.reason, o.refundAmt], [flag, detail, '250']);
      const move = journal.events(no).find((x) => x.to === 'refunding')!;
      assert.deepEqual([move.from, move.kind, move.cause], ['delivering', 'vend-failed', 'delivery failed']);
      assert.deepEqual(attention, [{ orderNo: no, reason: detail }]);
      const line = cap.lines.find((l) => l.event === 'deliver-failed')!;
      assert.deepEqual([line.orderNo, line.vend, line.msg, line.level], [no, vend, detail, 50]);
      await clock.run(e.whenIdle());
      assert.equal(order().state, 'refunded');
    });
  }

  it('MDB: paid after the machine ended the session: nothing released, refunded, flagged, logged; the customer told', async () => {
    gw.on('micropay', { kind: 'PAID', transactionId: 'T6' }).on('refund', { kind: 'ACCEPTED' }).on('refundQuery', { kind: 'REFUNDED' });
    const released: string[] = [];
    const r = await pay({}, { deliver: async (no) => void released.push(no), releasable: () => 'the machine ended the session' }, { authCode: UNIONPAY });
    const no = order().orderNo;
    assert.deepEqual(r, { kind: 'not-charged', orderNo: no, reason: 'the machine ended the session; the payment is being given back', vend: 'failed' });
    assert.deepEqual(released, []);
    const o = order();
    assert.deepEqual([o.flag, o.reason, o.transactionId, o.respCode], ['vend-session-ended', 'paid, but the machine ended the session: refunded', 'T6', '00']);
    const move = journal.events(no).find((x) => x.to === 'refunding')!;
    assert.deepEqual([move.from, move.kind, move.cause], ['paid', 'session-ended', 'paid after the vend session ended']);
    assert.ok(cap.lines.some((l) => l.event === 'paid-after-session' && l.reason === 'the machine ended the session' && l.level === 40));
  });

  it('the drop and the MDB approval are journaled the moment they happen; delivered says how long it took', async () => {
    gw = new FakeGateway({ clock, ms: 1_250 });
    gw.on('micropay', { kind: 'PAID' });
    const r = await pay({}, {
      deliver: async (no, ev) => {
        assert.equal(journal.get(no)!.state, 'delivering');
        ev.approving('C,VEND,2.50');
        ev.sensed();
        return 'vend-success';
      },
    });
    assert.equal(r.kind, 'approved');
    const n = notes().map((x) => [x.from, x.kind, x.cause, x.detail]);
    assert.deepEqual(n, [['delivering', 'vend-approved', 'vend approved', 'C,VEND,2.50'], ['delivering', 'vend-sensed', 'vend sensed', null]]);
    const done = journal.events(order().orderNo).at(-1)!;
    assert.deepEqual([done.to, done.kind, done.cause], ['delivered', 'vend-success', 'the machine reported the vend']);
    assert.equal(order().reason, 'paid and delivered 1.3 s after the scan');
  });

  it('a drop sensed after the order left delivering is not journaled', async () => {
    gw.on('micropay', { kind: 'PAID' });
    let sensed: (() => void) | undefined;
    await pay({}, { deliver: async (_no, ev) => void (sensed = () => ev.sensed()) });
    const before = journal.events(order().orderNo).length;
    sensed!();
    assert.equal(journal.events(order().orderNo).length, before);
    assert.equal(journal.events(order().orderNo).at(-1)!.cause, 'product released');
  });
});
