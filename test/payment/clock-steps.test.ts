// Issue 10 §5: the wall clock steps (a Pi has no RTC; NTP or fake-hwclock step it by hours) while a payment
// is in progress. Every deadline is on the monotonic clock, so a step either way changes nothing but the
// wire's orderTime of later requests and the journal's timestamps.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { PaymentEngine, type CustomerResult, type Timing } from '../../src/payment/engine.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import { FakeGateway, UNIONPAY, WECHAT } from './fakes.js';
import { FakeClock } from '../fake-clock.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const HOUR = 3600_000;

describe('payment engine: the wall clock steps mid-payment', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let delivered: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clock-steps-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    delivered = [];
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const timing: Partial<Timing> = { customerWindowMs: 10_000, queryIntervalMs: 2_000, codeValidityMs: 8_000 };
  function engine(gw: FakeGateway, c: FakeClock = clock): PaymentEngine {
    return new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K-01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, clock: c, timing, random: () => 0.5, clockCheck: () => null });
  }
  const pay = (e: PaymentEngine, code = WECHAT): Promise<CustomerResult> => clock.run(e.pay({ authCode: code, amountFen: 150 }, { deliver: async (o) => void delivered.push(o) }));
  const only = (): string => journal.list()[0]!.orderNo;

  for (const step of [-HOUR, +HOUR]) {
    const way = step < 0 ? 'back' : 'forward';

    it(`stepped ${way} an hour while the code is pending: the window still ends 10 s after the scan, and the order is reversed`, async () => {
      const gw = new FakeGateway();
      gw.on('micropay', { kind: 'UNKNOWN', cause: '02 paying' });
      gw.on('queryOrder', (_f, n) => {
        if (n === 1) clock.stepWall(step);
        return { kind: 'PENDING', code: '02', reason: 'paying' };
      });
      gw.on('cancelOrder', { kind: 'DONE' });
      const e = engine(gw);
      const start = clock.mono();
      const r = await pay(e);
      assert.equal(r.kind, 'not-charged');
      assert.ok(clock.mono() - start <= 10_000, `customer released after ${clock.mono() - start} ms`);
      assert.equal(gw.count('queryOrder'), 4, 'queries every 2 s within the window, no more');
      await clock.run(e.whenIdle());
      assert.equal(journal.get(only())!.state, 'reversed');
      assert.deepEqual(delivered, []);
    });

    it(`stepped ${way} an hour before a paid query answer inside the window: the product is released`, async () => {
      const gw = new FakeGateway();
      gw.on('micropay', () => (clock.stepWall(step), { kind: 'UNKNOWN', cause: '02 paying' }));
      gw.on('queryOrder', (_f, n) => (n < 3 ? { kind: 'PENDING', code: '02', reason: 'paying' } : { kind: 'PAID', transactionId: 'T1' }));
      const r = await pay(engine(gw));
      assert.equal(r.kind, 'approved');
      assert.deepEqual(delivered, [only()]);
      assert.equal(journal.get(only())!.state, 'delivered');
    });

    it(`stepped ${way} an hour while a paid micropay answer is late: nothing released after the window, the money is given back`, async () => {
      const gw = new FakeGateway({ clock, ms: 12_000 });
      gw.on('micropay', () => (clock.stepWall(step), { kind: 'PAID', transactionId: 'T2' }));
      gw.on('closeOrder', { kind: 'REFUSED', code: '35', reason: 'paid' });
      gw.on('refund', { kind: 'ACCEPTED' });
      gw.on('refundQuery', { kind: 'REFUNDED' });
      const e = engine(gw);
      const r = await pay(e, UNIONPAY);
      assert.equal(r.kind, 'not-charged');
      assert.deepEqual(delivered, [], 'no product for a customer who has left');
      await clock.run(e.whenIdle());
      assert.equal(journal.get(only())!.state, 'refunded');
    });
  }

  it('the orderTime on the wire and the journal times follow the wall clock (only they do)', async () => {
    const gw = new FakeGateway();
    gw.on('micropay', { kind: 'PAID', transactionId: 'T3' });
    clock.stepWall(-2 * HOUR);
    await pay(engine(gw));
    assert.equal(gw.sent[0]!.fields.orderTime, formatOrderTime(clock.wall()));
    assert.equal(journal.get(only())!.createdAt, new Date(clock.wall()).toISOString());
  });

  describe("a restarted engine and the code's validity (close refused, the platform has no such order)", () => {
    function seed(bootId: string, scannedMonoAgo: number): string {
      const o = journal.createOrder({
        deviceId: 'K01', date: '20260601', orderTime: formatOrderTime(clock.wall()), txnAmt: '100', orderType: 'unionpay', authCode: UNIONPAY, authMask: 'x',
        goodsId: 'G', goodsInfo: 'g', acqSpId: merchant.acqSpId, acqMerId: merchant.acqMerId,
        // The wall clock says the scan was a day ago (it has been stepped since): never trusted for validity.
        scannedAt: clock.wall() - 24 * HOUR, scannedMono: clock.mono() - scannedMonoAgo, bootId, at: new Date(clock.wall()).toISOString(),
      });
      journal.transition(o.orderNo, [{ from: 'created', to: 'unknown', event: { kind: 'answer', cause: 'seed' } }], new Date(clock.wall()).toISOString());
      return o.orderNo;
    }
    const noSuchOrder = (): FakeGateway =>
      new FakeGateway()
        .on('closeOrder', { kind: 'REFUSED', code: '17', reason: 'no such order' })
        .on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such order' });

    /**
     * An order scanned 3 s before a restart on boot-A; the engine restarts on `boot`: how long until it is reversed.
     */
    async function reversedAfterRestartOn(boot: string): Promise<number> {
      clock = new FakeClock(undefined, boot);
      await clock.advance(60_000);
      const orderNo = seed('boot-A', 3_000);
      const e = engine(noSuchOrder());
      const t0 = clock.mono();
      await e.start();
      await clock.run(e.whenIdle());
      assert.equal(journal.get(orderNo)!.state, 'reversed');
      return clock.mono() - t0;
    }

    it('same boot: counted from the journaled scan on the monotonic clock', async () => {
      const waited = await reversedAfterRestartOn('boot-A');
      assert.ok(waited >= 5_000 && waited < 8_000, `waited ${waited} ms: until 8 s after the scan, not after the restart`);
    });

    it('another boot: counted from when this process found the order, whatever the wall clock says', async () => {
      const waited = await reversedAfterRestartOn('boot-B');
      assert.ok(waited >= 8_000, `waited ${waited} ms: the full validity from the restart`);
    });
  });
});
