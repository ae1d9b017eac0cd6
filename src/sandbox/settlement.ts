// The platform's daily settlement file, from the sandbox ledger. Columns in PROTOCOL.md's order, no header line,
// one row per event on that day (local time): SUCCESS for a payment, REFUND for a completed refund or a
// cancelOrder that returned a charge, FAILED for a micropay the platform refused.
import { SETTLEMENT_COLUMNS } from '../umpay/settlement.js';
import type { LedgerSnapshot } from './ledger.js';
import { ymd, ymdhms } from './ledger.js';

export { SETTLEMENT_COLUMNS };

export type SettlementRow = Record<(typeof SETTLEMENT_COLUMNS)[number], string>;

/** Fee rate the sandbox charges, percent. */
export const SANDBOX_FEE_RATE = 0.6;

/** `yyyyMMdd` from `yyyyMMdd` or `yyyy-mm-dd`; throws naming the value otherwise. */
export function normaliseStlDate(text: string): string {
  const m = /^([0-9]{4})-?([0-9]{2})-?([0-9]{2})$/.exec(text);
  if (!m) throw new Error(`settlement date ${JSON.stringify(text)}: expected yyyyMMdd or yyyy-mm-dd`);
  return `${m[1]}${m[2]}${m[3]}`;
}

export function settlementFileName(acqSpId: string, stlDate: string): string {
  return `${acqSpId}_${normaliseStlDate(stlDate)}.csv`;
}

function emptyRow(): SettlementRow {
  return Object.fromEntries(SETTLEMENT_COLUMNS.map((c) => [c, ''])) as SettlementRow;
}

/** The rows of one day's file (for `acqSpId` when given). */
export function settlementRows(ledger: LedgerSnapshot, stlDate: string, acqSpId?: string): SettlementRow[] {
  const day = normaliseStlDate(stlDate);
  const rows: SettlementRow[] = [];
  const orders = new Map(ledger.orders.map((o) => [o.orderNo, o]));
  for (const o of ledger.orders) {
    if (acqSpId && o.acqSpId !== acqSpId) continue;
    const base = {
      ...emptyRow(),
      merchantOrderNo: o.orderNo,
      merchantId: o.acqMerId,
      merchantName: 'UMPay sandbox merchant',
      platformOrderNo: o.transactionId,
      cardType: o.orderType === 'unionpay' ? '01' : '',
      orderType: o.orderType,
      scene: '2',
      feeRate: SANDBOX_FEE_RATE.toFixed(2),
      settlementMode: 'T1',
      extraRate: '0',
      extraFee: '0',
    };
    if (o.charged && o.payTime?.startsWith(day)) {
      const fee = Math.round((o.txnAmt * SANDBOX_FEE_RATE) / 100);
      rows.push({ ...base, payTime: o.payTime, state: 'SUCCESS', orderAmount: String(o.txnAmt), refundAmount: '0', fee: String(fee), settlementAmount: String(o.txnAmt - fee), platformSerial: o.paySeq ?? '', thirdPartySerial: `D${o.paySeq ?? ''}`, orderKind: 'pay' });
    }
    if (o.failCode && ymd(new Date(o.createdAt)) === day) {
      rows.push({ ...base, payTime: ymdhms(new Date(o.createdAt)), state: 'FAILED', orderAmount: String(o.txnAmt), refundAmount: '0', fee: '0', settlementAmount: '0', orderKind: 'pay' });
    }
    if (o.reversedFen > 0 && ymd(new Date(o.updatedAt)) === day) {
      rows.push({ ...base, payTime: ymdhms(new Date(o.updatedAt)), state: 'REFUND', orderAmount: '0', refundAmount: String(o.reversedFen), fee: '0', settlementAmount: String(-o.reversedFen), orderKind: 'cancel' });
    }
  }
  for (const r of ledger.refunds) {
    const o = orders.get(r.origOrderNo);
    if (!o || r.state !== 'refunded' || !r.doneAt || ymd(new Date(r.doneAt)) !== day) continue;
    if (acqSpId && o.acqSpId !== acqSpId) continue;
    rows.push({
      ...emptyRow(),
      merchantOrderNo: o.orderNo,
      payTime: ymdhms(new Date(r.doneAt)),
      merchantId: o.acqMerId,
      merchantName: 'UMPay sandbox merchant',
      platformOrderNo: o.transactionId,
      cardType: o.orderType === 'unionpay' ? '01' : '',
      state: 'REFUND',
      orderAmount: '0',
      refundAmount: String(r.txnAmt),
      orderType: o.orderType,
      scene: '2',
      fee: '0',
      feeRate: SANDBOX_FEE_RATE.toFixed(2),
      settlementMode: 'T1',
      settlementAmount: String(-r.txnAmt),
      extraRate: '0',
      extraFee: '0',
      platformSerial: r.transactionId,
      orderKind: 'refund',
      referenceNo: r.orderNo,
    });
  }
  return rows.sort((a, b) => a.payTime.localeCompare(b.payTime));
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/**
 * The content of `<acqSpId>_<yyyyMMdd>.csv` for `stlDate` (yyyyMMdd or yyyy-mm-dd). Refund rows carry the
 * original merchant order no (so they match the journal's order), the refund serial in the last column.
 */
export function settlementCsv(ledger: LedgerSnapshot, stlDate: string, options: { acqSpId?: string; header?: boolean } = {}): string {
  const lines = settlementRows(ledger, stlDate, options.acqSpId).map((r) => SETTLEMENT_COLUMNS.map((c) => csvField(r[c])).join(','));
  if (options.header) lines.unshift(SETTLEMENT_COLUMNS.join(','));
  return lines.map((l) => `${l}\n`).join('');
}
