import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal, type OrderState } from '../../src/journal/journal.js';
import { PaymentEngine, type CustomerResult, type Timing } from '../../src/payment/engine.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import { kindOf } from '../../src/journal/states.js';
import { ALIPAY, FakeGateway, UNIONPAY, WECHAT } from './fakes.js';
import { FakeClock } from '../fake-clock.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };

describe('payment engine (fake clock, fake gateway)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let delivered: string[];
  let progress: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'engine-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    gw = new FakeGateway();
    delivered = [];
    progress = [];
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function engine(timing: Partial<Timing> = {}, extra: { clockCheck?: (n: number) => string | null } = {}): PaymentEngine {
    return new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock, timing, random: () => 0.5, clockCheck: extra.clockCheck ?? (() => null) });
  }
  const hooks = { deliver: async (o: string) => void delivered.push(o), progress: (s: string) => void progress.push(s) };
  const pay = (e: PaymentEngine, code = WECHAT, amountFen = 150): Promise<CustomerResult> => clock.run(e.pay({ authCode: code, amountFen }, hooks));
  const states = (orderNo: string): string[] => journal.events(orderNo).map((ev) => ev.to);
  const only = (): string => journal.list()[0]!.orderNo;

  it('paid at once: approved, delivered, code erased, three commits', async () => {
    gw.on('micropay', { kind: 'PAID', transactionId: 'T1' });
    const e = engine();
    const r = await pay(e);
    assert.equal(r.kind, 'approved');
    const o = journal.get(only())!;
    assert.equal(o.state, 'delivered');
    assert.equal(o.transactionId, 'T1');
    assert.equal(o.authCode, null);
    assert.deepEqual(delivered, [o.orderNo]);
    assert.deepEqual(states(o.orderNo), ['created', 'paid', 'delivering', 'delivered']);
    assert.match(o.orderNo, /^K0120260601\d{6}_[0-9a-z]{10}$/);
    assert.equal(gw.sent[0]!.fields.orderTime, formatOrderTime(clock.wall()));
  });

  it('a micropay that throws is journaled as micropay, threw (maybe sent), never as another call; then reversed', async () => {
    gw.on('micropay', () => {
      throw new Error('bug in the gateway');
    })
      .on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' })
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine({ customerWindowMs: 7_000 });
    assert.equal((await pay(e)).kind, 'not-charged');
    await clock.run(e.whenIdle());
    const ev = journal.events(only()).find((x) => x.to === 'unknown')!;
    assert.deepEqual([ev.from, ev.call, ev.kind, ev.cause, ev.delivery], ['created', 'micropay', 'threw', 'micropay: threw', 'maybe-sent']);
    assert.match(ev.detail ?? '', /gateway threw: bug in the gateway/);
    assert.deepEqual(states(only()), ['created', 'unknown', 'reversing', 'reversed']);
    assert.deepEqual(journal.events(only()).map((x) => x.kind), ['scan', 'threw', 'window-over', 'answer']);
  });

  it('declined: the platform said not paid', async () => {
    gw.on('micropay', { kind: 'NOT_PAID', code: '15', reason: 'insufficient balance' });
    const r = await pay(engine());
    assert.deepEqual(r, { kind: 'declined', orderNo: only(), code: '15', reason: 'insufficient balance' });
    assert.equal(journal.get(only())!.state, 'failed');
    assert.equal(journal.get(only())!.authCode, null);
    assert.equal(delivered.length, 0);
  });

  it('unknown, then paid on the second query: delivered within the window', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02 paying' });
    gw.on('queryOrder', (_f, n) => (n < 2 ? { kind: 'PENDING', code: '02', reason: 'paying' } : { kind: 'PAID', transactionId: 'T9' }));
    const start = clock.mono();
    const r = await pay(engine());
    assert.equal(r.kind, 'approved');
    assert.equal(clock.mono() - start, 6000);
    assert.deepEqual(states(only()), ['created', 'unknown', 'paid', 'delivering', 'delivered']);
    assert.ok(progress.includes('waiting'));
  });

  it('unknown for the whole window (WeChat, same day): not-charged, then cancelOrder → reversed', async () => {
    gw.on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'timeout' }, delivery: 'maybe-sent' });
    gw.on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' });
    gw.on('cancelOrder', { kind: 'DONE' });
    const e = engine();
    const r = await pay(e);
    assert.equal(r.kind, 'not-charged');
    assert.equal(gw.count('queryOrder'), 19); // every 3 s within 60 s
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
    assert.equal(gw.count('cancelOrder'), 1);
    assert.equal(gw.count('closeOrder'), 0);
  });

  it('UnionPay unclear: closeOrder, not cancelOrder', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '04' }).on('queryOrder', { kind: 'UNKNOWN', cause: 'HTTP 500' }).on('closeOrder', { kind: 'DONE' });
    const e = engine({ customerWindowMs: 10_000 });
    assert.equal((await pay(e, UNIONPAY)).kind, 'not-charged');
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
    assert.equal(gw.count('cancelOrder'), 0);
  });

  it('close refused because the order was paid after all: refund, refundQuery until refunded', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' })
      .on('queryOrder', (_f, n) => (n <= 3 ? { kind: 'PENDING', code: '02', reason: 'paying' } : { kind: 'PAID', transactionId: 'T2' }))
      .on('closeOrder', { kind: 'REFUSED', code: '35', reason: 'wrong state' })
      .on('refund', { kind: 'ACCEPTED' })
      .on('refundQuery', (_f, n) => (n < 2 ? { kind: 'PENDING', code: '02', reason: 'in progress' } : { kind: 'REFUNDED' }));
    const e = engine({ customerWindowMs: 10_000 });
    assert.equal((await pay(e, UNIONPAY)).kind, 'not-charged');
    await clock.run(e.whenIdle());
    const o = journal.get(only())!;
    assert.equal(o.state, 'refunded');
    assert.equal(o.authCode, null);
    assert.equal(gw.sent.find((s) => s.call === 'refund')!.fields.origOrderNo, o.orderNo);
    assert.equal(gw.sent.find((s) => s.call === 'refund')!.fields.orderNo, `${o.orderNo}R1`);
    assert.equal(delivered.length, 0);
  });

  it('a send that provably never left is retried as the same order, then failed-not-sent', async () => {
    gw.on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent', cause: 'ECONNREFUSED' });
    const e = engine();
    const r = await pay(e);
    assert.equal(r.kind, 'refused');
    assert.equal(r.kind === 'refused' && r.reason, 'offline');
    const o = journal.get(only())!;
    assert.equal(o.state, 'failed-not-sent');
    assert.equal(o.sendAttempts, o.notSent);
    const sends = gw.sent.filter((s) => s.call === 'micropay');
    assert.ok(sends.length >= 5, `retried ${sends.length} times`);
    for (const s of sends) assert.deepEqual(s.fields, sends[0]!.fields); // same orderNo, orderTime, everything
    assert.ok(progress.includes('offline'));
    await clock.run(e.whenIdle());
    assert.equal(gw.sent.length, sends.length, 'nothing to reverse or query');
    // No send after the code's validity window.
    assert.ok(clock.wall() - o.scannedAt < 45_000);
  });

  it('a late timer never sends a code past its validity window', async () => {
    // Timers on a loaded Pi fire late: the validity is checked again after each retry sleep.
    const late = Object.assign(Object.create(clock) as FakeClock, { sleep: (ms: number, signal?: AbortSignal) => clock.sleep(ms + 10, signal) });
    const sentAt: number[] = [];
    gw.on('micropay', () => (sentAt.push(clock.wall()), { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' }));
    const e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock: late, timing: { codeValidityMs: 7_025, notSentRetryMs: 1_000 }, random: () => 0.5, clockCheck: () => null });
    const r = await pay(e);
    assert.equal(r.kind === 'refused' && r.reason, 'offline');
    const o = journal.get(only())!;
    assert.equal(o.state, 'failed-not-sent');
    assert.deepEqual(sentAt.map((t) => t - o.scannedAt), [0, 1_010, 3_020], 'the send due at 7,030 ms (after 7,025) was not made');
  });

  it('a paid micropay answer that arrives after the customer window releases nothing and is given back', async () => {
    const slow = new FakeGateway({ clock, ms: 12_000 });
    slow.on('micropay', { kind: 'PAID', transactionId: 'T9' }).on('cancelOrder', { kind: 'DONE' });
    const e = new PaymentEngine({ journal, gateway: slow, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock, timing: { customerWindowMs: 10_000, queryIntervalMs: 2_000 }, random: () => 0.5, clockCheck: () => null });
    const r = await pay(e);
    assert.equal(r.kind, 'not-charged');
    await clock.run(e.whenIdle());
    assert.deepEqual(delivered, [], 'no product released to an empty kiosk');
    assert.equal(journal.get(only())!.state, 'reversed');
    assert.deepEqual(states(only()), ['created', 'paid', 'reversing', 'reversed']);
  });

  it('never left, then left: paid on the retry', async () => {
    gw.on('micropay', (_f, n) => (n === 1 ? { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' } : { kind: 'PAID' }));
    assert.equal((await pay(engine())).kind, 'approved');
    const o = journal.get(only())!;
    assert.equal(o.sendAttempts, 2);
    assert.equal(o.notSent, 1);
  });

  it('start() (kiosk reconcile) during a customer payment leaves that order to the customer path', async () => {
    // Recovery must not judge the order the customer path is still sending: marking it failed-not-sent while
    // the retry goes out (and is paid) would charge the customer with no product and nothing to reverse.
    gw.on('micropay', (_f, n) => (n === 1 ? { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' } : { kind: 'PAID' }));
    const e = engine();
    const paying = e.pay({ authCode: WECHAT, amountFen: 150 }, hooks);
    await clock.advance(10); // first send refused; the retry sleeps
    await e.start();
    const r = await clock.run(paying);
    await clock.run(e.whenIdle());
    assert.equal(r.kind, 'approved');
    assert.equal(journal.get(only())!.state, 'delivered');
    assert.deepEqual(delivered, [only()]);
  });

  it('never left, then maybe sent: unknown → query → reverse (not failed-not-sent)', async () => {
    gw.on('micropay', (_f, n) => (n === 1 ? { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' } : { outcome: { kind: 'UNKNOWN', cause: 'timeout' }, delivery: 'maybe-sent' }))
      .on('queryOrder', { kind: 'UNKNOWN', cause: 'timeout' })
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine({ customerWindowMs: 10_000 });
    assert.equal((await pay(e)).kind, 'not-charged');
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
  });

  it('query says no such order: close it first, then reversed', async () => {
    gw.on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'reset' }, delivery: 'maybe-sent' })
      .on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such trade' })
      .on('closeOrder', { kind: 'DONE' });
    const e = engine();
    assert.equal((await pay(e, ALIPAY)).kind, 'not-charged');
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
    assert.equal(gw.count('closeOrder'), 1);
    assert.equal(gw.count('cancelOrder'), 0);
  });

  it('a query that says paid for another amount is not about our order: no product, reversed', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02 paying' })
      .on('queryOrder', { kind: 'PAID', transactionId: 'T-OTHER' })
      .on('cancelOrder', { kind: 'DONE' });
    const query = gw.queryOrder.bind(gw);
    gw.queryOrder = async (f: object) => {
      const res = await query(f);
      return { ...res, answer: { ...res.answer, txnAmt: '1' } };
    };
    const e = engine({ customerWindowMs: 10_000 });
    const r = await pay(e, WECHAT, 150);
    assert.equal(r.kind, 'not-charged');
    assert.equal(delivered.length, 0);
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
  });

  it('micropay 16 (the number is another order\'s): declined at once, flagged, never queried, never reversed', async () => {
    gw.on('micropay', { kind: 'NOT_PAID', code: '16', reason: 'order number already used', notOurs: true })
      .on('queryOrder', { kind: 'PAID' })
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine();
    const attention: unknown[] = [];
    e.on('attention', (a) => attention.push(a));
    const r = await pay(e);
    assert.equal(r.kind, 'declined');
    await clock.run(e.whenIdle());
    const o = journal.get(only())!;
    assert.equal(o.state, 'failed');
    assert.equal(o.flag, 'order-no-collision');
    assert.equal(delivered.length, 0);
    assert.equal(gw.count('queryOrder') + gw.count('cancelOrder') + gw.count('closeOrder'), 0, 'the other order is neither read as ours nor reversed');
    assert.equal(attention.length, 1);
  });

  it('a query answer about an order paid before ours was made (an older order with the same number): no product', async () => {
    const orderTime = formatOrderTime(clock.wall());
    const hourEarlier = formatOrderTime(clock.wall() - 3600_000).slice(4);
    gw.on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'timeout' }, delivery: 'maybe-sent' })
      .on('queryOrder', { outcome: { kind: 'PAID', transactionId: 'T-A' }, delivery: 'answered', answer: { origRespCode: '00', txnAmt: '150', payTime: hourEarlier } })
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine({ customerWindowMs: 10_000 });
    const r = await pay(e, WECHAT, 150);
    assert.equal(r.kind, 'not-charged');
    assert.equal(delivered.length, 0);
    assert.equal(gw.sent[0]!.fields.orderTime, orderTime);
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
  });

  it('a query answer naming another orderType is not about our order', async () => {
    gw.on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'timeout' }, delivery: 'maybe-sent' })
      .on('queryOrder', { outcome: { kind: 'PAID', transactionId: 'T-A' }, delivery: 'answered', answer: { orderType: 'alipay', txnAmt: '150' } })
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine({ customerWindowMs: 10_000 });
    const r = await pay(e, WECHAT, 150);
    assert.equal(r.kind, 'not-charged');
    assert.equal(delivered.length, 0);
  });

  it('micropay 37 (too frequent) with the code still valid: the same order is sent again, and paid', async () => {
    gw.on('micropay', (_f, n) => (n < 3 ? { kind: 'UNKNOWN', cause: 'respCode 37: too frequent; back off', rateLimited: true } : { kind: 'PAID', transactionId: 'T1' }));
    const e = engine();
    const r = await pay(e);
    assert.equal(r.kind, 'approved');
    const sends = gw.sent.filter((s) => s.call === 'micropay');
    assert.equal(sends.length, 3);
    assert.ok(sends.every((s) => JSON.stringify(s.fields) === JSON.stringify(sends[0]!.fields)), 'same order, same fields');
    assert.equal(gw.count('queryOrder'), 0);
    assert.deepEqual(states(only()), ['created', 'created', 'created', 'created', 'created', 'paid', 'delivering', 'delivered']);
  });

  it('micropay 37 until the code\'s validity is over: not charged, closed (a 37 is not "provably never left")', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'respCode 37', rateLimited: true })
      .on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'none' })
      .on('closeOrder', { kind: 'DONE' })
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine({ codeValidityMs: 10_000, customerWindowMs: 20_000 });
    const r = await pay(e);
    assert.equal(r.kind, 'not-charged');
    assert.ok(gw.count('micropay') >= 3);
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
  });

  it('micropay 37 once, then every later send never left: still not provably unsent (the 37 was an answer), closed before it is final', async () => {
    gw.on('micropay', (_f, n) => (n === 1 ? { outcome: { kind: 'UNKNOWN', cause: 'respCode 37', rateLimited: true }, delivery: 'answered' } : { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent', cause: 'ECONNREFUSED' }))
      .on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'none' })
      .on('closeOrder', { kind: 'DONE' })
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine({ codeValidityMs: 10_000, customerWindowMs: 20_000 });
    const r = await pay(e);
    assert.equal(r.kind, 'not-charged');
    const sends = gw.count('micropay');
    assert.ok(sends >= 3, `${sends} sends`);
    const o = journal.get(only())!;
    assert.equal(o.sendAttempts, sends);
    assert.ok(o.notSent < o.sendAttempts, `the row never reads as "every send never left" (${o.notSent} of ${o.sendAttempts}): recovery would not ask`);
    assert.notEqual(o.state, 'failed-not-sent');
    assert.deepEqual(journal.events(o.orderNo).filter((ev) => ev.kind === 'rate-limited' || ev.kind === 'not-sent').map((ev) => ev.kind), ['rate-limited', ...Array<string>(sends - 2).fill('not-sent')]);
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
    assert.ok(gw.count('queryOrder') >= 1, 'asked the platform before closing');
  });

  it('refund 16 (the serial is another refund\'s): a new serial, never counted as accepted', async () => {
    gw.on('micropay', { kind: 'PAID' })
      .on('refund', (f) => (f.orderNo!.endsWith('R1') ? { kind: 'REFUSED', code: '16', reason: 'order number already used', notOurs: true } : { kind: 'ACCEPTED' }))
      .on('refundQuery', (f) => (f.orderNo!.endsWith('R1') ? { kind: 'REFUNDED' } : { kind: 'REFUNDED' }));
    const e = engine();
    const r = await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 100 }, { deliver: async () => Promise.reject(new Error('relay')) }));
    assert.equal(r.kind, 'not-charged');
    await clock.run(e.whenIdle(), 3_600_000);
    const o = journal.get(only())!;
    assert.equal(o.state, 'refunded');
    assert.equal(o.refundNo, `${o.orderNo}R2`);
    assert.deepEqual(gw.sent.filter((s) => s.call === 'refundQuery').map((s) => s.fields.orderNo!.slice(o.orderNo.length)), ['R2']);
  });

  it('refund refused and the query says "no such order" or "failed" for an order paid with a signed 00: never closed as reversed, refunded once the platform takes it', async () => {
    gw.on('micropay', { kind: 'PAID', transactionId: 'T9' })
      .on('refund', (_f, n) => (n <= 2 ? { kind: 'REFUSED', code: '35', reason: 'original trade missing or wrong state' } : { kind: 'ACCEPTED' }))
      .on('queryOrder', (_f, n) => (n === 1 ? { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such trade' } : { kind: 'NOT_PAID', state: 'failed', code: '06', reason: 'failed' }))
      .on('refundQuery', { kind: 'REFUNDED' });
    const e = engine();
    const r = await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 100 }, { deliver: async () => Promise.reject(new Error('relay')) }));
    assert.equal(r.kind, 'not-charged');
    await clock.run(e.whenIdle(), 3_600_000);
    const o = journal.get(only())!;
    assert.equal(o.state, 'refunded', 'the customer paid (signed 00): only a refund (or a platform saying refunded/cancelled/closed) ends it');
    assert.equal(gw.count('refund'), 3);
  });

  it('a refundQuery answer about another order\'s refund is not ours: not refunded on its word', async () => {
    gw.on('micropay', { kind: 'PAID' })
      .on('refund', { kind: 'ACCEPTED' })
      .on('refundQuery', (_f, n) => (n === 1 ? { outcome: { kind: 'REFUNDED' }, delivery: 'answered', answer: { origOrderNo: 'SOMEONE-ELSE' } } : { kind: 'REFUNDED' }));
    const e = engine();
    await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 100 }, { deliver: async () => Promise.reject(new Error('relay')) }));
    await clock.run(e.whenIdle(), 3_600_000);
    const o = journal.get(only())!;
    assert.equal(o.state, 'refunded');
    assert.equal(gw.count('refundQuery'), 2, 'the first answer (about another order) was not taken');
  });

  // Each field a refundQuery answer gives must be ours: the serial (orderNo), the order refunded (origOrderNo) and
  // the amount (txnAmt). One wrong field is an answer about someone else's refund, never taken as ours.
  for (const [what, wrong] of [
    ['another refund serial', { orderNo: 'K-01-OTHER-R1' }],
    ['a refund of another order', { origOrderNo: 'K-01-OTHER' }],
    ['a larger amount', { txnAmt: '1000' }],
    ['a smaller amount', { txnAmt: '99' }],
  ] as const) {
    it(`a refundQuery answer naming ${what} is not ours: not refunded on its word`, async () => {
      gw.on('micropay', { kind: 'PAID' })
        .on('refund', { kind: 'ACCEPTED' })
        .on('refundQuery', (f, n) => ({ outcome: { kind: 'REFUNDED' }, delivery: 'answered', answer: Object.assign({ orderNo: f.orderNo!, txnAmt: '100' }, n === 1 ? wrong : {}) }));
      const e = engine();
      await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 100 }, { deliver: async () => Promise.reject(new Error('relay')) }));
      await clock.run(e.whenIdle(), 3_600_000);
      const o = journal.get(only())!;
      assert.equal(o.state, 'refunded');
      assert.equal(gw.count('refundQuery'), 2, `the first answer (${what}) was not taken`);
    });
  }

  it('a refundQuery answer naming our serial, our order and our amount (sent as a number) is taken at once', async () => {
    let origOrderNo = '';
    gw.on('micropay', { kind: 'PAID' })
      .on('refund', (f) => ((origOrderNo = f.origOrderNo!), { kind: 'ACCEPTED' }))
      .on('refundQuery', (f) => ({ outcome: { kind: 'REFUNDED' }, delivery: 'answered', answer: { orderNo: f.orderNo!, origOrderNo, txnAmt: 100 as unknown as string } }));
    const e = engine();
    await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 100 }, { deliver: async () => Promise.reject(new Error('relay')) }));
    await clock.run(e.whenIdle(), 3_600_000);
    assert.equal(journal.get(only())!.state, 'refunded');
    assert.equal(gw.count('refundQuery'), 1);
  });

  it('query says failed: declined with the platform code', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' }).on('queryOrder', { kind: 'NOT_PAID', state: 'failed', code: '06', reason: 'failed' });
    const r = await pay(engine());
    assert.equal(r.kind, 'declined');
    assert.equal(journal.get(only())!.state, 'failed');
  });

  it('refuses bad codes, implausible clocks, double reads and a second customer', async () => {
    const e = engine({}, { clockCheck: () => null });
    assert.equal((await pay(e, '999')).kind, 'refused');
    const c = engine({}, { clockCheck: () => 'clock not yet synchronised' });
    const r = await pay(c);
    assert.deepEqual(r, { kind: 'refused', reason: 'clock', detail: 'clock not yet synchronised' });
    assert.equal(journal.list().length, 0, 'nothing journaled, nothing sent');
    assert.equal(gw.sent.length, 0);
    let reachable = false;
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' })
      .on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' })
      .on('cancelOrder', () => (reachable ? { kind: 'DONE' } : { kind: 'UNKNOWN', cause: 'timeout' }));
    const first = e.pay({ authCode: WECHAT, amountFen: 100 }, hooks);
    const busy = await e.pay({ authCode: ALIPAY, amountFen: 100 }, hooks);
    assert.equal(busy.kind === 'refused' && busy.reason, 'busy');
    assert.equal((await clock.run(first)).kind, 'not-charged');
    const dup = await e.pay({ authCode: WECHAT, amountFen: 100 }, hooks); // order still reversing
    assert.equal(dup.kind === 'refused' && dup.reason, 'duplicate');
    assert.ok(!JSON.stringify(dup).includes(WECHAT), 'the code never appears in full');
    reachable = true;
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
  });

  it('a move from a state the order has left is refused loudly (STALE_STATE): nothing written, logged, attention', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' })
      .on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' })
      // While closeOrder is on the wire, something else (a bug, a second writer) finishes the order.
      .on('closeOrder', (f) => {
        journal.transition(f.orderNo!, [{ from: 'reversing', to: 'reversed', event: { kind: 'answer', cause: 'someone else' } }], new Date(clock.wall()).toISOString());
        return { kind: 'DONE' };
      });
    const e = engine({ customerWindowMs: 4_000 });
    const attn: Array<{ reason: string }> = [];
    e.on('attention', (a: { reason: string }) => attn.push(a));
    await pay(e, UNIONPAY);
    await clock.run(e.whenIdle());
    assert.deepEqual(journal.events(only()).map((x) => x.cause), ['scanned', 'micropay: UNKNOWN', 'customer window over', 'someone else']);
    assert.equal(attn.length, 1);
    assert.match(attn[0]!.reason, /internal error: order \S+ is reversed, not reversing \(wanted reversing → reversed by answer\)/);
  });

  it('relay failure after paid: refund path, attention event, customer not charged', async () => {
    gw.on('micropay', { kind: 'PAID' }).on('closeOrder', { kind: 'DONE' }).on('refund', { kind: 'ACCEPTED' }).on('refundQuery', { kind: 'REFUNDED' });
    const e = engine();
    const attention: unknown[] = [];
    e.on('attention', (a) => attention.push(a));
    const r = await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 100 }, { deliver: async () => Promise.reject(new Error('gpio write failed')) }));
    assert.equal(r.kind, 'not-charged');
    await clock.run(e.whenIdle());
    const o = journal.get(only())!;
    assert.equal(o.state, 'refunded');
    assert.equal(o.flag, 'delivery-failed');
    assert.equal(attention.length, 1);
  });

  it('a cancelOrder chosen before midnight becomes closeOrder → refund once the day is over', async () => {
    // cancelOrder only reverses same-day orders: retried after midnight it can never succeed.
    clock = new FakeClock(new Date(2026, 5, 1, 23, 59, 58).getTime());
    const cancelDays: string[] = [];
    gw.on('micropay', { kind: 'PAID' })
      .on('cancelOrder', () => (cancelDays.push(formatOrderTime(clock.wall()).slice(0, 8)), { kind: 'UNKNOWN', cause: 'respCode 99 (other) is not final' }))
      .on('closeOrder', { kind: 'REFUSED', code: '35', reason: 'paid' })
      .on('queryOrder', { kind: 'PAID' })
      .on('refund', { kind: 'ACCEPTED' })
      .on('refundQuery', { kind: 'REFUNDED' });
    const e = engine();
    const r = await clock.run(e.pay({ authCode: WECHAT, amountFen: 100 }, { deliver: async () => Promise.reject(new Error('gpio write failed')) }));
    assert.equal(r.kind, 'not-charged');
    await clock.run(e.whenIdle(), 3_600_000);
    assert.equal(journal.get(only())!.state, 'refunded');
    assert.ok(cancelDays.length > 0);
    assert.deepEqual([...new Set(cancelDays)], ['20260601'], 'no cancelOrder after the order\'s day');
  });

  it('refund answer lost, refundQuery says that refund failed: a new serial (not the failed one forever)', async () => {
    gw.on('micropay', { kind: 'PAID' })
      .on('refund', (f, n) => (n === 1 ? { outcome: { kind: 'UNKNOWN', cause: 'timeout' }, delivery: 'maybe-sent' } : f.orderNo!.endsWith('R1') ? { kind: 'UNKNOWN', cause: 'respCode 12 (duplicate trade) is not final' } : { kind: 'ACCEPTED' }))
      .on('refundQuery', (f) => (f.orderNo!.endsWith('R1') ? { kind: 'FAILED', code: '01', reason: 'refund failed' } : { kind: 'REFUNDED' }));
    const e = engine();
    const r = await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 100 }, { deliver: async () => Promise.reject(new Error('gpio write failed')) }));
    assert.equal(r.kind, 'not-charged');
    await clock.run(e.whenIdle(), 3_600_000);
    const o = journal.get(only())!;
    assert.equal(o.state, 'refunded');
    assert.equal(o.refundNo, `${o.orderNo}R2`);
    // R1 once (the platform said it failed: never re-sent), then R2; each for the paid amount only.
    assert.deepEqual(gw.sent.filter((s) => s.call === 'refund').map((s) => [s.fields.orderNo!.slice(o.orderNo.length), s.fields.txnAmt]), [['R1', '100'], ['R2', '100']]);
  });

  it('rate limits (37) back off; the reversal finishes', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' })
      .on('queryOrder', { kind: 'UNKNOWN', cause: '37', rateLimited: true })
      .on('cancelOrder', (_f, n) => (n < 4 ? { kind: 'UNKNOWN', cause: '37', rateLimited: true } : { kind: 'DONE' }));
    const e = engine();
    await pay(e);
    assert.ok(gw.count('queryOrder') < 19, `backed off: ${gw.count('queryOrder')} queries`);
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
    assert.ok(e.stats.rateLimited >= 3);
  });

  it('bounded effort → attention (listed, logged), retried slowly, finished when the gateway recovers', async () => {
    let healthy = false;
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' })
      .on('queryOrder', { kind: 'UNKNOWN', cause: 'HTTP 502' })
      .on('closeOrder', () => (healthy ? { kind: 'DONE' } : { kind: 'UNKNOWN', cause: 'HTTP 502' }));
    const e = engine({ customerWindowMs: 5_000, effortAttempts: 3, attentionRetryMs: 600_000 });
    const attention: unknown[] = [];
    e.on('attention', (a) => attention.push(a));
    await pay(e, UNIONPAY);
    await clock.advance(60_000);
    const o = journal.get(only())!;
    assert.equal(o.state, 'attention');
    assert.equal(o.resumeState, 'reversing');
    assert.equal(attention.length, 1);
    assert.equal(journal.unfinished().length, 1);
    const before = gw.count('closeOrder');
    await clock.advance(2 * 3600_000);
    const slow = gw.count('closeOrder') - before;
    assert.ok(slow >= 8 && slow <= 24, `slow pace: ${slow} tries in 2 h`);
    healthy = true;
    await clock.run(e.whenIdle());
    assert.equal(journal.get(only())!.state, 'reversed');
  });

  it('refund that fails at the platform gets a new serial', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' })
      .on('queryOrder', (_f, n) => (n < 2 ? { kind: 'UNKNOWN', cause: 'x' } : { kind: 'PAID' }))
      .on('closeOrder', { kind: 'REFUSED', code: '35', reason: 'paid' })
      .on('refund', { kind: 'ACCEPTED' })
      .on('refundQuery', (f) => (f.orderNo!.endsWith('R1') ? { kind: 'FAILED', code: '01', reason: 'refund failed' } : { kind: 'REFUNDED' }));
    const e = engine({ customerWindowMs: 4_000 });
    await pay(e, UNIONPAY);
    await clock.run(e.whenIdle());
    const o = journal.get(only())!;
    assert.equal(o.state, 'refunded');
    assert.equal(o.refundNo, `${o.orderNo}R2`);
  });

  it('paid after the window (WeChat, same day): cancelled', async () => {
    // Each query takes 2 s: the second answer arrives after the 16 s window.
    gw = new FakeGateway({ clock, ms: 2_000 });
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' })
      .on('queryOrder', (_f, n) => (n < 3 ? { kind: 'PENDING', code: '02', reason: 'paying' } : { kind: 'PAID' }))
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine({ customerWindowMs: 16_000 });
    assert.equal((await pay(e)).kind, 'not-charged');
    await clock.run(e.whenIdle());
    assert.deepEqual(states(only()), ['created', 'unknown', 'paid', 'reversing', 'reversed']);
    assert.equal(delivered.length, 0);
  });

  describe('recovery', () => {
    function seed(state: OrderState, patch: Record<string, unknown> = {}, code = WECHAT, orderType = 'wechat'): string {
      const o = journal.createOrder({
        deviceId: 'K01', date: '20260601', orderTime: formatOrderTime(clock.wall()), txnAmt: '100', orderType, authCode: code, authMask: 'x',
        goodsId: 'G', goodsInfo: 'g', acqSpId: merchant.acqSpId, acqMerId: merchant.acqMerId, scannedAt: clock.wall() - 1000, at: new Date(clock.wall()).toISOString(),
      });
      const path: OrderState[] = { created: [], unknown: ['unknown'], paid: ['paid'], delivering: ['paid', 'delivering'], reversing: ['reversing'], refunding: ['paid', 'refunding'], attention: ['reversing', 'attention'] }[state as string] as OrderState[];
      let from: OrderState = 'created';
      for (const to of path) {
        journal.transition(o.orderNo, [{ from, to, event: { kind: kindOf(from, to), cause: 'seed' }, patch: to === path[path.length - 1] ? patch : {} }], new Date(clock.wall()).toISOString());
        from = to;
      }
      return o.orderNo;
    }

    it('drives every non-final state to final; delivering is refunded and flagged', async () => {
      const created = seed('created', {}, UNIONPAY, 'unionpay');
      const unsent = seed('created', { notSent: 1 }, '6212345678901234568', 'unionpay');
      const unknown = seed('unknown', {}, '6212345678901234569', 'unionpay');
      const paid = seed('paid', {}, '6212345678901234560', 'unionpay');
      const delivering = seed('delivering', {}, '6212345678901234561', 'unionpay');
      const reversing = seed('reversing', { reversal: 'closeOrder' }, '6212345678901234562', 'unionpay');
      const refunding = seed('refunding', { refundNo: 'RX1', refundTime: '20260601100000', refundAmt: '100', refundAccepted: true }, '6212345678901234563', 'unionpay');
      const attention = seed('attention', { resumeState: 'reversing', reversal: 'cancelOrder' }, WECHAT, 'wechat');
      // created+notSent=1 with sendAttempts=1: every send provably never left.
      journal.note(unsent, 'created', { kind: 'not-sent', cause: 'seed' }, new Date().toISOString(), { notSent: 1 });
      const paidSet = new Set([paid, delivering, refunding]);
      gw.on('closeOrder', (f) => (paidSet.has(f.orderNo!) ? { kind: 'REFUSED', code: '35', reason: 'paid' } : { kind: 'DONE' }))
        .on('cancelOrder', { kind: 'DONE' })
        .on('queryOrder', (f) => (paidSet.has(f.orderNo!) ? { kind: 'PAID' } : { kind: 'PENDING', code: '02', reason: 'x' }))
        .on('refund', { kind: 'ACCEPTED' })
        .on('refundQuery', { kind: 'REFUNDED' });
      const e = engine();
      const attn: unknown[] = [];
      e.on('attention', (a) => attn.push(a));
      await e.start();
      // New payments are accepted while recovery runs.
      gw.on('micropay', { kind: 'PAID' });
      assert.equal((await clock.run(e.pay({ authCode: ALIPAY, amountFen: 100 }, hooks))).kind, 'approved');
      await clock.run(e.whenIdle());
      const st = (n: string) => journal.get(n)!.state;
      assert.equal(st(created), 'reversed');
      assert.equal(st(unsent), 'failed-not-sent');
      assert.equal(st(unknown), 'reversed');
      assert.equal(st(paid), 'refunded');
      assert.equal(st(delivering), 'refunded');
      assert.equal(journal.get(delivering)!.flag, 'delivery-uncertain');
      assert.equal(st(reversing), 'reversed');
      assert.equal(st(refunding), 'refunded');
      assert.equal(st(attention), 'reversed');
      assert.equal(journal.unfinished().length, 0);
      assert.equal(attn.length, 1);
      assert.ok(!gw.sent.some((s) => s.fields.orderNo === unsent), 'a provably unsent order is never reversed');
    });

    it('bounded concurrency over 60 orders', async () => {
      for (let i = 0; i < 60; i++) seed('unknown', {}, `62123456789012${String(10000 + i)}`, 'unionpay');
      gw = new FakeGateway({ clock, ms: 200 });
      gw.on('closeOrder', { kind: 'DONE' });
      const e = engine({ concurrency: 3, minRequestIntervalMs: 0 });
      await e.start();
      await clock.run(e.whenIdle());
      assert.equal(journal.unfinished().length, 0);
      assert.equal(gw.maxInFlight, 3);
      assert.equal(gw.count('closeOrder'), 60);
    });

    it('stop refuses new payments and leaves unfinished work in the journal', async () => {
      seed('unknown', {}, UNIONPAY, 'unionpay');
      gw.on('closeOrder', { kind: 'UNKNOWN', cause: 'down' });
      const e = engine();
      await e.start();
      await clock.advance(5_000);
      await e.stop(10);
      assert.equal((await e.pay({ authCode: WECHAT, amountFen: 1 }, hooks)).kind, 'refused');
      assert.equal(journal.unfinished().length, 1);
    });
  });
});
