// What the engine's shared core (src/payment/core.ts) records, through a real engine on a fake clock: each
// transition's log line and event, the journaled event of an answer (code, capped message, detail), a product
// released while stopping still recorded as delivered, the reversal chosen per wallet, and money-back decisions
// that read no clock.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { PaymentEngine, type TransitionEvent } from '../../src/payment/engine.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
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
