// The sandbox platform's order book and what each call does to it. Pure apart from the clock; the server signs
// and sends the answers. Invariant under test: an order's `charged` never exceeds 1. The records it keeps are
// records.ts.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { requestPlaintext, wireText, type WireValue } from '../umpay/canonical.js';
import { maskAuthCode } from '../umpay/authcode.js';
import type { OrderType } from '../umpay/types.js';
import { formatOrderTime } from '../umpay/messages.js';
import { behaviourOf } from './codes.js';
import type { LedgerOrder, LedgerRefund, LedgerSnapshot, OrderState } from './records.js';

export type { LedgerOrder, LedgerRefund, LedgerSnapshot, OrderState, RefundState } from './records.js';

export interface Answer {
  fields: Record<string, WireValue>;
  /** Drop the connection instead of answering (the "answer-lost" code). */
  loseAnswer?: boolean;
}

type Fields = Record<string, WireValue>;

export interface LedgerOptions {
  now?: () => Date;
  file?: string;
  /** refundQuery calls until an accepted refund is done (default 1: the first query sees it refunded). */
  refundQueriesUntilDone?: number;
}

const MSG: Record<string, string> = {
  '00': '处理成功',
  '02': '用户支付中，请稍后查询',
  '08': '金额错误',
  '14': '交易已撤销',
  '03': '交易已退款',
  '15': '余额不足',
  '16': '订单号重复',
  '17': '交易不存在',
  '20': '二维码已过期，请刷新再试',
  '35': '原交易不存在或状态不正确',
  '36': '与原交易信息不匹配',
  '001100WN': '101 每个二维码仅限使用一次，请刷新再试',
};

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** Local time, like the platform's own (China time on a kiosk set to it): the protocol's one formatter. */
export const ymdhms = (d: Date): string => formatOrderTime(d);
export const ymd = (d: Date): string => formatOrderTime(d).slice(0, 8);

const SAVE_DELAY_MS = 20;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

const ORIG: Record<OrderState, [string, string]> = {
  paid: ['00', '0'],
  refunded: ['01', '3'],
  paying: ['02', '6'],
  closed: ['03', '98'],
  cancelled: ['04', '2'],
  failed: ['06', '1'],
};

export class Ledger {
  private orders = new Map<string, LedgerOrder>();
  private refunds = new Map<string, LedgerRefund>();
  /** sha256 of every payment code used → orderNo (hashes: the file never holds a bearer token). */
  private usedCodes = new Map<string, string>();
  private seq = 0;
  private readonly now: () => Date;
  readonly refundQueriesUntilDone: number;

  constructor(private readonly options: LedgerOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.refundQueriesUntilDone = options.refundQueriesUntilDone ?? 1;
    if (options.file) this.load(options.file);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let data: { orders?: LedgerOrder[]; refunds?: LedgerRefund[]; usedCodes?: Record<string, string>; seq?: number };
    try {
      data = JSON.parse(text) as typeof data;
    } catch (err) {
      throw new Error(`${file}: sandbox ledger is not valid JSON (${(err as Error).message}); delete it to start empty`);
    }
    for (const o of data.orders ?? []) this.orders.set(o.orderNo, o);
    for (const r of data.refunds ?? []) this.refunds.set(r.orderNo, r);
    for (const [h, o] of Object.entries(data.usedCodes ?? {})) this.usedCodes.set(h, o);
    this.seq = data.seq ?? 0;
  }

  private saveTimer?: NodeJS.Timeout;

  // Writing the whole ledger costs O(orders) (≈12 ms at 3000 orders), so changes within SAVE_DELAY_MS are
  // written once; close() flushes. Only a SIGKILL of the sandbox can lose that last moment.
  private save(): void {
    if (!this.options.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => this.flush(), SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Writes the ledger file now if anything changed. Atomic: a crash mid-write leaves the previous file. */
  flush(): void {
    const file = this.options.file;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    if (!file || !this.saveTimer) return;
    this.saveTimer = undefined;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ version: 1, seq: this.seq, ...this.snapshot(), usedCodes: Object.fromEntries(this.usedCodes) }));
    renameSync(tmp, file);
  }

  reset(): void {
    this.orders.clear();
    this.refunds.clear();
    this.usedCodes.clear();
    this.save();
  }

  snapshot(): LedgerSnapshot {
    return { orders: [...this.orders.values()].map((o) => ({ ...o })), refunds: [...this.refunds.values()].map((r) => ({ ...r })) };
  }

  order(orderNo: string): LedgerOrder | undefined {
    return this.orders.get(orderNo);
  }

  private nextId(kind: string): string {
    this.seq++;
    return `${kind}${ymdhms(this.now())}${pad(this.seq, 8)}`;
  }

  private base(respCode: string, extra: Fields = {}, respMsg?: string): Fields {
    return { respCode, respMsg: respMsg ?? MSG[respCode] ?? respCode, platDate: ymd(this.now()), ...extra };
  }

  private touch(o: LedgerOrder): void {
    o.updatedAt = this.now().toISOString();
    o.netFen = o.charged * o.txnAmt - o.reversedFen - o.refundedFen;
  }

  private charge(o: LedgerOrder): void {
    if (o.charged >= 1) return; // never twice
    const t = this.now();
    o.charged = 1;
    o.state = 'paid';
    o.paySeq = this.nextId('P');
    o.payTime = ymdhms(t);
    this.touch(o);
  }

  /** The micropay answer for an order's current state. */
  private micropayAnswer(o: LedgerOrder): Fields {
    // stlDate (M in the current docs): the day the order settles on; the pay day once paid, else today.
    const common = { orderNo: o.orderNo, txnAmt: String(o.txnAmt), transactionId: o.transactionId, stlDate: o.payTime?.slice(0, 8) ?? ymd(this.now()) };
    switch (o.state) {
      case 'paid':
        return this.base('00', { ...common, paySeq: o.paySeq, depBankSeq: `D${o.paySeq}` });
      case 'paying':
        return this.base('02', common);
      case 'failed':
        return this.base(o.failCode!, { ...common, transactionId: null }, o.failMsg);
      case 'cancelled':
        return this.base('14', common);
      case 'closed':
        return this.base('35', common, '订单已关闭');
      case 'refunded':
        return this.base('03', common);
    }
  }

  micropay(f: Fields): Answer {
    const orderNo = wireText(f.orderNo);
    const authCode = wireText(f.authCode);
    const hash = sha256(requestPlaintext(f));
    const existing = this.orders.get(orderNo);
    if (existing) {
      if (existing.requestHash !== hash) return { fields: this.base('16', { orderNo, txnAmt: wireText(f.txnAmt), transactionId: null }) };
      existing.resends++;
      this.touch(existing);
      this.save();
      return { fields: this.micropayAnswer(existing) };
    }
    const { behaviour, queries } = behaviourOf(authCode);
    const codeHash = sha256(`authCode:${authCode}`);
    const reused = behaviour === 'reused' || this.usedCodes.has(codeHash);
    this.usedCodes.set(codeHash, this.usedCodes.get(codeHash) ?? orderNo);
    const nowIso = this.now().toISOString();
    const o: LedgerOrder = {
      orderNo,
      acqSpId: wireText(f.acqSpId),
      acqMerId: wireText(f.acqMerId),
      txnAmt: Number(f.txnAmt),
      orderType: wireText(f.orderType) as OrderType,
      goodsId: f.goodsId == null ? '' : wireText(f.goodsId),
      goodsInfo: f.goodsInfo == null ? '' : wireText(f.goodsInfo),
      authCode: maskAuthCode(authCode),
      behaviour,
      state: 'paying',
      charged: 0,
      reversedFen: 0,
      refundedFen: 0,
      netFen: 0,
      transactionId: this.nextId('T'),
      queries: 0,
      queriesToPay: queries,
      resends: 0,
      answersLost: 0,
      chargedButAnswerLost: false,
      createdAt: nowIso,
      updatedAt: nowIso,
      requestHash: hash,
    };
    this.orders.set(orderNo, o);
    const fail = (code: string) => {
      o.state = 'failed';
      o.failCode = code;
      o.failMsg = MSG[code];
    };
    let loseAnswer = false;
    if (reused) fail('001100WN');
    else if (behaviour === 'insufficient-balance') fail('15');
    else if (behaviour === 'expired') fail('20');
    else if (behaviour === 'pending-then-paid' || behaviour === 'pending-forever') o.state = 'paying';
    else {
      this.charge(o);
      loseAnswer = behaviour === 'answer-lost';
    }
    if (loseAnswer) this.answerLost(orderNo);
    this.touch(o);
    this.save();
    return { fields: this.micropayAnswer(o), loseAnswer };
  }

  /** The server dropped the connection carrying this order's micropay answer. */
  answerLost(orderNo: string): void {
    const o = this.orders.get(orderNo);
    if (!o) return;
    o.answersLost++;
    if (o.charged > 0) o.chargedButAnswerLost = true;
    this.touch(o);
    this.save();
  }

  queryOrder(f: Fields): Answer {
    const o = this.orders.get(wireText(f.orderNo));
    if (!o || (f.transactionId && f.transactionId !== o.transactionId)) return { fields: this.base('17', { orderNo: wireText(f.orderNo) }) };
    o.queries++;
    if (o.state === 'paying' && o.behaviour === 'pending-then-paid' && o.queries >= o.queriesToPay) this.charge(o);
    this.touch(o);
    this.save();
    const [origRespCode, origRespDescMsg] = ORIG[o.state];
    return {
      fields: this.base('00', {
        orderNo: o.orderNo,
        transactionId: o.transactionId,
        txnAmt: String(o.txnAmt),
        origRespCode,
        origRespDescMsg,
        stlDate: o.payTime?.slice(0, 8),
        payTime: o.payTime?.slice(4),
        paySeq: o.paySeq,
        depBankSeq: o.paySeq ? `D${o.paySeq}` : undefined,
        bankCardType: o.charged && o.orderType === 'unionpay' ? '01' : undefined,
      }),
    };
  }

  private sameDay(iso: string): boolean {
    return ymd(new Date(iso)) === ymd(this.now());
  }

  cancelOrder(f: Fields): Answer {
    const o = this.orders.get(wireText(f.orderNo));
    if (!o) return { fields: this.base('17', { orderNo: wireText(f.orderNo) }) };
    const common = { orderNo: o.orderNo, transactionId: o.transactionId, txnAmt: String(o.txnAmt) };
    if (o.orderType === 'unionpay') return { fields: this.base('35', common, '银联付款码不支持撤销，请使用退款') };
    if (!this.sameDay(o.createdAt)) return { fields: this.base('35', common, '仅支持撤销当日交易，请使用退款') };
    if (o.state === 'cancelled') return { fields: this.base('00', common) };
    if (o.state === 'refunded' || o.state === 'closed' || o.refundedFen > 0 || this.pendingRefundFen(o.orderNo) > 0) return { fields: this.base('35', common) };
    if (o.state === 'paid') o.reversedFen = o.txnAmt; // the charge is returned
    o.state = 'cancelled';
    this.touch(o);
    this.save();
    return { fields: this.base('00', common) };
  }

  closeOrder(f: Fields): Answer {
    const o = this.orders.get(wireText(f.orderNo));
    if (!o) return { fields: this.base('17', { orderNo: wireText(f.orderNo) }) };
    const common = { orderNo: o.orderNo, transactionId: o.transactionId, txnAmt: String(o.txnAmt) };
    if (o.state === 'paid' || o.state === 'refunded') return { fields: this.base('35', common, '订单已支付，不能关闭') };
    // closed or cancelled already: it can no longer be paid either way
    if (o.state === 'paying' || o.state === 'failed') o.state = 'closed';
    this.touch(o);
    this.save();
    return { fields: this.base('00', common) };
  }

  private pendingRefundFen(origOrderNo: string): number {
    let sum = 0;
    for (const r of this.refunds.values()) if (r.origOrderNo === origOrderNo && r.state === 'accepted') sum += r.txnAmt;
    return sum;
  }

  refund(f: Fields): Answer {
    const orderNo = wireText(f.orderNo);
    const hash = sha256(requestPlaintext(f));
    const common = { orderNo, origOrderNo: wireText(f.origOrderNo), txnAmt: wireText(f.txnAmt) };
    const existing = this.refunds.get(orderNo) ?? (this.orders.has(orderNo) ? ({ requestHash: '' } as LedgerRefund) : undefined);
    if (existing) {
      if (existing.requestHash !== hash) return { fields: this.base('16', common) };
      return { fields: this.base('00', { ...common, transactionId: existing.transactionId }) };
    }
    const o = this.orders.get(wireText(f.origOrderNo));
    if (!o) return { fields: this.base('35', common) };
    if (String(o.txnAmt) !== wireText(f.origTxnAmt)) return { fields: this.base('36', common) };
    if (o.state !== 'paid') return { fields: this.base('35', common) };
    const amount = Number(f.txnAmt);
    if (amount > o.txnAmt - o.refundedFen - this.pendingRefundFen(o.orderNo)) return { fields: this.base('08', common, '退款金额超过可退金额') };
    const r: LedgerRefund = { orderNo, origOrderNo: o.orderNo, txnAmt: amount, state: 'accepted', queries: 0, transactionId: this.nextId('R'), createdAt: this.now().toISOString(), requestHash: hash };
    this.refunds.set(orderNo, r);
    this.save();
    return { fields: this.base('00', { ...common, transactionId: r.transactionId }) };
  }

  refundQuery(f: Fields): Answer {
    const r = this.refunds.get(wireText(f.orderNo));
    if (!r) return { fields: this.base('17', { orderNo: wireText(f.orderNo) }) };
    r.queries++;
    if (r.state === 'accepted' && r.queries >= this.refundQueriesUntilDone) {
      const o = this.orders.get(r.origOrderNo)!;
      r.state = 'refunded';
      r.doneAt = this.now().toISOString();
      o.refundedFen += r.txnAmt;
      if (o.refundedFen >= o.txnAmt) o.state = 'refunded';
      this.touch(o);
    }
    this.save();
    const orig = r.state === 'refunded' ? '00' : r.state === 'failed' ? '01' : '02';
    return { fields: this.base('00', { orderNo: r.orderNo, origOrderNo: r.origOrderNo, transactionId: r.transactionId, txnAmt: String(r.txnAmt), origRespCode: orig }) };
  }
}
