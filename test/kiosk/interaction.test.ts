import assert from 'node:assert/strict';
import { Interaction, type Pricing, type PaymentRecord } from '../../src/kiosk/interaction.js';
import type { InteractionState } from '../../src/kiosk/interaction.js';
import { FakeApprove, FakeEngine, FakeIndicator, flush } from './fakes.js';
import { FakeClock } from '../fake-clock.js';

const WECHAT = '134567890123456789';
const timing = { entryTimeoutMs: 10_000, signalMs: 1_000, resultMs: 3_000, approvePulseMs: 250 };

function setup(pricing: Pricing) {
  const clock = new FakeClock();
  const indicator = new FakeIndicator();
  const approve = new FakeApprove();
  const engine = new FakeEngine();
  const kiosk = new Interaction({ pricing, engine, indicator, approve, clock, timing });
  const payments: PaymentRecord[] = [];
  kiosk.on('payment', (p: PaymentRecord) => payments.push(p));
  const keys = (s: string) => [...s].forEach((k) => kiosk.key(k));
  return { clock, indicator, approve, engine, kiosk, payments, keys };
}

// Read through a function so tsc does not narrow the state across calls that change it.
const st = (t: { kiosk: Interaction }): InteractionState => t.kiosk.state;

const amountOf = (s: InteractionState): number | undefined => (s.name === 'ready' ? s.choice.amountFen : undefined);

const fixed: Pricing = { mode: 'fixed', amountFen: 350, goodsId: 'G1', goodsInfo: 'cola' };
const menu: Pricing = { mode: 'menu', items: { '1': 150, '2': { amountFen: 300, goodsId: 'G2', goodsInfo: 'chips' }, '12': 1200 } };
const keyed: Pricing = { mode: 'keyed', maxAmountFen: 5000, minAmountFen: 100 };

describe('kiosk interaction', () => {
  describe('fixed price', () => {
    it('rests ready; a scan pays the fixed amount, pulses approve, shows success with the orderNo, then ready again', async () => {
      const t = setup(fixed);
      assert.equal(t.indicator.last, 'ready');
      t.kiosk.code(WECHAT);
      assert.equal(t.indicator.last, 'processing');
      assert.deepEqual(t.engine.last.req, { authCode: WECHAT, amountFen: 350, goodsId: 'G1', goodsInfo: 'cola' });
      await t.engine.approve('K42');
      await flush();
      assert.deepEqual(t.approve.pulses, [250]);
      assert.deepEqual(t.indicator.shown.at(-1), { pattern: 'success', orderNo: 'K42' });
      assert.equal(t.payments.length, 1);
      assert.equal(t.payments[0]!.code.includes(WECHAT), false, 'payment record holds the masked code only');
      t.clock.tick(2_999);
      assert.equal(t.indicator.last, 'success');
      t.clock.tick(1);
      assert.equal(t.indicator.last, 'ready');
    });

    for (const [kind, result, pattern] of [
      ['declined', { kind: 'declined', orderNo: 'K1', code: '15', reason: 'insufficient balance' }, 'failure'],
      // Unclear in time is not a failure the platform stated: its own pattern.
      ['not-charged', { kind: 'not-charged', orderNo: 'K1', reason: 'unclear: reversed' }, 'not-charged'],
    ] as const) {
      it(`${kind} → ${pattern} with the orderNo, no approve pulse`, async () => {
        const t = setup(fixed);
        t.kiosk.code(WECHAT);
        t.engine.last.resolve(result);
        await flush();
        assert.deepEqual(t.indicator.shown.at(-1), { pattern, orderNo: 'K1' });
        assert.deepEqual(t.approve.pulses, []);
        t.clock.tick(3_000);
        assert.equal(t.indicator.last, 'ready');
      });
    }

    const refusals = [
      ['bad-code', 'bad-code', 1_000],
      ['duplicate', 'bad-code', 1_000],
      ['busy', 'not-now', 1_000],
      ['stopping', 'not-now', 1_000],
      ['clock', 'clock-fault', 3_000],
      ['offline', 'offline', 3_000],
    ] as const;
    for (const [reason, pattern, ms] of refusals) {
      it(`engine refusal ${reason} → ${pattern} for ${ms} ms, then ready`, async () => {
        const t = setup(fixed);
        t.kiosk.code(WECHAT);
        t.engine.last.resolve({ kind: 'refused', reason, detail: 'x' });
        await flush();
        assert.equal(t.indicator.last, pattern);
        t.clock.tick(ms - 1);
        assert.equal(t.indicator.last, pattern);
        t.clock.tick(1);
        assert.equal(t.indicator.last, 'ready');
        assert.equal(st(t).name, 'ready');
      });
    }

    it('a scan during processing gets not-now and is not sent', async () => {
      const t = setup(fixed);
      t.kiosk.code(WECHAT);
      t.kiosk.code('280000000000000001');
      assert.equal(t.engine.calls.length, 1);
      assert.equal(t.indicator.last, 'not-now');
      t.clock.tick(1_000);
      assert.equal(t.indicator.last, 'processing');
      await t.engine.approve();
      await flush();
      assert.equal(t.indicator.last, 'success');
      // and while the result shows
      t.kiosk.code(WECHAT);
      assert.equal(t.engine.calls.length, 1);
      assert.equal(t.indicator.last, 'not-now');
    });

    it('a bad line from the scanner flashes bad-code and nothing is sent', () => {
      const t = setup(fixed);
      t.kiosk.bad('not all digits');
      assert.equal(t.indicator.last, 'bad-code');
      t.clock.tick(1_000);
      assert.equal(t.indicator.last, 'ready');
      assert.equal(t.engine.calls.length, 0);
    });

    it('a good scan during a bad-code flash ends the flash: processing at once, then the result for its full time', async () => {
      const t = setup(fixed);
      t.kiosk.bad('noise');
      t.clock.tick(500);
      t.kiosk.code(WECHAT);
      assert.equal(t.indicator.last, 'processing');
      await t.engine.approve('K7');
      await flush();
      assert.deepEqual(t.indicator.shown.at(-1), { pattern: 'success', orderNo: 'K7' });
      t.clock.tick(2_999);
      assert.equal(t.indicator.last, 'success');
      t.clock.tick(1);
      assert.equal(t.indicator.last, 'ready');
    });

    // The scanner hands over any digit string; which wallet (if any) it belongs to is decided here.
    for (const digits of ['99345', WECHAT.slice(0, 17), '62' + '0'.repeat(18), '1'.repeat(40)]) {
      it(`a digit string that is no payment code (${digits.length} digits) flashes bad-code and nothing is sent`, () => {
        const t = setup(fixed);
        t.kiosk.code(digits);
        assert.equal(t.indicator.last, 'bad-code');
        assert.equal(t.engine.calls.length, 0);
        t.clock.tick(1_000);
        assert.equal(t.indicator.last, 'ready');
        t.kiosk.code(WECHAT);
        assert.equal(t.engine.calls.length, 1, 'still ready for a real code');
      });
    }

    it('keys are ignored in fixed mode', () => {
      const t = setup(fixed);
      t.keys('12#*');
      assert.deepEqual(t.indicator.patterns(), ['ready']);
    });

    it('scanner unplugged → fault until it is back', () => {
      const t = setup(fixed);
      t.kiosk.scannerConnected(false);
      assert.equal(t.indicator.last, 'fault');
      t.kiosk.scannerConnected(false);
      assert.equal(t.indicator.shown.length, 2, 'no repeated show for the same state');
      t.kiosk.scannerConnected(true);
      assert.equal(t.indicator.last, 'ready');
    });

    it('link offline → offline while resting, processing still shows processing', async () => {
      const t = setup(fixed);
      t.kiosk.linkOnline(false);
      assert.equal(t.indicator.last, 'offline');
      t.kiosk.code(WECHAT);
      assert.equal(t.indicator.last, 'processing');
      await t.engine.approve();
      await flush();
      t.clock.tick(3_000);
      assert.equal(t.indicator.last, 'offline');
      t.kiosk.linkOnline(true);
      assert.equal(t.indicator.last, 'ready');
    });

    it('an engine that throws shows fault, never success or failure', async () => {
      const t = setup(fixed);
      t.kiosk.code(WECHAT);
      t.engine.last.reject(new Error('boom'));
      await flush();
      assert.equal(t.indicator.last, 'fault');
      assert.equal(t.payments[0]!.result.kind, 'error');
      t.clock.tick(3_000);
      assert.equal(t.indicator.last, 'ready');
    });

    it('a throwing payment listener is logged, not an unhandled rejection; the kiosk takes the next scan', async () => {
      const t = setup(fixed);
      const unhandled: unknown[] = [];
      const onUnhandled = (r: unknown) => unhandled.push(r);
      process.on('unhandledRejection', onUnhandled);
      try {
        t.kiosk.once('payment', () => {
          throw new Error('listener broke');
        });
        t.kiosk.code(WECHAT);
        await t.engine.approve();
        await t.kiosk.settled();
        await new Promise((r) => setImmediate(r)); // unhandledRejection is reported after the microtasks
        assert.deepEqual(unhandled, []);
        t.clock.tick(3_000); // the success pattern's time is over
        t.kiosk.code(WECHAT);
        assert.equal(t.engine.calls.length, 2);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('after stop(), scans and keys are ignored and an in-flight payment still completes', async () => {
      const t = setup(fixed);
      t.kiosk.code(WECHAT);
      t.kiosk.stop();
      const n = t.indicator.shown.length;
      t.kiosk.code(WECHAT);
      t.kiosk.bad('x');
      assert.equal(t.engine.calls.length, 1);
      let settled = false;
      void t.kiosk.settled().then(() => (settled = true));
      await t.engine.approve();
      await flush();
      assert.equal(settled, true);
      assert.deepEqual(t.approve.pulses, [250], 'the product is still released for a paid order');
      assert.equal(t.indicator.shown.length, n);
      assert.equal(t.clock.pending, 0);
    });
  });

  describe('menu', () => {
    it('rests idle; a scan with no item chosen gets not-now and is not sent', () => {
      const t = setup(menu);
      assert.equal(t.indicator.last, 'idle');
      t.kiosk.code(WECHAT);
      assert.equal(t.indicator.last, 'not-now');
      assert.equal(t.engine.calls.length, 0);
      t.clock.tick(1_000);
      assert.equal(t.indicator.last, 'idle');
    });

    it('item number + # → ready at the item price with its goods fields; success → idle', async () => {
      const t = setup(menu);
      t.keys('2#');
      assert.equal(t.indicator.last, 'ready');
      t.kiosk.code(WECHAT);
      assert.deepEqual(t.engine.last.req, { authCode: WECHAT, amountFen: 300, goodsId: 'G2', goodsInfo: 'chips' });
      await t.engine.approve();
      await flush();
      t.clock.tick(3_000);
      assert.equal(st(t).name, 'idle');
      assert.equal(t.indicator.last, 'idle');
    });

    it('two-digit items; a plain number price', () => {
      const t = setup(menu);
      t.keys('12#');
      assert.deepEqual(st(t), { name: 'ready', choice: { amountFen: 1200, item: '12', goodsId: undefined, goodsInfo: undefined } });
    });

    it('an unknown item → not-now and the entry is cleared', () => {
      const t = setup(menu);
      t.keys('9#');
      assert.equal(t.indicator.last, 'not-now');
      assert.deepEqual(st(t), { name: 'entering', digits: '' });
      t.keys('1#');
      assert.equal(st(t).name, 'ready');
    });

    it('more digits than any item number → the key is refused', () => {
      const t = setup(menu);
      t.keys('123');
      assert.deepEqual(st(t), { name: 'entering', digits: '12' });
      assert.equal(t.indicator.last, 'not-now');
    });

    it('* cancels while typing and while ready; # with nothing typed → not-now', () => {
      const t = setup(menu);
      t.keys('1*');
      assert.equal(st(t).name, 'idle');
      t.keys('1#*');
      assert.equal(st(t).name, 'idle');
      t.keys('#');
      assert.equal(t.indicator.last, 'not-now');
    });

    it('entry times out back to idle, both while typing and while ready; each key restarts the timer', () => {
      const t = setup(menu);
      t.keys('1');
      t.clock.tick(9_999);
      t.keys('#');
      t.clock.tick(9_999);
      assert.equal(st(t).name, 'ready');
      t.clock.tick(1);
      assert.equal(st(t).name, 'idle');
      assert.equal(t.indicator.last, 'idle');
      t.keys('2');
      t.clock.tick(10_000);
      assert.equal(st(t).name, 'idle');
    });

    it('no entry timeout while processing; after a failure the choice is kept for another code', async () => {
      const t = setup(menu);
      t.keys('1#');
      t.kiosk.code(WECHAT);
      t.clock.tick(60_000);
      assert.equal(st(t).name, 'processing');
      t.engine.last.resolve({ kind: 'declined', orderNo: 'K9', code: '15', reason: 'balance' });
      await flush();
      t.clock.tick(3_000);
      assert.equal(st(t).name, 'ready');
      t.kiosk.code('280000000000000001');
      assert.equal(t.engine.calls.length, 2);
      assert.equal(t.engine.last.req.amountFen, 150);
    });

    it('a digit while ready starts a new choice', () => {
      const t = setup(menu);
      t.keys('1#2#');
      assert.equal(amountOf(st(t)), 300);
    });
  });

  describe('keyed amount (in fen)', () => {
    it('typed fen + # → ready at that amount', () => {
      const t = setup(keyed);
      t.keys('350#');
      t.kiosk.code(WECHAT);
      assert.equal(t.engine.last.req.amountFen, 350);
    });

    it('leading zeros are dropped', () => {
      const t = setup(keyed);
      t.keys('00150');
      assert.deepEqual(st(t), { name: 'entering', digits: '150' });
    });

    it('a key that would pass the maximum is refused', () => {
      const t = setup(keyed);
      t.keys('5001');
      assert.deepEqual(st(t), { name: 'entering', digits: '500' });
      assert.equal(t.indicator.last, 'not-now');
      t.keys('0#');
      assert.equal(amountOf(st(t)), 5000);
    });

    it('below the minimum, or nothing typed, # → not-now and stays entering', () => {
      const t = setup(keyed);
      t.keys('99#');
      assert.equal(t.indicator.last, 'not-now');
      assert.deepEqual(st(t), { name: 'entering', digits: '' });
    });

    it('first * clears, second * cancels', () => {
      const t = setup(keyed);
      t.keys('12*');
      assert.deepEqual(st(t), { name: 'entering', digits: '' });
      t.keys('*');
      assert.deepEqual(st(t), { name: 'idle' });
    });

    it('keys during processing are ignored', () => {
      const t = setup(keyed);
      t.keys('200#');
      t.kiosk.code(WECHAT);
      t.keys('9*#');
      assert.equal(st(t).name, 'processing');
    });
  });

  describe('held for a service task (remote scanner setup)', () => {
    it('fixed price at rest: held → scans refused with not-now, nothing sent, lamps idle; released → pays again', async () => {
      const t = setup(fixed);
      const h = t.kiosk.hold();
      assert.ok('release' in h, JSON.stringify(h));
      assert.equal(t.kiosk.held, true);
      assert.equal(t.indicator.last, 'idle');
      t.kiosk.code(WECHAT);
      assert.equal(t.engine.calls.length, 0, 'nothing sent while held');
      assert.equal(t.indicator.last, 'not-now');
      assert.deepEqual(t.kiosk.hold(), { busy: 'the kiosk is already held for a service task' });
      h.release();
      h.release(); // twice is harmless
      assert.equal(t.kiosk.held, false);
      t.clock.tick(timing.signalMs);
      assert.equal(t.indicator.last, 'ready');
      t.kiosk.code(WECHAT);
      assert.equal(t.engine.calls.length, 1);
      await t.engine.approve();
      await flush();
    });

    it('refused while a customer pays, reads a result, or has typed/chosen an amount', async () => {
      const f = setup(fixed);
      f.kiosk.code(WECHAT);
      assert.deepEqual(f.kiosk.hold(), { busy: 'a customer is paying' });
      await f.engine.approve();
      await flush();
      assert.equal(st(f).name, 'result');
      assert.deepEqual(f.kiosk.hold(), { busy: "a customer is reading a payment's result" });
      const m = setup(menu);
      m.keys('1');
      assert.deepEqual(m.kiosk.hold(), { busy: 'a customer is choosing an amount' });
      m.keys('#');
      assert.deepEqual(m.kiosk.hold(), { busy: 'a customer is choosing an amount' });
      m.keys('*');
      const h = m.kiosk.hold();
      assert.ok('release' in h);
      m.keys('1#');
      assert.deepEqual(st(m), { name: 'idle' }, 'keys refused while held');
      assert.equal(m.indicator.last, 'not-now');
      h.release();
    });
  });
});
