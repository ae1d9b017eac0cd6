// Issue 24 §1: a kiosk whose clock is wrong never keeps a customer's money. The platform's payTime lies before our
// orderTime when the kiosk's clock was ahead of the platform's: that lowers trust in a paid answer for releasing
// the product, and never blocks giving the money back. Each path here used to end in `attention` for ever.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal, type OrderState } from '../../src/journal/journal.js';
import { PaymentEngine, type Timing } from '../../src/payment/engine.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import type { QueryOutcome } from '../../src/umpay/types.js';
import { FakeGateway, UNIONPAY, WECHAT, type Answer } from './fakes.js';
import { FakeClock } from '../fake-clock.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const HOUR = 3600_000;
/** Every order here must be final within this much (fake) time: a stuck order fails the test instead of hanging. */
const BOUND_MS = 3 * HOUR;

describe('payment engine: money held is given back whatever the clocks say (issue 24)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let delivered: string[];
  let startWall: number;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clock-money-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    startWall = clock.wall();
    delivered = [];
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const timing: Partial<Timing> = { customerWindowMs: 10_000, queryIntervalMs: 2_000, codeValidityMs: 8_000 };
  const engine = (gw: FakeGateway): PaymentEngine =>
    new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock, timing, random: () => 0.5, clockCheck: () => null });
  const only = (): string => journal.list()[0]!.orderNo;

  /**
   * The platform's paid answer: paid when the order was made (the test's start) on its own clock, `behind` ms
   * behind the kiosk's. Fixed, so that the kiosk's clock running on does not make it plausible after an hour.
   */
  const paidAnswer = (behind: number, extra: Record<string, string> = {}): Answer<'queryOrder'> => ({
    outcome: { kind: 'PAID', transactionId: 'T-1' } as QueryOutcome,
    delivery: 'answered',
    answer: { origRespCode: '00', txnAmt: '150', payTime: formatOrderTime(startWall - behind).slice(4), ...extra },
  });
  const refunds = (gw: FakeGateway): FakeGateway => gw.on('refund', { kind: 'ACCEPTED' }).on('refundQuery', { kind: 'REFUNDED' });

  for (const ahead of [HOUR, 24 * HOUR]) {
    it(`the kiosk ${ahead / HOUR} h fast, a UnionPay answer lost: no product, the order is refunded (it used to stay reversing → attention)`, async () => {
      const gw = refunds(new FakeGateway())
        .on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'connection dropped' }, delivery: 'maybe-sent' })
        .on('queryOrder', () => paidAnswer(ahead))
        .on('closeOrder', { kind: 'REFUSED', code: '35', reason: 'already paid' });
      const e = engine(gw);
      const r = await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 150 }, { deliver: async (o) => void delivered.push(o) }));
      assert.equal(r.kind, 'not-charged');
      await clock.run(e.whenIdle(), BOUND_MS);
      const o = journal.get(only())!;
      assert.equal(o.state, 'refunded');
      assert.equal(o.flag, 'pay-time-doubt');
      assert.deepEqual(delivered, [], 'never released on a doubted answer');
      assert.equal(gw.count('refund'), 1);
    });
  }

  it('the kiosk an hour fast, WeChat the same day: cancelled at once instead of after the window', async () => {
    const gw = new FakeGateway()
      .on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'timeout' }, delivery: 'maybe-sent' })
      .on('queryOrder', () => paidAnswer(HOUR))
      .on('cancelOrder', { kind: 'DONE' });
    const e = engine(gw);
    const start = clock.mono();
    const r = await clock.run(e.pay({ authCode: WECHAT, amountFen: 150 }, { deliver: async (o) => void delivered.push(o) }));
    assert.equal(r.kind, 'not-charged');
    assert.ok(clock.mono() - start < 10_000, 'the customer is told at the first doubted answer, not at the window');
    await clock.run(e.whenIdle(), BOUND_MS);
    assert.equal(journal.get(only())!.state, 'reversed');
    assert.equal(journal.get(only())!.flag, 'pay-time-doubt');
    assert.deepEqual(delivered, []);
  });

  /** An order left by an older release: unknown → reversing by closeOrder, or already in attention resuming it. */
  function seed(state: 'reversing' | 'attention'): string {
    const at = new Date(clock.wall()).toISOString();
    const o = journal.createOrder({
      deviceId: 'K01', date: formatOrderTime(clock.wall()).slice(0, 8), orderTime: formatOrderTime(clock.wall()), txnAmt: '150', orderType: 'unionpay', authCode: UNIONPAY, authMask: 'x',
      goodsId: 'G', goodsInfo: 'g', acqSpId: merchant.acqSpId, acqMerId: merchant.acqMerId, scannedAt: clock.wall(), scannedMono: clock.mono(), bootId: clock.bootId, at,
    });
    const steps: { from: OrderState; to: OrderState; event: { kind: 'answer' | 'window-over' | 'effort-spent'; cause: string }; patch?: object }[] = [
      { from: 'created', to: 'unknown', event: { kind: 'answer', cause: 'seed' } },
      { from: 'unknown', to: 'reversing', event: { kind: 'window-over', cause: 'seed' }, patch: { reversal: 'closeOrder' } },
    ];
    if (state === 'attention') steps.push({ from: 'reversing', to: 'attention', event: { kind: 'effort-spent', cause: 'seed' }, patch: { resumeState: 'reversing', reason: 'stuck' } });
    journal.transition(o.orderNo, steps, at);
    return o.orderNo;
  }

  for (const state of ['reversing', 'attention'] as const) {
    it(`found ${state} at start, close refused 35, the query paid with a payTime an hour "before" the order: refunded`, async () => {
      const orderNo = seed(state);
      const gw = refunds(new FakeGateway()).on('closeOrder', { kind: 'REFUSED', code: '35', reason: 'wrong state' }).on('queryOrder', () => paidAnswer(HOUR));
      const e = engine(gw);
      await e.start();
      await clock.run(e.whenIdle(), BOUND_MS);
      assert.equal(journal.get(orderNo)!.state, 'refunded');
    });
  }

  it('while the clock disagrees with the platform\'s (platformClockCheck): refused, nothing journaled, nothing sent', async () => {
    const gw = new FakeGateway().on('micropay', { kind: 'PAID', transactionId: 'T9' });
    const e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock, timing, clockCheck: () => null, platformClockCheck: () => 'fast by 1 h' });
    const r = await clock.run(e.pay({ authCode: UNIONPAY, amountFen: 150 }, { deliver: async (o) => void delivered.push(o) }));
    assert.deepEqual(r, { kind: 'refused', reason: 'platform-clock', detail: 'fast by 1 h' });
    assert.equal(gw.sent.length, 0);
    assert.equal(journal.list().length, 0);
  });

  it('an answer naming another amount is still not ours: no refund of someone else\'s order on it', async () => {
    const orderNo = seed('reversing');
    const gw = refunds(new FakeGateway()).on('closeOrder', { kind: 'REFUSED', code: '35', reason: 'wrong state' }).on('queryOrder', () => paidAnswer(0, { txnAmt: '1500' }));
    const e = engine(gw);
    await e.start();
    await clock.advance(BOUND_MS);
    assert.equal(journal.get(orderNo)!.state, 'attention');
    assert.equal(gw.count('refund'), 0);
    await e.stop(0);
  });
});
