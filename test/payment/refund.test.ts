// Refunds in the background (src/payment/background.ts refundStep, core.ts startRefund/refundAboutOurs), on a fake
// clock and gateway: exactly what is sent (the paid amount, the original order, the serial and its time), what is
// journaled, and which answers end the order: the customer's money comes back once, never on a wrong word.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { PaymentEngine, type Timing } from '../../src/payment/engine.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import { FakeClock } from '../fake-clock.js';
import { FakeGateway, seedOrder, UNIONPAY, type Seed } from './fakes.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const refused = (code: string) => ({ kind: 'REFUSED', code, reason: `refused ${code}` }) as const;
const notPaid = (state: 'failed' | 'closed' | 'refunded' | 'no-such-order') => ({ kind: 'NOT_PAID', state, code: state === 'no-such-order' ? '17' : '01', reason: state }) as const;

describe('refunds: what is sent, what is journaled, what ends them (fake clock, fake gateway)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let e: PaymentEngine | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'refund-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    gw = new FakeGateway();
    e = undefined;
  });
  afterEach(async () => {
    await e?.stop(0);
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A UnionPay order paid for 12.34 (refunded, never cancelled), found by start() in `state`. */
  const seed = (state: 'paid' | 'refunding' | 'delivering', o: Seed = {}): string => seedOrder(journal, clock, state, { code: UNIONPAY, orderType: 'unionpay', txnAmt: '1234', ...o });
  /** Starts the engine and lets it work: until idle, or for `ms` of fake time. */
  async function recover(timing: Partial<Timing> = {}, ms?: number): Promise<void> {
    e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K1', goods: { goodsId: 'G', goodsInfo: 'g' }, clock, timing, random: () => 0.5, clockCheck: () => null });
    await e.start();
    if (ms === undefined) await clock.run(e.whenIdle());
    else await clock.advance(ms);
  }
  const sent = (call: 'refund' | 'refundQuery' | 'queryOrder'): Array<Record<string, string>> => gw.sent.filter((s) => s.call === call).map((s) => s.fields);
  const notes = (no: string): string[] => journal.events(no).filter((ev) => ev.from === ev.to).map((ev) => `${ev.kind}:${ev.cause}`);

  it('asks back exactly the paid amount of the original order, under serial R1 with its own time; the journal keeps them', async () => {
    const no = seed('paid');
    const paidAt = formatOrderTime(clock.wall());
    await clock.advance(90_000);
    const refundTime = formatOrderTime(clock.wall());
    assert.notEqual(refundTime, paidAt);
    gw.on('refund', { kind: 'ACCEPTED' }).on('refundQuery', { kind: 'REFUNDED' });
    await recover();
    assert.deepEqual(sent('refund'), [{ orderTime: refundTime, origOrderNo: no, origTxnAmt: '1234', orderNo: `${no}R1`, txnAmt: '1234' }]);
    assert.deepEqual(sent('refundQuery'), [{ orderNo: `${no}R1` }]);
    const o = journal.get(no)!;
    assert.deepEqual([o.state, o.refundNo, o.refundAmt, o.refundTime, o.refundAccepted, o.reason], ['refunded', `${no}R1`, '1234', refundTime, true, 'refunded']);
    const move = journal.events(no).find((ev) => ev.to === 'refunding')!;
    assert.deepEqual([move.from, move.kind, move.cause], ['paid', 'recovery', 'paid after the customer left']);
    assert.deepEqual(notes(no), ['answer:refund: ACCEPTED']);
    const last = journal.events(no).at(-1)!;
    assert.deepEqual([last.from, last.to, last.kind, last.cause, last.call], ['refunding', 'refunded', 'answer', 'refundQuery: REFUNDED', 'refundQuery']);
  });

  it('a refund the platform already has under this serial (12) counts as taken: never sent twice', async () => {
    const no = seed('refunding');
    gw.on('refund', refused('12')).on('refundQuery', (_f, n) => (n < 3 ? { kind: 'PENDING', code: '03', reason: 'in progress' } : { kind: 'REFUNDED' }));
    await recover();
    assert.equal(gw.count('refund'), 1);
    assert.equal(gw.count('refundQuery'), 3);
    assert.equal(gw.count('queryOrder'), 0);
    assert.equal(journal.get(no)!.state, 'refunded');
  });

  for (const [state, final] of [['closed', 'reversed'], ['refunded', 'refunded']] as const) {
    it(`refund refused and the order query says ${state}: ${final} (no money held), in the platform's words`, async () => {
      const no = seed('refunding');
      gw.on('refund', refused('35')).on('queryOrder', notPaid(state));
      await recover();
      const o = journal.get(no)!;
      assert.deepEqual([o.state, o.reason], [final, `platform: ${state} (01 ${state})`]);
      assert.deepEqual(sent('queryOrder').map((f) => f.orderNo), [no]);
      assert.deepEqual(notes(no), ['answer:refund: REFUSED']);
    });
  }

  for (const [what, answer] of [['paid', { kind: 'PAID' }], ['failed', notPaid('failed')], ['no such order', notPaid('no-such-order')]] as const) {
    it(`refund refused while the query says ${what} for an order paid with a 00: not final on that word; sent again, then attention`, async () => {
      const no = seed('refunding');
      gw.on('refund', refused('35')).on('queryOrder', answer);
      await recover({ effortAttempts: 2, backoffBaseMs: 1_000 }, 10_000);
      const o = journal.get(no)!;
      assert.equal(o.state, 'attention');
      assert.equal(o.resumeState, 'refunding');
      assert.ok(gw.count('refund') >= 2, 'the refund is asked again');
      const said = answer.kind === 'PAID' ? '' : `; query: ${answer.state} (${answer.code}) for a paid order`;
      assert.equal(o.reason, `not finished after 2 attempts: refund refused 35 refused 35${said}`);
    });
  }

  it('refund unclear, the refund query says refunded: refunded without sending the refund again', async () => {
    const no = seed('refunding');
    gw.on('refund', { kind: 'UNKNOWN', cause: 'timeout' }).on('refundQuery', { kind: 'REFUNDED' });
    await recover();
    assert.equal(gw.count('refund'), 1);
    const o = journal.get(no)!;
    assert.deepEqual([o.state, o.reason], ['refunded', 'refunded']);
  });

  it('refund unclear, the refund query says in progress: taken; only asked after until refunded', async () => {
    const no = seed('refunding');
    gw.on('refund', { kind: 'UNKNOWN', cause: 'timeout' }).on('refundQuery', (_f, n) => (n < 3 ? { kind: 'PENDING', code: '03', reason: 'in progress' } : { kind: 'REFUNDED' }));
    await recover();
    assert.equal(gw.count('refund'), 1);
    assert.equal(gw.count('refundQuery'), 3);
    assert.equal(journal.get(no)!.state, 'refunded');
    assert.ok(notes(no).includes('answer:refundQuery: PENDING'));
  });

  it('a refund the platform says failed is asked again under a new serial (R2, then R3), with a new time, for the same amount', async () => {
    const no = seed('refunding');
    gw.on('refund', (_f, n) => (n === 1 ? { kind: 'UNKNOWN', cause: 'timeout' } : { kind: 'ACCEPTED' }))
      .on('refundQuery', (f) => (f.orderNo!.endsWith('R3') ? { kind: 'REFUNDED' } : { kind: 'FAILED', code: '01', reason: 'refund failed' }));
    await recover({ backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    const refunds = sent('refund');
    assert.deepEqual(refunds.map((f) => [f.orderNo, f.txnAmt, f.origTxnAmt, f.origOrderNo]), [1, 2, 3].map((n) => [`${no}R${n}`, '1234', '1234', no]));
    const o = journal.get(no)!;
    assert.deepEqual([o.state, o.refundNo, o.refundTime], ['refunded', `${no}R3`, refunds[2]!.orderTime]);
    assert.notEqual(refunds[2]!.orderTime, refunds[0]!.orderTime, 'a new serial has its own time');
    assert.ok(notes(no).includes('answer:refund failed: new refund serial'));
  });

  it('refund and refund query both unclear: retried, then attention saying so', async () => {
    const no = seed('refunding');
    gw.on('refund', { kind: 'UNKNOWN', cause: 'timeout' }).on('refundQuery', { kind: 'UNKNOWN', cause: 'HTTP 502' });
    await recover({ effortAttempts: 3 }, 60_000);
    const o = journal.get(no)!;
    assert.deepEqual([o.state, o.reason], ['attention', 'not finished after 3 attempts: refund: timeout']);
    assert.ok(gw.count('refund') >= 3);
  });

  it('a refund query still in progress: attention says "refund in progress"; an unclear one says what was unclear', async () => {
    const a = seed('refunding', { patch: { refundAccepted: true } });
    const b = seed('refunding', { code: '6212345678901234568', patch: { refundAccepted: true } });
    gw.on('refundQuery', (f) => (f.orderNo!.startsWith(a) ? { kind: 'PENDING', code: '03', reason: 'in progress' } : { kind: 'UNKNOWN', cause: 'HTTP 502' }));
    await recover({ effortAttempts: 2 }, 60_000);
    assert.equal(journal.get(a)!.reason, 'not finished after 2 attempts: refund in progress');
    assert.equal(journal.get(b)!.reason, 'not finished after 2 attempts: refundQuery: HTTP 502');
    assert.equal(gw.count('refund'), 0, 'a refund taken is never sent again');
  });

  it('a refund query answer is ours when its fields fit: empty fields say nothing, an amount sent as a number counts', async () => {
    const no = seed('refunding', { patch: { refundAccepted: true } });
    gw.on('refundQuery', { outcome: { kind: 'REFUNDED' }, delivery: 'answered', answer: { orderNo: '', origOrderNo: '', txnAmt: 1234 as unknown as string } });
    await recover();
    assert.equal(journal.get(no)!.state, 'refunded');
  });

  it('a refund query answer for another amount or serial is not ours: attention says which', async () => {
    const a = seed('refunding', { patch: { refundAccepted: true } });
    const b = seed('refunding', { code: '6212345678901234568', patch: { refundAccepted: true } });
    const c = seed('refunding', { code: '6212345678901234569', patch: { refundAccepted: true } });
    const d = seed('refunding', { code: '6212345678901234560', patch: { refundAccepted: true } });
    const answers: Record<string, Record<string, string>> = { [a]: { txnAmt: '1000' }, [b]: { orderNo: `${b}R7`, origOrderNo: b }, [c]: { origOrderNo: b }, [d]: { txnAmt: 1000 as unknown as string } };
    gw.on('refundQuery', (f) => ({ outcome: { kind: 'REFUNDED' }, delivery: 'answered', answer: answers[f.orderNo!.replace(/R\d+$/, '')] }));
    await recover({ effortAttempts: 1 }, 10_000);
    assert.equal(journal.get(a)!.reason, 'not finished after 1 attempts: refundQuery: not about this refund: answer says refund txnAmt 1000, ours is 1234');
    assert.equal(journal.get(b)!.reason, `not finished after 1 attempts: refundQuery: not about this refund: answer is about refund ${b}R7, not ${b}R1`);
    assert.equal(journal.get(c)!.reason, `not finished after 1 attempts: refundQuery: not about this refund: answer is about a refund of ${b}, not ${c}`);
    assert.equal(journal.get(d)!.reason, 'not finished after 1 attempts: refundQuery: not about this refund: answer says refund txnAmt 1000, ours is 1234', 'an amount sent as a number is read');
  });
});
