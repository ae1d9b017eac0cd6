// Comparing the platform's settlement rows with the journal. Pure: the caller looks orders up.
// The file covers every terminal of the service provider, so rows for other kiosks are counted and set
// aside (an order number starts with this kiosk's device id; see journal orderNoPrefix).
import type { PublicOrder } from '../journal/journal.js';
import { parseOrderNo } from '../journal/orderno.js';
import { formatOrderTime } from '../umpay/messages.js';
import type { SettlementRow } from '../umpay/settlement.js';

export type FindingKind =
  /** paid there and delivered here, same amount */
  | 'matched'
  /** a refund/reversal there that matches one here */
  | 'refund-matched'
  /** paid there and returned here (refund/reversal) after the file's day: its REFUND row is in a later file */
  | 'returned-later'
  /** same order, different amount */
  | 'amount-mismatch'
  /**
   * money taken at the platform, but here the order is not delivered and not returned: a customer may be out of pocket
   */
  | 'paid-not-delivered'
  /** delivered here (product out), but the platform's file has no payment for it */
  | 'delivered-absent-there'
  /** a refund there that this kiosk did not make or that does not fit the order's state here */
  | 'refund-unexpected'
  /** returned here on the file's day, but the file has no REFUND row */
  | 'refund-absent-there'
  /** the platform says failed but the product was delivered */
  | 'delivered-but-failed-there'
  /** two SUCCESS rows for one order */
  | 'paid-twice'
  /** the row's fee does not fit its own rate */
  | 'fee-mismatch'
  /**
   * an order of this deviceId made by another journal (its run id is not one of this journal's): two kiosks share the
   * deviceId, or a copy of the journal runs elsewhere
   */
  | 'other-journal';

export const OK_KINDS: ReadonlySet<FindingKind> = new Set(['matched', 'refund-matched', 'returned-later']);

/** What to do about each kind, for the technician. */
export const ADVICE: Record<FindingKind, string> = {
  matched: '',
  'refund-matched': '',
  'returned-later': 'none: the refund appears in a later day\'s file',
  'amount-mismatch': 'compare with the platform\'s merchant portal; raise it with UMPay support',
  'paid-not-delivered': 'kiosk reconcile (the engine refunds a paid order it could not deliver); if it stays, refund by hand',
  'delivered-absent-there': 'check the next day\'s file (near midnight), else query the order: kiosk umpay query ORDERNO',
  'refund-unexpected': 'check the platform\'s merchant portal: who refunded this order?',
  'refund-absent-there': 'check the next day\'s file; else query the refund with refundQuery',
  'delivered-but-failed-there': 'query the order at the platform; the product went out unpaid',
  'paid-twice': 'raise it with UMPay support: one order settled twice',
  'fee-mismatch': 'compare the fee with the merchant contract; raise it with UMPay support',
  'other-journal': 'another journal makes order numbers with this deviceId (a second kiosk with the same deviceId, or a copy of this journal in use): give every kiosk its own deviceId; that journal accounts for these orders',
};

export interface Finding {
  kind: FindingKind;
  orderNo: string;
  /** File line of the row (absent for "absent there" findings). */
  line?: number;
  hereState?: string;
  hereAmountFen?: number;
  thereState?: string;
  thereAmountFen?: number;
  note?: string;
  /** The vending machine's product number of an order paid over MDB (docs/mdb.md). */
  productId?: string;
}

export interface Comparison {
  findings: Finding[];
  /** Rows for other terminals or merchants (not this kiosk's orders). */
  otherTerminals: number;
  /** FAILED rows for orders not delivered here: consistent, nothing to do. */
  failedConsistent: number;
  counts: Record<FindingKind, number>;
  /** Sums over this kiosk's rows, fen. */
  totals: { paidThereFen: number; refundedThereFen: number; deliveredHereFen: number; feesThereFen: number };
  ok: boolean;
}

const RETURNED: ReadonlySet<string> = new Set(['refunded', 'refunding', 'reversed', 'reversing']);

export interface CompareInput {
  rows: readonly SettlementRow[];
  /** The order in the journal, if any. */
  lookup(orderNo: string): PublicOrder | undefined;
  /** Orders of this kiosk whose orderTime or refund falls on one of `days` (for the "absent there" checks). */
  ordersOnDays: readonly PublicOrder[];
  /** yyyyMMdd days the file covers; empty when unknown (then no "absent there" findings). */
  days: ReadonlySet<string>;
  deviceId: string;
  acqMerId: string;
  /**
   * This journal's run ids (journal runs table): an order number of this deviceId with another run id is another
   * journal's.
   */
  runIds?: ReadonlySet<string>;
  /** Local yyyyMMdd of an ISO timestamp (injectable for tests across time zones). */
  dayOf?: (iso: string) => string;
}

export const localDay = (iso: string): string => formatOrderTime(new Date(iso)).slice(0, 8);

/** Whether an order number has this kiosk's form: prefix + yyyyMMdd + sequence (6+ digits) [+ _run id]. */
export function isOurOrderNo(orderNo: string, deviceId: string): boolean {
  return parseOrderNo(orderNo, deviceId) !== undefined;
}

/** The number a column holds when it is only that (whole fen, or a percentage), else undefined. */
function numberIn(text: string | undefined, form: RegExp): number | undefined {
  if (text === undefined) return undefined;
  const m = form.exec(text.trim());
  return m ? Number(m[0]) : undefined;
}
const fen = (text: string | undefined): number | undefined => numberIn(text, /^-?[0-9]+$/);
const pct = (text: string | undefined): number | undefined => numberIn(text, /^[0-9]+(\.[0-9]+)?$/);

/**
 * A pay row's fees against its own columns: fee ≈ amount × rate % and extra fee ≈ amount × extra rate % (the docs
 * do not say how the platform rounds, so one fen either way is accepted). Columns the file leaves empty are not
 * checked. (The settlement amount is not: the docs do not say what else it nets, e.g. split orders.)
 */
function feeProblem(row: SettlementRow): { feesFen: number; problem?: string } {
  const f = row.fields;
  const fee = fen(f.fee);
  const extra = fen(f.extraFee) ?? 0;
  const feesFen = (fee ?? 0) + extra;
  const problems: string[] = [];
  const rate = pct(f.feeRate);
  // Without the guards a missing fee or rate makes the difference NaN, and NaN > 1 is false: not checked either way.
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, NaN (above)
  if (fee !== undefined && rate !== undefined && Math.abs(fee - (row.orderAmountFen * rate) / 100) > 1) problems.push(`fee ${fee} fen is not ${rate}% of ${row.orderAmountFen}`);
  const extraRate = pct(f.extraRate);
  // Stryker disable next-line ConditionalExpression: equivalent, NaN (as above)
  if (extraRate !== undefined && Math.abs(extra - (row.orderAmountFen * extraRate) / 100) > 1) problems.push(`extra fee ${extra} fen is not ${extraRate}% of ${row.orderAmountFen}`);
  return problems.length ? { feesFen, problem: problems.join('; ') } : { feesFen };
}

export function compareSettlement(input: CompareInput): Comparison {
  const dayOf = input.dayOf ?? localDay;
  const findings: Finding[] = [];
  let otherTerminals = 0;
  let failedConsistent = 0;
  const totals = { paidThereFen: 0, refundedThereFen: 0, deliveredHereFen: 0, feesThereFen: 0 };
  const successSeen = new Map<string, SettlementRow>();
  const refundSeen = new Set<string>();
  const add = (f: Finding) => findings.push(f);

  for (const row of input.rows) {
    const order = input.lookup(row.orderNo);
    const ours = order !== undefined || isOurOrderNo(row.orderNo, input.deviceId);
    if (!ours || (input.acqMerId && row.merchantId && row.merchantId !== input.acqMerId && !order)) {
      otherTerminals++;
      continue;
    }
    // A row without an order here is ours only when its number parses (isOurOrderNo above).
    // Stryker disable next-line OptionalChaining: equivalent, it parses (above)
    const runId = order ? undefined : parseOrderNo(row.orderNo, input.deviceId)?.runId;
    if (runId && input.runIds && !input.runIds.has(runId)) {
      add({ kind: 'other-journal', orderNo: row.orderNo, line: row.line, hereState: 'absent', thereState: row.state, thereAmountFen: row.state === 'REFUND' ? row.refundAmountFen : row.orderAmountFen, note: `run ${runId} is not this journal's` });
      continue;
    }
    const here = order ? { hereState: order.state, hereAmountFen: Number(order.txnAmt) } : { hereState: 'absent' };
    const base = { orderNo: row.orderNo, line: row.line, ...here, thereState: row.state };
    if (row.state === 'SUCCESS') {
      totals.paidThereFen += row.orderAmountFen;
      const fee = feeProblem(row);
      totals.feesThereFen += fee.feesFen;
      if (fee.problem) add({ ...base, thereAmountFen: row.orderAmountFen, kind: 'fee-mismatch', note: fee.problem });
      const there = { ...base, thereAmountFen: row.orderAmountFen };
      const prev = successSeen.get(row.orderNo);
      if (prev) {
        add({ ...there, kind: 'paid-twice', note: `also on line ${prev.line}` });
        continue;
      }
      successSeen.set(row.orderNo, row);
      if (!order) {
        add({ ...there, kind: 'paid-not-delivered', note: 'no such order in the journal' });
      } else if (Number(order.txnAmt) !== row.orderAmountFen) {
        add({ ...there, kind: 'amount-mismatch' });
      } else if (order.state === 'delivered') {
        add({ ...there, kind: 'matched' });
      } else if (RETURNED.has(order.state)) {
        // Matched by its REFUND row below, or returned on a later day; decided after all rows are read.
        add({ ...there, kind: 'matched', note: 'returned' });
      } else {
        add({ ...there, kind: 'paid-not-delivered', note: order.final ? `final here as ${order.state}` : `still ${order.state} here` });
      }
    } else if (row.state === 'REFUND') {
      totals.refundedThereFen += row.refundAmountFen;
      refundSeen.add(row.orderNo);
      const there = { ...base, thereAmountFen: row.refundAmountFen };
      if (!order) {
        add({ ...there, kind: 'refund-unexpected', note: 'no such order in the journal' });
      } else if (order.state === 'reversed' || order.state === 'reversing') {
        add({ ...there, kind: row.refundAmountFen === Number(order.txnAmt) ? 'refund-matched' : 'amount-mismatch', hereAmountFen: Number(order.txnAmt), note: 'reversal' });
      } else if (order.state === 'refunded' || order.state === 'refunding') {
        const refundFen = Number(order.refundAmt ?? order.txnAmt);
        add({ ...there, kind: row.refundAmountFen === refundFen ? 'refund-matched' : 'amount-mismatch', hereAmountFen: refundFen, note: 'refund' });
      } else {
        add({ ...there, kind: 'refund-unexpected', note: `order is ${order.state} here` });
      }
    } else {
      // FAILED: harmless unless the product went out.
      if (order?.state === 'delivered') add({ ...base, thereAmountFen: row.orderAmountFen, kind: 'delivered-but-failed-there' });
      else failedConsistent++;
    }
  }

  // Paid there and returned here: needs its REFUND row, unless the return happened after the file's day.
  for (const f of findings) {
    // Stryker disable next-line ConditionalExpression: equivalent, only a 'matched' finding is noted 'returned'
    if (f.kind !== 'matched' || f.note !== 'returned') continue;
    const order = input.lookup(f.orderNo)!;
    if (refundSeen.has(f.orderNo)) {
      f.note = `${order.state} here; REFUND row present`;
    } else {
      const returnedDay = dayOf(order.updatedAt);
      if (input.days.size > 0 && [...input.days].every((d) => returnedDay > d)) {
        f.kind = 'returned-later';
        f.note = `${order.state} on ${returnedDay}`;
      } else {
        f.kind = 'refund-absent-there';
        f.note = `${order.state} here on ${returnedDay}, no REFUND row in this file`;
      }
    }
  }

  for (const order of input.ordersOnDays) {
    // The platform's own settlement day when its answer said (an order paid just before midnight may settle
    // the next day), else the day of the order.
    const day = order.stlDate ?? order.orderTime.slice(0, 8);
    if (order.state === 'delivered' && input.days.has(day)) {
      totals.deliveredHereFen += Number(order.txnAmt);
      if (!successSeen.has(order.orderNo)) {
        const nearMidnight = order.orderTime.slice(8, 12) >= '2355';
        add({
          kind: 'delivered-absent-there',
          orderNo: order.orderNo,
          hereState: order.state,
          hereAmountFen: Number(order.txnAmt),
          thereState: 'absent',
          note: nearMidnight ? 'ordered just before midnight: may be in the next day\'s file' : undefined,
        });
      }
    }
    // Refunded here on the file's day (a payment of an earlier day): the file must carry its REFUND row.
    if (order.state === 'refunded' && input.days.has(dayOf(order.updatedAt)) && !refundSeen.has(order.orderNo) && !successSeen.has(order.orderNo)) {
      add({ kind: 'refund-absent-there', orderNo: order.orderNo, hereState: order.state, hereAmountFen: Number(order.refundAmt ?? order.txnAmt), thereState: 'absent' });
    }
  }

  // An order paid for a vending machine's selection: the finding says which product (docs/mdb.md).
  for (const f of findings) {
    const productId = input.lookup(f.orderNo)?.productId;
    if (productId) f.productId = productId;
  }
  const counts = Object.fromEntries(Object.keys(ADVICE).map((k) => [k, 0])) as Record<FindingKind, number>;
  for (const f of findings) counts[f.kind]++;
  return { findings, otherTerminals, failedConsistent, counts, totals, ok: findings.every((f) => OK_KINDS.has(f.kind)) };
}
