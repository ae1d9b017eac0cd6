// Reversals and recovery in the background (src/payment/background.ts drive/step/reverseStep), on a fake clock and
// gateway: which call reverses an order and what it names, what each answer leads to and how it is journaled (the
// reasons an operator reads in `kiosk orders`), the pace of retries and the bounded effort before `attention`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal, type OrderState } from '../../src/journal/journal.js';
import { PaymentEngine, type Timing } from '../../src/payment/engine.js';
import { FakeClock } from '../fake-clock.js';
import { FakeGateway, logCapture, seedOrder, UNIONPAY, type Seed } from './fakes.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const refused = { kind: 'REFUSED', code: '35', reason: 'wrong state' } as const;
const noSuchOrder = { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such order' } as const;
const unclear = { kind: 'UNKNOWN', cause: 'timeout' } as const;
const union = { code: UNIONPAY, orderType: 'unionpay' };

describe('reversals and recovery: what is sent, journaled and when (fake clock, fake gateway)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let e: PaymentEngine | undefined;
  let cap: ReturnType<typeof logCapture>;
  let attention: Array<{ orderNo: string; reason: string }>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reversal-'));
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
  async function recover(timing: Partial<Timing> = {}, ms?: number): Promise<void> {
    e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K1', goods: { goodsId: 'G', goodsInfo: 'g' }, clock, timing, random: () => 0.5, clockCheck: () => null, log: cap.log });
    e.on('attention', (a: { orderNo: string; reason: string }) => attention.push(a));
    await e.start();
    if (ms === undefined) await clock.run(e.whenIdle());
    else await clock.advance(ms);
  }
  const calls = (): string[] => gw.sent.map((s) => `${s.call} ${s.fields.orderNo}`);
  const step = (no: string, to: OrderState) => {
    const ev = journal.events(no).find((x) => x.to === to && x.from !== to)!;
    return { kind: ev.kind, cause: ev.cause, detail: ev.detail };
  };

  it('WeChat the same day is cancelled, UnionPay closed: the call names only the order; the reason says which', async () => {
    const w = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    const u = seed('reversing', { ...union, code: '6212345678901234568', patch: { reversal: 'closeOrder' } });
    gw.on('cancelOrder', { kind: 'DONE' }).on('closeOrder', { kind: 'DONE' });
    await recover();
    assert.deepEqual(gw.sent.map((s) => [s.call, s.fields]).sort(), [['cancelOrder', { orderNo: w }], ['closeOrder', { orderNo: u }]]);
    assert.equal(journal.get(w)!.reason, 'cancelled (reversed) at the platform');
    assert.equal(journal.get(u)!.reason, 'closed at the platform: can no longer be paid');
    assert.deepEqual(step(w, 'reversed'), { kind: 'answer', cause: 'cancelOrder: DONE', detail: null });
  });

  it('recovery journals why each interrupted order is reversed, refunded or failed', async () => {
    const created = seed('created', union);
    const unsent = seed('created', { ...union, code: '6212345678901234568', patch: { notSent: 1 } });
    const unknown = seed('unknown', { ...union, code: '6212345678901234569' });
    const paid = seed('paid', { ...union, code: '6212345678901234560' });
    gw.on('closeOrder', unclear).on('refund', unclear).on('refundQuery', unclear);
    await recover({}, 0);
    assert.deepEqual(step(created, 'reversing'), { kind: 'recovery', cause: 'recovery', detail: 'micropay may have been sent; the customer is gone' });
    assert.equal(journal.get(created)!.reversal, 'closeOrder');
    assert.deepEqual(step(unsent, 'failed-not-sent'), { kind: 'recovery', cause: 'recovery', detail: 'every send provably never left' });
    assert.equal(journal.get(unsent)!.reason, 'not sent: gateway unreachable; found at recovery');
    assert.deepEqual(step(unknown, 'reversing'), { kind: 'recovery', cause: 'recovery', detail: 'no verdict; the customer is gone' });
    assert.equal(journal.get(unknown)!.reason, 'no verdict before the customer left');
    assert.deepEqual(step(paid, 'refunding'), { kind: 'recovery', cause: 'paid after the customer left', detail: null });
    assert.ok(!calls().includes(`closeOrder ${unsent}`), 'a provably unsent order is never reversed');
    // Reasons are kept while the reversal is retried (the row's reason changes only with the next transition).
    assert.equal(journal.get(created)!.reason, 'interrupted before the answer was recorded');
    assert.equal(journal.get(paid)!.reason, 'paid, product never released');
  });

  it('an order interrupted while releasing (no drop journaled) is refunded, flagged, logged and announced', async () => {
    const no = seed('delivering', union);
    gw.on('refund', { kind: 'ACCEPTED' }).on('refundQuery', { kind: 'REFUNDED' });
    await recover();
    const reason = 'interrupted while releasing the product: refunded; the product may have been released';
    assert.deepEqual(step(no, 'refunding'), { kind: 'recovery', cause: 'recovery: delivery uncertain', detail: null });
    assert.equal(journal.get(no)!.flag, 'delivery-uncertain');
    assert.deepEqual(attention, [{ orderNo: no, reason }]);
    assert.ok(cap.lines.some((l) => l.event === 'delivery-uncertain' && l.orderNo === no && l.msg === reason && l.level === 50));
  });

  it('cancel refused and the order paid after all: refunded with the transactionId the query gave, never cancelled again', async () => {
    const no = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    gw.on('cancelOrder', refused).on('queryOrder', { kind: 'PAID', transactionId: 'TQ7' }).on('refund', { kind: 'ACCEPTED' }).on('refundQuery', { kind: 'REFUNDED' });
    await recover();
    assert.deepEqual(calls(), [`cancelOrder ${no}`, `queryOrder ${no}`, `refund ${no}R1`, `refundQuery ${no}R1`]);
    const o = journal.get(no)!;
    assert.deepEqual([o.state, o.transactionId, o.refundAmt], ['refunded', 'TQ7', '100']);
    assert.deepEqual(step(no, 'refunding'), { kind: 'answer', cause: 'cancelOrder refused (35), order paid', detail: null });
  });

  it('cancel refused and the platform has no such order: closed instead', async () => {
    const no = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    gw.on('cancelOrder', refused).on('queryOrder', noSuchOrder).on('closeOrder', { kind: 'DONE' });
    await recover();
    assert.deepEqual(calls(), [`cancelOrder ${no}`, `queryOrder ${no}`, `closeOrder ${no}`]);
    assert.equal(journal.get(no)!.state, 'reversed');
    assert.ok(journal.events(no).some((ev) => ev.cause === 'no such order: close it instead' && ev.to === 'reversing'));
  });

  it('cancel refused while the customer is still paying: closed instead', async () => {
    const no = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    gw.on('cancelOrder', refused).on('queryOrder', { kind: 'PENDING', code: '02', reason: 'paying' }).on('closeOrder', { kind: 'DONE' });
    await recover();
    assert.deepEqual(calls(), [`cancelOrder ${no}`, `queryOrder ${no}`, `closeOrder ${no}`]);
    assert.equal(journal.get(no)!.state, 'reversed');
    assert.ok(journal.events(no).some((ev) => ev.cause === 'cancel refused (35) while paying: close instead'));
  });

  it('close refused and no such order: reversed only once the code can no longer be used', async () => {
    const no = seed('reversing', { ...union, agoMs: 5_000, patch: { reversal: 'closeOrder' } });
    gw.on('closeOrder', refused).on('queryOrder', noSuchOrder);
    await recover({ codeValidityMs: 45_000, backoffBaseMs: 1_000, backoffMaxMs: 1_000, effortAttempts: 100 }, 30_000);
    assert.equal(journal.get(no)!.state, 'reversing', 'the code may still be used: a late request could charge');
    await clock.advance(15_000);
    const o = journal.get(no)!;
    assert.equal(o.state, 'reversed');
    assert.equal(o.reason, "platform has no such order (17) and the code's validity is over: not charged");
    assert.equal(step(no, 'reversed').kind, 'code-expired');
  });

  it('bounded effort: retried with backoff, then attention (journaled, logged, announced) with the state to resume, retried at the attention pace', async () => {
    const no = seed('reversing', { ...union, patch: { reversal: 'closeOrder' } });
    const at: number[] = [];
    // An unclear close is followed by a query (everything unclear is queried), unclear too: the step waits.
    gw.on('closeOrder', () => (at.push(clock.mono()), unclear)).on('queryOrder', unclear);
    await recover({ effortAttempts: 3, backoffBaseMs: 1_000, backoffMaxMs: 60_000, attentionRetryMs: 300_000 }, 700_000);
    // Backoff 1 s, 2 s; the third step puts it in attention: from then on every 300 s (the first retry too), each
    // from the end of the step before: the close and, one pacing gap (50 ms) later, its query.
    assert.deepEqual(at, [0, 1_050, 3_100, 303_150, 603_200]);
    const o = journal.get(no)!;
    const reason = 'not finished after 3 attempts: closeOrder unclear (timeout); query: UNKNOWN';
    assert.deepEqual([o.state, o.resumeState, o.reason], ['attention', 'reversing', reason]);
    assert.deepEqual(step(no, 'attention'), { kind: 'effort-spent', cause: 'bounded effort spent', detail: 'closeOrder unclear (timeout); query: UNKNOWN' });
    assert.deepEqual(attention, [{ orderNo: no, reason }]);
    const line = cap.lines.find((l) => l.event === 'attention')!;
    assert.deepEqual([line.orderNo, line.state, line.reason, line.msg], [no, 'reversing', reason, `order ${no} needs attention: ${reason}`]);
    gw.on('closeOrder', { kind: 'DONE' });
    await clock.advance(300_000);
    assert.equal(journal.get(no)!.state, 'reversed');
  });

  it('a step that moves the order starts the effort again', async () => {
    const no = seed('reversing', { patch: { reversal: 'cancelOrder' } });
    let n = 0;
    // cancel unclear twice, then refused with no such order (moved: close instead), then close unclear.
    let q = 0;
    // Each reversal is followed by a query: unclear for the two unclear cancels (the step waits), no such order after
    // the refused one (moved: close instead), unclear again after the close.
    gw.on('cancelOrder', () => (++n <= 2 ? unclear : refused)).on('queryOrder', () => (++q === 3 ? noSuchOrder : unclear)).on('closeOrder', unclear);
    await recover({ effortAttempts: 3, backoffBaseMs: 1_000, backoffMaxMs: 60_000 }, 3_500);
    assert.deepEqual(calls().map((c) => c.split(' ')[0]), ['cancelOrder', 'queryOrder', 'cancelOrder', 'queryOrder', 'cancelOrder', 'queryOrder', 'closeOrder', 'queryOrder']);
    assert.equal(journal.get(no)!.state, 'reversing', 'three failures, but not in a row');
    await clock.advance(10_000);
    assert.equal(journal.get(no)!.state, 'attention');
    assert.equal(journal.get(no)!.reason, 'not finished after 3 attempts: closeOrder unclear (timeout); query: UNKNOWN');
  });

  it('a drive that fails (a journal error) is logged and announced; the order stays for the next start', async () => {
    const no = seed('reversing', { ...union, patch: { reversal: 'closeOrder' } });
    gw.on('closeOrder', (f) => {
      journal.transition(f.orderNo!, [{ from: 'reversing', to: 'reversed', event: { kind: 'answer', cause: 'someone else' } }], new Date(clock.wall()).toISOString());
      return { kind: 'DONE' };
    });
    await recover();
    assert.equal(attention.length, 1);
    assert.match(attention[0]!.reason, /^internal error: .+/);
    const line = cap.lines.find((l) => l.event === 'drive-error')!;
    assert.equal(line.orderNo, no);
    assert.match(String(line.msg), new RegExp(`^background work on ${no} failed: .+`));
  });
});
