// compareSettlement (src/payment/settle-compare.ts) alone: the platform's rows against journal orders, no file,
// no network. Each finding kind, the amounts in both directions (more and less there than here, for payments,
// reversals and refunds) and the totals, each checked exactly: the mutation run showed amount slips surviving.
import assert from 'node:assert/strict';
import type { PublicOrder } from '../../src/journal/journal.js';
import type { OrderState } from '../../src/journal/states.js';
import { compareSettlement, isOurOrderNo, localDay, type CompareInput, type Finding } from '../../src/payment/settle-compare.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import type { SettlementRow, SettlementState } from '../../src/umpay/settlement.js';

const DEVICE = 'K1';
const MER = '41509208';
const DAY = '20261201';
const no = (seq: number, run = ''): string => `${DEVICE}${DAY}${String(seq).padStart(6, '0')}${run}`;

let line = 0;
function row(orderNo: string, state: SettlementState, amountFen: number, extra: Partial<SettlementRow> = {}): SettlementRow {
  const refund = state === 'REFUND';
  return {
    line: ++line, orderNo, payTime: `${DAY}093015`, merchantId: MER, transactionId: `T-${orderNo}`, state,
    orderAmountFen: refund ? 0 : amountFen, refundAmountFen: refund ? amountFen : 0, orderType: 'wechat', fields: {}, ...extra,
  };
}

function order(orderNo: string, state: OrderState, txnAmt: number, extra: Partial<PublicOrder> = {}): PublicOrder {
  return {
    orderNo, seq: 1, state, final: ['delivered', 'refunded', 'reversed', 'failed', 'failed-not-sent'].includes(state), orderTime: `${DAY}093000`,
    txnAmt: String(txnAmt), orderType: 'wechat', authMask: 'wechat…6789', goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: MER,
    transactionId: null, sendAttempts: 1, notSent: 0, respCode: null, respMsg: null, reversal: null, refundNo: null, refundTime: null, refundAmt: null,
    refundAccepted: false, resumeState: null, reason: null, flag: null, stlDate: null, scannedAt: 0, scannedMono: null, bootId: null, productId: null, vendPrice: null,
    createdAt: `2026-12-01T09:30:00.000Z`, updatedAt: `2026-12-01T09:31:00.000Z`, ...extra,
  };
}

function compare(rows: SettlementRow[], orders: PublicOrder[], over: Partial<CompareInput> = {}) {
  const byNo = new Map(orders.map((o) => [o.orderNo, o]));
  return compareSettlement({ rows, lookup: (n) => byNo.get(n), ordersOnDays: orders, days: new Set([DAY]), deviceId: DEVICE, acqMerId: MER, dayOf: (iso) => iso.slice(0, 10).replaceAll('-', ''), ...over });
}
const strip = (f: Finding): Omit<Finding, 'line'> => {
  const { line: _l, ...rest } = f;
  return rest;
};

describe('payment/settle-compare: the platform rows against the journal', () => {
  it('a payment matched in amount and delivered is matched, and its money counted on both sides', () => {
    const c = compare([row(no(1), 'SUCCESS', 150)], [order(no(1), 'delivered', 150)]);
    assert.deepEqual(c.findings.map(strip), [{ kind: 'matched', orderNo: no(1), hereState: 'delivered', hereAmountFen: 150, thereState: 'SUCCESS', thereAmountFen: 150 }]);
    assert.deepEqual(c.totals, { paidThereFen: 150, refundedThereFen: 0, deliveredHereFen: 150, feesThereFen: 0 });
    assert.equal(c.ok, true);
    assert.equal(c.counts.matched, 1);
    assert.equal(c.counts['amount-mismatch'], 0);
  });

  for (const [what, there] of [['more', 151], ['less', 149]] as const) {
    it(`a payment of ${what} there than here is an amount mismatch, with both amounts`, () => {
      const c = compare([row(no(1), 'SUCCESS', there)], [order(no(1), 'delivered', 150)]);
      assert.deepEqual(c.findings.map(strip), [{ kind: 'amount-mismatch', orderNo: no(1), hereState: 'delivered', hereAmountFen: 150, thereState: 'SUCCESS', thereAmountFen: there }]);
      assert.equal(c.ok, false);
      assert.equal(c.totals.paidThereFen, there);
      assert.equal(c.totals.deliveredHereFen, 150);
    });
    it(`a reversal refunded with ${what} there than was paid here is an amount mismatch`, () => {
      const c = compare([row(no(2), 'SUCCESS', 200), row(no(2), 'REFUND', there === 151 ? 201 : 199)], [order(no(2), 'reversed', 200)]);
      const f = c.findings.find((x) => x.thereState === 'REFUND')!;
      assert.deepEqual(strip(f), { kind: 'amount-mismatch', orderNo: no(2), hereState: 'reversed', hereAmountFen: 200, thereState: 'REFUND', thereAmountFen: there === 151 ? 201 : 199, note: 'reversal' });
      assert.equal(c.totals.refundedThereFen, there === 151 ? 201 : 199);
      assert.equal(c.ok, false);
    });
    it(`a refund of ${what} there than the journal's refund amount is an amount mismatch`, () => {
      const refundAmt = 120;
      const thereFen = there === 151 ? 121 : 119;
      const c = compare([row(no(3), 'REFUND', thereFen)], [order(no(3), 'refunded', 200, { refundAmt: String(refundAmt), createdAt: '2026-11-30T09:00:00.000Z', orderTime: '20261130090000' })]);
      assert.deepEqual(c.findings.map(strip), [{ kind: 'amount-mismatch', orderNo: no(3), hereState: 'refunded', hereAmountFen: refundAmt, thereState: 'REFUND', thereAmountFen: thereFen, note: 'refund' }]);
      assert.equal(c.ok, false);
    });
  }

  it('refunds matched: a reversal by the paid amount, a refund by its refund amount (or the paid amount when none is set)', () => {
    const c = compare(
      [row(no(1), 'SUCCESS', 200), row(no(1), 'REFUND', 200), row(no(2), 'REFUND', 120), row(no(3), 'REFUND', 90)],
      [order(no(1), 'reversing', 200), order(no(2), 'refunding', 300, { refundAmt: '120' }), order(no(3), 'refunded', 90)],
      { ordersOnDays: [] },
    );
    assert.deepEqual(c.findings.filter((f) => f.thereState === 'REFUND').map((f) => [f.kind, f.orderNo, f.hereAmountFen, f.thereAmountFen, f.note]), [
      ['refund-matched', no(1), 200, 200, 'reversal'],
      ['refund-matched', no(2), 120, 120, 'refund'],
      ['refund-matched', no(3), 90, 90, 'refund'],
    ]);
    assert.deepEqual(c.findings.find((f) => f.thereState === 'SUCCESS')!.note, 'reversing here; REFUND row present');
    assert.equal(c.totals.refundedThereFen, 410);
    assert.equal(c.ok, true);
  });

  it('a refund there the journal cannot explain: an order it does not know, or one not returned here', () => {
    const c = compare([row(no(4), 'REFUND', 50), row(no(5), 'REFUND', 70)], [order(no(5), 'delivered', 70)], { ordersOnDays: [] });
    assert.deepEqual(c.findings.map((f) => [f.kind, f.orderNo, f.note]), [
      ['refund-unexpected', no(4), 'no such order in the journal'],
      ['refund-unexpected', no(5), 'order is delivered here'],
    ]);
    assert.equal(c.counts['refund-unexpected'], 2);
    assert.equal(c.ok, false);
  });

  it('paid there but not delivered here: unknown order, still in progress, final as failed', () => {
    const c = compare(
      [row(no(6), 'SUCCESS', 10), row(no(7), 'SUCCESS', 20), row(no(8), 'SUCCESS', 30)],
      [order(no(7), 'unknown', 20), order(no(8), 'failed', 30)],
    );
    assert.deepEqual(c.findings.map((f) => [f.kind, f.orderNo, f.hereAmountFen, f.thereAmountFen, f.note]), [
      ['paid-not-delivered', no(6), undefined, 10, 'no such order in the journal'],
      ['paid-not-delivered', no(7), 20, 20, 'still unknown here'],
      ['paid-not-delivered', no(8), 30, 30, 'final here as failed'],
    ]);
    assert.equal(c.findings[0]!.hereState, 'absent');
    assert.equal(c.totals.paidThereFen, 60);
  });

  it('paid twice: the second SUCCESS row names the first line; counted in the total, compared once', () => {
    const a = row(no(1), 'SUCCESS', 100);
    const b = row(no(1), 'SUCCESS', 100);
    const c = compare([a, b], [order(no(1), 'delivered', 100)]);
    assert.deepEqual(c.findings.map((f) => [f.kind, f.line, f.note]), [['matched', a.line, undefined], ['paid-twice', b.line, `also on line ${a.line}`]]);
    assert.equal(c.totals.paidThereFen, 200);
    assert.equal(c.ok, false);
  });

  it('FAILED there: harmless unless the product went out', () => {
    const c = compare([row(no(1), 'FAILED', 100), row(no(2), 'FAILED', 100), row(no(3), 'FAILED', 100)], [order(no(1), 'delivered', 100), order(no(2), 'failed', 100)], { ordersOnDays: [] });
    assert.deepEqual(c.findings.map((f) => [f.kind, f.orderNo, f.thereAmountFen]), [['delivered-but-failed-there', no(1), 100]]);
    assert.equal(c.failedConsistent, 2);
    assert.equal(c.totals.paidThereFen, 0);
  });

  it('delivered here on the day with no row there; near midnight it says so; another day\'s order or an undelivered one is not asked for', () => {
    const late = order(no(2), 'delivered', 30, { orderTime: `${DAY}235600` });
    const justBefore = order(no(4), 'delivered', 5, { orderTime: `${DAY}235459` });
    const otherDay = order(no(3), 'delivered', 40, { orderTime: '20261130120000' });
    const settlesNextDay = order(no(5), 'delivered', 7, { stlDate: '20261202' });
    const c = compare([], [order(no(1), 'delivered', 25), late, otherDay, order(no(6), 'failed', 9), justBefore, settlesNextDay]);
    assert.deepEqual(c.findings.map((f) => [f.kind, f.orderNo, f.hereAmountFen, f.thereState, f.note]), [
      ['delivered-absent-there', no(1), 25, 'absent', undefined],
      ['delivered-absent-there', no(2), 30, 'absent', 'ordered just before midnight: may be in the next day\'s file'],
      ['delivered-absent-there', no(4), 5, 'absent', undefined],
    ]);
    assert.equal(c.totals.deliveredHereFen, 60);
    assert.equal(compare([], [order(no(1), 'delivered', 25)], { days: new Set() }).findings.length, 0, 'no days known: nothing is "absent"');
  });

  it('returned here: the REFUND row is expected on the file\'s day, and not before a later day\'s return', () => {
    const sameDay = order(no(1), 'refunded', 100, { updatedAt: '2026-12-01T10:00:00.000Z' });
    const later = order(no(2), 'reversed', 200, { updatedAt: '2026-12-02T08:00:00.000Z' });
    const c = compare([row(no(1), 'SUCCESS', 100), row(no(2), 'SUCCESS', 200)], [sameDay, later], { ordersOnDays: [] });
    assert.deepEqual(c.findings.map((f) => [f.kind, f.orderNo, f.note]), [
      ['refund-absent-there', no(1), 'refunded here on 20261201, no REFUND row in this file'],
      ['returned-later', no(2), 'reversed on 20261202'],
    ]);
    assert.equal(c.ok, false);
    // A refund made on the file's day of an earlier day's payment: its REFUND row is due in this file.
    const earlier = order(no(3), 'refunded', 80, { orderTime: '20261130090000', refundAmt: '60', updatedAt: '2026-12-01T11:00:00.000Z' });
    const d = compare([], [earlier]);
    assert.deepEqual(d.findings.map(strip), [{ kind: 'refund-absent-there', orderNo: no(3), hereState: 'refunded', hereAmountFen: 60, thereState: 'absent' }]);
  });

  it('rows of other terminals and merchants are counted and set aside; another journal\'s run id is named', () => {
    const mine = 'abcdefghij';
    const c = compare(
      [row('OTHER20261201000001', 'SUCCESS', 5), row(no(9), 'SUCCESS', 6, { merchantId: '99999999' }), row(no(10, '_zzzzzzzzzz'), 'SUCCESS', 7), row(no(11, `_${mine}`), 'SUCCESS', 8)],
      [],
      { runIds: new Set([mine]) },
    );
    assert.equal(c.otherTerminals, 2);
    assert.deepEqual(c.findings.map((f) => [f.kind, f.orderNo, f.thereAmountFen]), [
      ['other-journal', no(10, '_zzzzzzzzzz'), 7],
      ['paid-not-delivered', no(11, `_${mine}`), 8],
    ]);
    assert.equal(c.findings[0]!.note, 'run zzzzzzzzzz is not this journal\'s');
    assert.equal(c.totals.paidThereFen, 8, 'another journal\'s payment is not this kiosk\'s money');
    assert.ok(isOurOrderNo(no(1), DEVICE));
    assert.ok(!isOurOrderNo('OTHER20261201000001', DEVICE));
  });

  it('the OK kinds alone make a good day; a day with only a later return is good', () => {
    const later = order(no(2), 'reversed', 200, { updatedAt: '2026-12-02T08:00:00.000Z' });
    const c = compare([row(no(1), 'SUCCESS', 100), row(no(2), 'SUCCESS', 200), row(no(3), 'REFUND', 50)], [order(no(1), 'delivered', 100), later, order(no(3), 'refunded', 50, { orderTime: '20261130090000' })], { ordersOnDays: [] });
    assert.deepEqual(c.findings.map((f) => f.kind), ['matched', 'returned-later', 'refund-matched']);
    assert.equal(c.ok, true);
  });

  for (const state of ['refunded', 'refunding', 'reversed', 'reversing'] as const) {
    it(`paid there and ${state} here the same day, without a REFUND row: the refund is missing there (not "paid, not delivered")`, () => {
      const c = compare([row(no(1), 'SUCCESS', 100)], [order(no(1), state, 100, { updatedAt: '2026-12-01T12:00:00.000Z' })], { ordersOnDays: [] });
      assert.deepEqual(c.findings.map((f) => [f.kind, f.note]), [['refund-absent-there', `${state} here on 20261201, no REFUND row in this file`]]);
    });
  }

  it('the file\'s days decide "later": none known is never later; between two days is not after both', () => {
    const o = order(no(1), 'refunded', 100, { updatedAt: '2026-12-02T08:00:00.000Z' });
    const kinds = (days: string[]) => compare([row(no(1), 'SUCCESS', 100)], [o], { ordersOnDays: [], days: new Set(days) }).findings.map((f) => f.kind);
    assert.deepEqual(kinds([]), ['refund-absent-there']);
    assert.deepEqual(kinds([DAY, '20261203']), ['refund-absent-there']);
    assert.deepEqual(kinds([DAY, '20261130']), ['returned-later']);
  });

  it('an order the journal has is this kiosk\'s whatever its number looks like; with no merchant id configured none is set aside for it', () => {
    const c = compare([row('LEGACY-7', 'SUCCESS', 100)], [order('LEGACY-7', 'delivered', 100)], { ordersOnDays: [] });
    assert.deepEqual(c.findings.map((f) => [f.kind, f.orderNo]), [['matched', 'LEGACY-7']]);
    const d = compare([row(no(9), 'SUCCESS', 6, { merchantId: '99999999' })], [], { acqMerId: '' });
    assert.deepEqual([d.otherTerminals, d.findings.map((f) => f.kind)], [0, ['paid-not-delivered']]);
    const e = compare([row(no(9), 'SUCCESS', 6, { merchantId: '' })], []);
    assert.deepEqual([e.otherTerminals, e.findings.map((f) => f.kind)], [0, ['paid-not-delivered']], 'a row without a merchant id');
    const known = compare([row(no(9), 'SUCCESS', 6, { merchantId: '99999999' })], [order(no(9), 'delivered', 6)]);
    assert.equal(known.otherTerminals, 0, 'an order the journal has is never another merchant\'s');
  });

  it('another journal\'s refund: its refund amount, absent here', () => {
    const c = compare([row(no(10, '_zzzzzzzzzz'), 'REFUND', 7)], [], { runIds: new Set(['abcdefghij']) });
    assert.deepEqual(c.findings.map(strip), [{ kind: 'other-journal', orderNo: no(10, '_zzzzzzzzzz'), hereState: 'absent', thereState: 'REFUND', thereAmountFen: 7, note: 'run zzzzzzzzzz is not this journal\'s' }]);
  });

  it('23:55 exactly is near midnight', () => {
    const c = compare([], [order(no(1), 'delivered', 25, { orderTime: `${DAY}235500` })]);
    assert.equal(c.findings[0]!.note, 'ordered just before midnight: may be in the next day\'s file');
  });

  it('localDay is the local yyyyMMdd of a timestamp', () => {
    const iso = '2026-12-01T23:30:00.000Z';
    assert.equal(localDay(iso), formatOrderTime(new Date(iso)).slice(0, 8));
    assert.match(localDay(iso), /^2026120[12]$/);
  });

  it('fees: the fee and the extra fee against their rates (a fen either way), summed into the total', () => {
    const fees = (fields: Record<string, string>) => compare([row(no(1), 'SUCCESS', 1000, { fields })], [order(no(1), 'delivered', 1000)]);
    assert.equal(fees({ fee: '6', feeRate: '0.60', extraFee: '2', extraRate: '0.2' }).counts['fee-mismatch'], 0);
    assert.equal(fees({ fee: '6', feeRate: '0.60', extraFee: '2', extraRate: '0.2' }).totals.feesThereFen, 8);
    assert.equal(fees({ fee: '7', feeRate: '0.60' }).counts['fee-mismatch'], 0, 'one fen over');
    assert.equal(fees({ fee: '5', feeRate: '0.60' }).counts['fee-mismatch'], 0, 'one fen under');
    const over = fees({ fee: '8', feeRate: '0.60' });
    assert.deepEqual(over.findings.find((f) => f.kind === 'fee-mismatch')!.note, 'fee 8 fen is not 0.6% of 1000');
    assert.equal(fees({ fee: '4', feeRate: '0.60' }).counts['fee-mismatch'], 1, 'two fen under');
    assert.equal(fees({ fee: '6', feeRate: '0.60', extraFee: '5', extraRate: '0.2' }).findings.find((f) => f.kind === 'fee-mismatch')!.note, 'extra fee 5 fen is not 0.2% of 1000');
    assert.equal(fees({ fee: '9', feeRate: '0.60', extraFee: '5', extraRate: '0.2' }).findings.find((f) => f.kind === 'fee-mismatch')!.note, 'fee 9 fen is not 0.6% of 1000; extra fee 5 fen is not 0.2% of 1000');
    assert.equal(fees({ fee: 'x', feeRate: '0.60' }).counts['fee-mismatch'], 0, 'a column that is no number is not checked');
    for (const fee of ['a6', '6a', '6.0', '']) assert.equal(fees({ fee, feeRate: '0.60' }).totals.feesThereFen, 0, `fee ${JSON.stringify(fee)} is no amount`);
    assert.equal(fees({ fee: '-2' }).totals.feesThereFen, -2, 'a negative fee (a reversal\'s) is an amount');
    assert.equal(fees({ fee: ' 9 ', feeRate: ' 0.60 ' }).counts['fee-mismatch'], 1, 'trimmed rate and fee are checked');
    assert.equal(fees({ fee: '50', feeRate: '10' }).counts['fee-mismatch'], 1, 'a whole-number rate of two digits (10 %)');
    assert.equal(fees({ fee: '100', feeRate: '10' }).counts['fee-mismatch'], 0);
    assert.equal(fees({ fee: '50', feeRate: '1' }).counts['fee-mismatch'], 1, 'a whole-number rate (1 %)');
    assert.equal(fees({ fee: '60', feeRate: '0.60x' }).counts['fee-mismatch'], 0, 'a rate with text after it is no rate: not checked');
    assert.equal(fees({ fee: '6', feeRate: '0.60', extraFee: '3', extraRate: '0.2' }).counts['fee-mismatch'], 0, 'extra fee one fen over');
    assert.equal(fees({ fee: '6', feeRate: '0.60', extraFee: '1', extraRate: '0.2' }).counts['fee-mismatch'], 0, 'extra fee one fen under');
    assert.equal(fees({ fee: '6', feeRate: '0.60', extraRate: '0.2' }).counts['fee-mismatch'], 1, 'no extra fee where the rate asks for 2 fen');
    assert.equal(fees({ fee: ' 6 ', feeRate: ' 0.60 ' }).totals.feesThereFen, 6, 'trimmed');
    assert.equal(fees({ fee: '60', feeRate: '-1' }).counts['fee-mismatch'], 0, 'a negative rate is no rate');
  });
});
