// What the engine's shared core (src/payment/core.ts) records, through a real engine on a fake clock: each
// transition's log line and event, the journaled event of an answer (code, capped message, detail), a product
// released while stopping still recorded as delivered, the reversal chosen per wallet, and money-back decisions
// that read no clock. Then the core called directly: how it reads query and refund-query answers (about our order?
// doubted?), a move after stop, an answer's event, the scan on this clock, a same-day refund that is a cancel.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { DEFAULT_TIMING, PaymentEngine, type TransitionEvent } from '../../src/payment/engine.js';
import { EngineCore } from '../../src/payment/core.js';
import { Scheduler } from '../../src/payment/scheduler.js';
import { Halted } from '../../src/clock.js';
import { payTimeDoubt } from '../../src/umpay/outcome.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import type { CallResult, QueryOutcome, RefundQueryOutcome } from '../../src/umpay/types.js';
import { FakeClock } from '../fake-clock.js';
import { ALIPAY, FakeGateway, logCapture, seedOrder, WECHAT } from './fakes.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };

describe('the engine core: what is recorded (fake clock, fake gateway)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let cap: ReturnType<typeof logCapture>;
  let e: PaymentEngine;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'core-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    gw = new FakeGateway();
    cap = logCapture('debug');
    e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock, random: () => 0.5, clockCheck: () => null, log: cap.log });
  });
  afterEach(async () => {
    await e.stop(0);
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every transition is an event and a log line: final states and attention at info, the steps between at debug', async () => {
    const seen: TransitionEvent[] = [];
    e.on('transition', (t: TransitionEvent) => seen.push(t));
    gw.on('micropay', { kind: 'PAID', transactionId: 'T1' });
    await clock.run(e.pay({ authCode: WECHAT, amountFen: 100 }, { deliver: async () => undefined }));
    const no = journal.list()[0]!.orderNo;
    assert.deepEqual(seen, [
      { orderNo: no, from: null, to: 'created', cause: 'scanned' },
      { orderNo: no, from: 'created', to: 'paid', cause: 'micropay: PAID' },
      { orderNo: no, from: 'paid', to: 'delivering', cause: 'releasing product' },
      { orderNo: no, from: 'delivering', to: 'delivered', cause: 'product released' },
    ]);
    const lines = cap.lines.filter((l) => l.event === 'transition');
    assert.deepEqual(lines.map((l) => [l.level, l.msg]), [
      [20, `${no}: - → created (scanned)`],
      [20, `${no}: created → paid (micropay: PAID)`],
      [20, `${no}: paid → delivering (releasing product)`],
      [30, `${no}: delivering → delivered (product released)`],
    ]);
    assert.deepEqual([lines[3]!.orderNo, lines[3]!.from, lines[3]!.to, lines[3]!.cause], [no, 'delivering', 'delivered', 'product released']);
    const a = seedOrder(journal, clock, 'reversing', { code: ALIPAY, orderType: 'alipay', patch: { reversal: 'cancelOrder' } });
    // An unclear cancel is followed by a query (everything unclear is queried): unclear too, so the step waits.
    gw.on('cancelOrder', { kind: 'UNKNOWN', cause: 'timeout' }).on('queryOrder', { kind: 'UNKNOWN', cause: 'timeout' });
    const late = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock, timing: { effortAttempts: 1 }, random: () => 0.5, clockCheck: () => null, log: cap.log });
    await late.start();
    await clock.advance(100); // the cancel and, one pacing gap later, its query
    await late.stop(0);
    assert.equal(cap.lines.find((l) => l.event === 'transition' && l.orderNo === a)!.level, 30, 'attention at info');
  });

  it("an answer's event: its respCode, its message capped at 200 characters, the original code as detail", async () => {
    const long = 'x'.repeat(300);
    gw.on('micropay', { outcome: { kind: 'NOT_PAID', code: '15', reason: 'declined' }, delivery: 'answered', answer: { respCode: '15', respMsg: long, origRespCode: '03' } });
    await clock.run(e.pay({ authCode: WECHAT, amountFen: 100 }, { deliver: async () => undefined }));
    const ev = journal.events(journal.list()[0]!.orderNo).at(-1)!;
    assert.deepEqual([ev.kind, ev.cause, ev.call, ev.respCode, ev.respMsg, ev.delivery, ev.detail], ['answer', 'micropay: NOT_PAID', 'micropay', '15', 'x'.repeat(200), 'answered', 'origRespCode 03']);
  });

  it("without an answer the outcome's code and reason are journaled", async () => {
    gw.on('micropay', { outcome: { kind: 'NOT_PAID', code: '15', reason: 'declined' }, delivery: 'answered' });
    gw.micropay = async (f: object) => ({ ...(await FakeGateway.prototype.micropay.call(gw, f)), answer: undefined });
    await clock.run(e.pay({ authCode: WECHAT, amountFen: 100 }, { deliver: async () => undefined }));
    const ev = journal.events(journal.list()[0]!.orderNo).at(-1)!;
    assert.deepEqual([ev.respCode, ev.respMsg, ev.detail], ['15', 'declined', null]);
  });

  it('a product released while the kiosk stops is still recorded as delivered (never refunded for a product that came out)', async () => {
    gw.on('micropay', { kind: 'PAID' });
    let release: (() => void) | undefined;
    const paying = e.pay({ authCode: WECHAT, amountFen: 100 }, { deliver: () => new Promise<void>((r) => (release = r)) });
    await clock.advance(0);
    await e.stop(0);
    release!();
    assert.deepEqual(await paying, { kind: 'approved', orderNo: journal.list()[0]!.orderNo });
    assert.equal(journal.list()[0]!.state, 'delivered');
  });

  it('Alipay and WeChat the same day are cancelled; the day after, closed', async () => {
    const a = seedOrder(journal, clock, 'unknown', { code: ALIPAY, orderType: 'alipay' });
    const w = seedOrder(journal, clock, 'unknown', { code: WECHAT });
    gw.on('cancelOrder', { kind: 'DONE' }).on('closeOrder', { kind: 'DONE' });
    await e.start();
    await clock.run(e.whenIdle());
    assert.deepEqual([journal.get(a)!.reversal, journal.get(w)!.reversal], ['cancelOrder', 'cancelOrder']);
    const y = seedOrder(journal, clock, 'unknown', { code: '281234567890123457', orderType: 'alipay' });
    clock.stepWall(24 * 3_600_000);
    assert.notEqual(formatOrderTime(clock.wall()).slice(0, 8), journal.get(y)!.orderTime.slice(0, 8));
    await e.start();
    await clock.run(e.whenIdle());
    assert.equal(journal.get(y)!.reversal, 'closeOrder');
    assert.deepEqual(gw.sent.map((s) => s.call), ['cancelOrder', 'cancelOrder', 'closeOrder']);
  });

  it('money back reads no clock: a paid answer whose payTime is before our order is still refunded', async () => {
    const no = seedOrder(journal, clock, 'reversing', { patch: { reversal: 'cancelOrder' } });
    const hourEarlier = formatOrderTime(clock.wall() - 3_600_000).slice(4);
    gw.on('cancelOrder', { kind: 'REFUSED', code: '35', reason: 'paid' })
      .on('queryOrder', { outcome: { kind: 'PAID', transactionId: 'T8' }, delivery: 'answered', answer: { txnAmt: '100', payTime: hourEarlier } })
      .on('refund', { kind: 'ACCEPTED' })
      .on('refundQuery', { kind: 'REFUNDED' });
    await e.start();
    await clock.run(e.whenIdle());
    assert.deepEqual([journal.get(no)!.state, journal.get(no)!.transactionId], ['refunded', 'T8']);
  });
});

describe('the engine core, called directly (fake clock)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let core: EngineCore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'core-direct-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    const { log } = logCapture();
    const halt = new AbortController();
    core = new EngineCore(journal, new FakeGateway(), clock, log, DEFAULT_TIMING, new Scheduler(clock, DEFAULT_TIMING, log, () => 0.5, halt.signal), new EventEmitter(), halt);
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const answered = <C extends 'queryOrder' | 'refundQuery'>(call: C, outcome: CallResult<C>['outcome'], answer?: Record<string, string>): CallResult<C> =>
    ({ call, outcome, request: {}, plaintext: '', delivery: 'answered', answer, elapsedMs: 1 });
  const unclear = { kind: 'UNKNOWN', cause: 'timeout' } as const;
  const none: QueryOutcome = { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'none' };
  const closed: QueryOutcome = { kind: 'NOT_PAID', state: 'closed', code: '01', reason: 'closed' };

  it('a query answer: unclear and "no such order" taken as they are; any other about another order is unclear, saying why', () => {
    const o = journal.get(seedOrder(journal, clock, 'reversing'))!;
    for (const purpose of ['release', 'money-back'] as const) {
      assert.deepEqual(core.aboutOurs(answered('queryOrder', unclear, { orderNo: 'X1' }), o, purpose), unclear);
      assert.deepEqual(core.aboutOurs(answered('queryOrder', none, { txnAmt: '999' }), o, purpose), none);
      assert.deepEqual(core.aboutOurs(answered('queryOrder', closed, { txnAmt: '999' }), o, purpose), { kind: 'UNKNOWN', cause: 'not about this order: answer says txnAmt 999, the order is 100' });
      assert.deepEqual(core.aboutOurs(answered('queryOrder', closed, { txnAmt: '100' }), o, purpose), closed);
    }
  });

  it('a paid answer from before our order is doubted only for releasing the product; no other answer is doubted', () => {
    const o = journal.get(seedOrder(journal, clock, 'reversing'))!;
    const early = { txnAmt: '100', payTime: formatOrderTime(clock.wall() - 3_600_000).slice(4) };
    const paid: QueryOutcome = { kind: 'PAID', transactionId: 'T1' };
    const doubt = payTimeDoubt(early, o);
    assert.ok(doubt);
    assert.deepEqual(core.aboutOurs(answered('queryOrder', paid, early), o, 'release'), { ...paid, doubt });
    assert.deepEqual(core.aboutOurs(answered('queryOrder', paid, early), o, 'money-back'), paid);
    assert.deepEqual(core.aboutOurs(answered('queryOrder', closed, early), o, 'release'), closed);
  });

  it('a refund query answer: unclear taken as it is; another refund named is unclear, saying why', () => {
    const o = journal.get(seedOrder(journal, clock, 'refunding'))!;
    const pending: RefundQueryOutcome = { kind: 'PENDING', code: '02', reason: 'in progress' };
    assert.deepEqual(core.refundAboutOurs(answered('refundQuery', unclear, { orderNo: 'X1R1' }), o), unclear);
    assert.deepEqual(core.refundAboutOurs(answered('refundQuery', pending, { orderNo: 'X1R1' }), o), { kind: 'UNKNOWN', cause: `not about this refund: answer is about refund X1R1, not ${o.refundNo}` });
  });

  it('after stop nothing moves but a product that came out (delivered)', () => {
    const no = seedOrder(journal, clock, 'delivering');
    core.halt.abort();
    assert.throws(() => core.move(journal.get(no)!, 'refunding', { kind: 'recovery', cause: 'x' }), Halted);
    assert.equal(journal.get(no)!.state, 'delivering');
    core.move(journal.get(no)!, 'delivered', { kind: 'vend-sensed', cause: 'product released' });
    assert.equal(journal.get(no)!.state, 'delivered');
  });

  it("an answer's event: the answer's own respCode over the outcome's code; the call's cause when the outcome has none", () => {
    const res = { ...answered('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' }, { respCode: 'A1', respMsg: 'm', origRespCode: '03' }), cause: 'answered late' };
    const ev = core.eventOf(res);
    assert.deepEqual([ev.cause, ev.respCode, ev.respMsg, ev.detail], ['queryOrder: PENDING', 'A1', 'm', 'answered late']);
  });

  it('the scan on this clock: journaled by this boot, else when this process first knew the order', async () => {
    const o = journal.get(seedOrder(journal, clock, 'reversing', { agoMs: 1_000 }))!;
    await clock.advance(5_000);
    assert.equal(core.scannedMono(o), -1_000);
    assert.equal(core.scannedMono({ ...o, scannedMono: null }), 5_000);
    await clock.advance(5_000);
    assert.deepEqual([core.scannedMono({ ...o, scannedMono: null }), core.scannedMono({ ...o, bootId: 'an-earlier-boot' })], [5_000, 5_000]);
  });

  it('a same-day WeChat refund is a cancel, with the reason and flag given', () => {
    const no = seedOrder(journal, clock, 'paid');
    core.startRefund(journal.get(no)!, 'recovery', 'paid after the customer left', { reason: 'paid, product never released', flag: 'delivery-uncertain' });
    const o = journal.get(no)!;
    assert.deepEqual([o.state, o.reversal, o.reason, o.flag], ['reversing', 'cancelOrder', 'paid, product never released', 'delivery-uncertain']);
  });
});
