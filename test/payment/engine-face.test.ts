// The engine's public face (src/payment/engine.ts) as the kiosk and the daemon use it: what each refusal says and
// that it journals and sends nothing, the amount guard, the default clock check, vendDenied, the busy/pending
// getters, stop()'s grace for the customer and for background work, and start()'s recovery line in the log.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { DEFAULT_TIMING, PaymentEngine, type EngineOptions, type PayHooks, type Timing } from '../../src/payment/engine.js';
import type { CallResult, CloseOrderFields } from '../../src/umpay/types.js';
import { FakeClock } from '../fake-clock.js';
import { ALIPAY, FakeGateway, logCapture, seedOrder, UNIONPAY, WECHAT } from './fakes.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };

describe('payment engine: what pay(), stop() and start() tell the kiosk (fake clock)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let delivered: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'engine-face-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    gw = new FakeGateway();
    delivered = [];
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function engine(timing: Partial<Timing> = {}, extra: Partial<EngineOptions> = {}): PaymentEngine {
    return new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock, timing, random: () => 0.5, clockCheck: () => null, ...extra });
  }
  const hooks: PayHooks = { deliver: async (o: string) => void delivered.push(o) };
  const nothingDone = (): void => {
    assert.equal(journal.list().length, 0, 'nothing journaled');
    assert.equal(gw.sent.length, 0, 'nothing sent');
  };

  it('the default timing is the documented one; an option overrides only its own field', () => {
    const documented = {
      customerWindowMs: 60_000, queryIntervalMs: 3_000, codeValidityMs: 45_000, notSentRetryMs: 1_000, backoffBaseMs: 1_000, backoffMaxMs: 60_000,
      effortAttempts: 8, attentionRetryMs: 300_000, concurrency: 4, minRequestIntervalMs: 50,
    };
    assert.deepEqual(DEFAULT_TIMING, documented);
    assert.deepEqual(engine().timing, documented);
    assert.deepEqual(engine({ queryIntervalMs: 2_000 }).timing, { ...documented, queryIntervalMs: 2_000 });
  });

  it('each refusal names its reason and says why in words; nothing is journaled or sent', async () => {
    const bad = await engine().pay({ authCode: '999', amountFen: 100 }, hooks);
    assert.equal(bad.kind === 'refused' && bad.reason, 'bad-code');
    assert.match(bad.kind === 'refused' ? bad.detail : '', /^code…\(3 chars\): \S/);
    const skew = await engine({}, { platformClockCheck: () => 'the clock is 6 min ahead of the payment platform' }).pay({ authCode: WECHAT, amountFen: 100 }, hooks);
    assert.deepEqual(skew, { kind: 'refused', reason: 'platform-clock', detail: 'the clock is 6 min ahead of the payment platform' });
    nothingDone();
    const e = engine();
    await e.stop(0);
    assert.deepEqual(await e.pay({ authCode: WECHAT, amountFen: 100 }, hooks), { kind: 'refused', reason: 'stopping', detail: 'the kiosk is shutting down' });
    nothingDone();
  });

  it('a second customer is refused as busy, a code already being paid as a duplicate (masked, with its order)', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' }).on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' }).on('cancelOrder', { kind: 'UNKNOWN', cause: 'timeout' });
    const e = engine({ customerWindowMs: 4_000 });
    const first = e.pay({ authCode: WECHAT, amountFen: 100 }, hooks);
    assert.equal(e.customerInProgress, true);
    assert.deepEqual(await e.pay({ authCode: ALIPAY, amountFen: 100 }, hooks), { kind: 'refused', reason: 'busy', detail: 'another payment is in progress' });
    assert.equal((await clock.run(first)).kind, 'not-charged');
    assert.equal(e.customerInProgress, false);
    assert.equal(e.pending, 1, 'the reversal runs in the background');
    const orderNo = journal.list()[0]!.orderNo;
    assert.deepEqual(await e.pay({ authCode: WECHAT, amountFen: 100 }, hooks), { kind: 'refused', reason: 'duplicate', detail: `wechat…6789 is already being paid in order ${orderNo}` });
    assert.equal(journal.list().length, 1);
    assert.equal(gw.count('micropay'), 1);
    await e.stop(0);
  });

  it('the default clock check refuses a clock before this build: nothing journaled or sent', async () => {
    clock = new FakeClock(Date.UTC(2025, 0, 1));
    const r = await engine({}, { clockCheck: undefined }).pay({ authCode: WECHAT, amountFen: 100 }, hooks);
    assert.equal(r.kind === 'refused' && r.reason, 'clock');
    assert.match(r.kind === 'refused' ? r.detail : '', /^clock reads 2025-01-01T00:00:00\.000Z, before this build/);
    nothingDone();
  });

  it('an amount that is not 1 to 13 digits of whole fen is a pricing bug: thrown (BAD_AMOUNT), never journaled or sent', async () => {
    const e = engine();
    for (const amountFen of [0, -1, -100, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e13, 2 ** 53]) {
      await assert.rejects(e.pay({ authCode: WECHAT, amountFen }, hooks), (err: Error & { code?: string }) => {
        assert.ok(err instanceof RangeError);
        assert.equal(err.code, 'BAD_AMOUNT');
        assert.equal(err.message, `amountFen must be a whole number of fen from 1 to 13 digits, got ${JSON.stringify(amountFen)}`);
        return true;
      });
    }
    nothingDone();
    gw.on('micropay', { kind: 'PAID', transactionId: 'T1' });
    for (const amountFen of [1, 9_999_999_999_999]) assert.equal((await clock.run(e.pay({ authCode: UNIONPAY, amountFen }, hooks))).kind, 'approved');
    assert.deepEqual(gw.sent.map((s) => s.fields.txnAmt), ['1', '9999999999999']);
  });

  it('vendDenied (MDB C,STOP) is journaled on the order in whatever state it is; an order it does not know is left alone', async () => {
    const e = engine();
    const no = seedOrder(journal, clock, 'delivered');
    e.vendDenied(no, 'C,STOP after the approval');
    const ev = journal.events(no).at(-1)!;
    assert.deepEqual([ev.from, ev.to, ev.kind, ev.cause, ev.detail], ['delivered', 'delivered', 'vend-denied', 'vend denied (C,STOP)', 'C,STOP after the approval']);
    const before = journal.events(no).length;
    e.vendDenied('K0120260601000099_abcdefghij', 'no such order');
    assert.equal(journal.events(no).length, before);
  });

  it('stop() lets the customer in progress finish within its grace: paid, released, delivered', async () => {
    gw = new FakeGateway({ clock, ms: 2_000 });
    gw.on('micropay', { kind: 'PAID', transactionId: 'T1' });
    const e = engine();
    const paying = e.pay({ authCode: WECHAT, amountFen: 100 }, hooks);
    await clock.advance(0);
    const stopping = e.stop(60_000);
    assert.equal((await e.pay({ authCode: ALIPAY, amountFen: 100 }, hooks)).kind, 'refused');
    assert.deepEqual(await clock.run(paying), { kind: 'approved', orderNo: journal.list()[0]!.orderNo });
    await stopping;
    assert.equal(journal.list()[0]!.state, 'delivered');
    assert.equal(delivered.length, 1);
  });

  it('stop() stops waiting for the customer after graceMs: not charged, the order left unfinished for the next start', async () => {
    gw.on('micropay', { kind: 'UNKNOWN', cause: '02' }).on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' });
    const e = engine();
    const paying = e.pay({ authCode: WECHAT, amountFen: 100 }, hooks);
    await clock.advance(0);
    await e.stop(5);
    assert.deepEqual(await paying, { kind: 'not-charged', orderNo: journal.list()[0]!.orderNo, reason: 'the kiosk stopped; the order is finished at the next start' });
    assert.equal(journal.list()[0]!.state, 'unknown');
  });

  /** A gateway whose closeOrder answers DONE after `ms` of real time (stop() waits on real timers). */
  function slowClose(ms: number): void {
    gw.closeOrder = (f: CloseOrderFields): Promise<CallResult<'closeOrder'>> =>
      new Promise((r) => setTimeout(() => r({ call: 'closeOrder', outcome: { kind: 'DONE' }, request: { ...f }, plaintext: '', delivery: 'answered', answer: { respCode: '00' }, elapsedMs: ms }), ms));
  }

  it('stop() waits for a background call in flight to come back (up to its grace), then writes nothing more', async () => {
    const no = seedOrder(journal, clock, 'unknown', { code: UNIONPAY, orderType: 'unionpay' });
    slowClose(20);
    const e = engine();
    await e.start();
    await clock.advance(0);
    assert.equal(e.pending, 1);
    await e.stop(1_000);
    assert.equal(e.pending, 0, 'the drive settled before stop() returned');
    assert.equal(journal.get(no)!.state, 'reversing', 'the late answer is not written after the stop: the next start asks again');
  });

  it('stop(0) does not wait for a background call in flight', async () => {
    seedOrder(journal, clock, 'unknown', { code: UNIONPAY, orderType: 'unionpay' });
    slowClose(150);
    const e = engine();
    await e.start();
    await clock.advance(0);
    await e.stop(0);
    assert.equal(e.pending, 1, 'the call is still in flight');
    await e.whenIdle();
    assert.equal(e.pending, 0);
  });

  it('start() says in the log how many unfinished orders it recovers; nothing when there are none', async () => {
    const cap = logCapture();
    await engine({}, { log: cap.log }).start();
    assert.deepEqual(cap.lines.filter((l) => l.event === 'recovery'), []);
    seedOrder(journal, clock, 'unknown', { code: UNIONPAY, orderType: 'unionpay' });
    seedOrder(journal, clock, 'reversing', { code: '6212345678901234568', orderType: 'unionpay', patch: { reversal: 'closeOrder' } });
    gw.on('closeOrder', { kind: 'DONE' });
    const e = engine({}, { log: cap.log });
    await e.start();
    const line = cap.lines.find((l) => l.event === 'recovery')!;
    assert.equal(line.unfinished, 2);
    assert.equal(line.msg, 'recovering 2 unfinished order(s)');
    await clock.run(e.whenIdle());
  });

  it('keeps nothing per order once it is final (a kiosk runs for months)', async () => {
    const seen = (e: PaymentEngine): Map<string, number> => (e as unknown as { core: { firstSeen: Map<string, number> } }).core.firstSeen;
    gw.on('micropay', (_f, n) => (n === 1 ? { kind: 'PAID' } : n === 2 ? { kind: 'NOT_PAID', code: '15', reason: 'no money' } : { kind: 'UNKNOWN', cause: '02' }))
      .on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' })
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine({ customerWindowMs: 4_000 });
    assert.equal((await clock.run(e.pay({ authCode: WECHAT, amountFen: 100 }, hooks))).kind, 'approved');
    assert.equal((await clock.run(e.pay({ authCode: WECHAT, amountFen: 100 }, hooks))).kind, 'declined');
    assert.equal(seen(e).size, 0);
    assert.equal((await clock.run(e.pay({ authCode: WECHAT, amountFen: 100 }, hooks))).kind, 'not-charged');
    await clock.run(e.whenIdle());
    assert.deepEqual(journal.list().map((o) => o.state).sort(), ['delivered', 'failed', 'reversed']);
    assert.equal(seen(e).size, 0);
  });
});
