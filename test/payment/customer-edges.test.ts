// The customer path's edges (src/payment/customer.ts), on a fake clock and gateway: the reason an order carries at
// each step (as `kiosk status` shows it meanwhile), the code's validity and the customer window to the millisecond,
// durations counted from the scan, a paid answer without a respCode, a journal failure mid-payment, a deliver hook
// that throws nothing useful, and what the query names.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalError, openJournal, type Journal } from '../../src/journal/journal.js';
import { PaymentEngine, type CustomerResult, type PayHooks, type Timing, type TransitionEvent } from '../../src/payment/engine.js';
import type { Clock } from '../../src/clock.js';
import { FakeClock } from '../fake-clock.js';
import { FakeGateway, logCapture, UNIONPAY, WECHAT } from './fakes.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };

describe('the customer path at its edges (fake clock, fake gateway)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let cap: ReturnType<typeof logCapture>;
  let e: PaymentEngine;
  /** The order's reason right after each transition: what `kiosk status` shows meanwhile. */
  let reasons: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'customer-edges-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    gw = new FakeGateway();
    cap = logCapture();
    reasons = [];
  });
  afterEach(async () => {
    await e.stop(0);
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function pay(timing: Partial<Timing> = {}, hooks: Partial<PayHooks> = {}, code = WECHAT, c: Clock = clock): Promise<CustomerResult> {
    e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock: c, timing, random: () => 0.5, clockCheck: () => null, log: cap.log });
    e.on('transition', (t: TransitionEvent) => reasons.push(`${t.to}: ${journal.get(t.orderNo)!.reason}`));
    return clock.run(e.pay({ authCode: code, amountFen: 250 }, { deliver: async () => undefined, ...hooks }));
  }
  const order = () => journal.list()[0]!;

  it('the reason at each step: unclear, code expired (rate limited), paid after the window', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'timeout' }).on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' }).on('cancelOrder', { kind: 'UNKNOWN', cause: 'x' });
    await pay({ customerWindowMs: 4_000 });
    assert.equal(reasons[1], 'unknown: micropay unclear: timeout');
    await e.stop(0);
    journal.close();
    journal = openJournal(join(dir, 'k.db'));
    reasons = [];
    gw = new FakeGateway();
    gw.on('micropay', { kind: 'UNKNOWN', cause: '37 too frequent', rateLimited: true }).on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' }).on('cancelOrder', { kind: 'UNKNOWN', cause: 'x' });
    await pay({ codeValidityMs: 2_500, customerWindowMs: 4_000 });
    assert.equal(reasons[1], "unknown: micropay not taken within the code's validity: rate limited: 37 too frequent");
    await e.stop(0);
    journal.close();
    journal = openJournal(join(dir, 'l.db'));
    reasons = [];
    gw = new FakeGateway({ clock, ms: 5_000 });
    gw.on('micropay', { kind: 'PAID', transactionId: 'T1' }).on('cancelOrder', { kind: 'UNKNOWN', cause: 'x' });
    await pay({ customerWindowMs: 5_000 });
    assert.equal(reasons[1], 'paid: paid after the customer window');
    assert.deepEqual([order().transactionId, order().respCode], ['T1', '00']);
  });

  it('re-sends stop where the code would be past its validity, to the millisecond, also when timers fire late', async () => {
    const at: number[] = [];
    gw.on('micropay', () => (at.push(clock.mono()), { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' }));
    await pay({ codeValidityMs: 3_000, notSentRetryMs: 1_000 });
    assert.deepEqual(at, [0, 1_000], 'a send due at 3,000 ms would be at the end of the validity');
    await e.stop(0);
    at.length = 0;
    const late = Object.assign(Object.create(clock) as FakeClock, { sleep: (ms: number, signal?: AbortSignal) => clock.sleep(ms + 10, signal) });
    const t0 = clock.mono();
    gw.on('micropay', () => (at.push(clock.mono() - t0), { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' }));
    await pay({ codeValidityMs: 3_020, notSentRetryMs: 1_000 }, {}, UNIONPAY, late);
    assert.deepEqual(at, [0, 1_010], 'the retry that woke exactly at the end of the validity is not sent');
  });

  it('durations are counted from the scan, not from the clock\'s zero', async () => {
    await clock.advance(100_000);
    gw.on('micropay', (_f, n) => (n === 1 ? { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' } : { kind: 'PAID' }));
    await pay();
    assert.equal(order().reason, 'paid and delivered 1 s after the scan');
    await e.stop(0);
    journal.close();
    journal = openJournal(join(dir, 'k.db'));
    gw.on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' });
    const r = await pay({ codeValidityMs: 4_000 });
    assert.equal(r.kind === 'refused' && r.detail, 'not sent: gateway unreachable for 3 s after the scan (never left: ECONNREFUSED)');
  });

  it('a paid answer that came exactly at the end of the window releases nothing', async () => {
    gw = new FakeGateway({ clock, ms: 1_000 });
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'timeout' }).on('queryOrder', (_f, n) => (n < 3 ? { kind: 'PENDING', code: '02', reason: 'paying' } : { kind: 'PAID', transactionId: 'T9' })).on('cancelOrder', { kind: 'UNKNOWN', cause: 'x' });
    const released: string[] = [];
    // micropay answered at 1 s; queries sent at 4 s, 8 s, 12 s (answered a second later): the third answer at 13 s.
    const r = await pay({ customerWindowMs: 13_000, queryIntervalMs: 3_000 }, { deliver: async (no) => void released.push(no) });
    assert.equal(r.kind, 'not-charged');
    assert.deepEqual(released, []);
    assert.deepEqual([order().transactionId, order().respCode], ['T9', '00']);
  });

  it('a paid answer without a respCode is journaled as 00 (released, or refunded after the session ended)', async () => {
    gw.on('micropay', { kind: 'PAID', transactionId: 'T1' });
    const plain = gw.micropay.bind(gw);
    gw.micropay = async (f: object) => ({ ...(await plain(f)), answer: undefined });
    await pay();
    assert.equal(order().respCode, '00');
    await e.stop(0);
    journal.close();
    journal = openJournal(join(dir, 'k.db'));
    gw.on('refund', { kind: 'UNKNOWN', cause: 'x' }).on('refundQuery', { kind: 'UNKNOWN', cause: 'x' });
    const seen: TransitionEvent[] = [];
    const r = pay({}, { releasable: () => 'denied (C,STOP)' }, UNIONPAY);
    e.on('transition', (t: TransitionEvent) => seen.push(t));
    await r;
    assert.equal(order().respCode, '00');
    assert.deepEqual(seen.slice(0, 2).map((t) => [t.from, t.to, t.cause]), [['created', 'paid', 'micropay: PAID'], ['paid', 'refunding', 'paid after the vend session ended']]);
    assert.equal(cap.lines.find((l) => l.event === 'paid-after-session')!.msg, 'paid after the vend session ended (denied (C,STOP)): refunding');
  });

  it('a journal failure mid-payment rejects pay() (the kiosk shows a fault), never "the kiosk stopped"', async () => {
    gw.on('micropay', (f) => {
      journal.transition(f.orderNo!, [{ from: 'created', to: 'unknown', event: { kind: 'answer', cause: 'someone else' } }], new Date(clock.wall()).toISOString());
      return { kind: 'PAID' };
    });
    await assert.rejects(pay(), JournalError);
  });

  it('a deliver hook that rejects with nothing: refunded as a relay failure, in words', async () => {
    gw.on('micropay', { kind: 'PAID' }).on('refund', { kind: 'UNKNOWN', cause: 'x' }).on('refundQuery', { kind: 'UNKNOWN', cause: 'x' });
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a driver may reject with anything
    const r = await pay({}, { deliver: () => Promise.reject(undefined) }, UNIONPAY);
    assert.deepEqual(r, { kind: 'not-charged', orderNo: order().orderNo, reason: 'the product could not be released; the payment is being refunded' });
    assert.deepEqual([order().flag, order().reason], ['delivery-failed', 'vend relay failed: undefined']);
  });

  it('the queries name the order (no transactionId before one is known); the release is journaled as such', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'timeout' }).on('queryOrder', { kind: 'PAID', transactionId: 'T3' });
    await pay();
    const no = order().orderNo;
    assert.deepEqual(gw.sent.filter((s) => s.call === 'queryOrder').map((s) => s.fields), [{ orderNo: no, transactionId: undefined }]);
    const release = journal.events(no).find((x) => x.to === 'delivering')!;
    assert.deepEqual([release.from, release.kind, release.cause], ['paid', 'release', 'releasing product']);
  });

  it('a journal that cannot take the order: pay() rejects with its error, logged with its code, nothing sent', async () => {
    const readonly = Object.assign(new Error('attempt to write a readonly database'), { code: 'SQLITE_READONLY' });
    journal.createOrder = () => {
      throw readonly;
    };
    await assert.rejects(pay(), (err) => err === readonly);
    const line = cap.lines.find((l) => l.event === 'journal-unusable')!;
    assert.deepEqual([line.code, line.msg], ['SQLITE_READONLY', 'payment refused, nothing sent: the journal cannot take a new order: attempt to write a readonly database']);
    assert.deepEqual(gw.sent, []);
  });

  it('a send that never left is not retried when the retry would come exactly at the end of the code\'s validity: refused at once', async () => {
    gw.on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' });
    const r = await pay({ codeValidityMs: 1_000, notSentRetryMs: 1_000 });
    assert.equal(r.kind === 'refused' && r.detail, 'not sent: gateway unreachable for 0 s after the scan (never left: ECONNREFUSED)');
    assert.equal(clock.mono(), 0, 'no wait for a retry that cannot be sent');
    assert.deepEqual(journal.events(order().orderNo).map((x) => x.kind), ['scan', 'not-sent']);
  });

  it('a query that throws is logged under queryOrder', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: 'timeout' }).on('cancelOrder', { kind: 'UNKNOWN', cause: 'x' });
    gw.queryOrder = () => Promise.reject(new Error('bug in the client'));
    await pay({ customerWindowMs: 4_000 });
    const line = cap.lines.find((l) => l.event === 'gateway-threw')!;
    assert.deepEqual([line.call, line.msg], ['queryOrder', 'queryOrder: gateway threw: bug in the client']);
  });
});
