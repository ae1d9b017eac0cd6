// What the sandbox platform's ledger (ledger.ts) keeps: its orders and refunds, as served at /__sandbox/orders,
// written to the ledger file and read by the settlement file (settlement.ts).
import type { OrderType } from '../umpay/types.js';
import type { Behaviour } from './codes.js';

export type OrderState = 'paid' | 'paying' | 'failed' | 'closed' | 'cancelled' | 'refunded';

export interface LedgerOrder {
  orderNo: string;
  acqSpId: string;
  acqMerId: string;
  txnAmt: number;
  orderType: OrderType;
  goodsId: string;
  goodsInfo: string;
  /** The payment code, masked (the ledger is served over HTTP and may be written to disk). */
  authCode: string;
  behaviour: Behaviour;
  state: OrderState;
  /** How many times the customer's money was taken for this order (must never exceed 1). */
  charged: number;
  /** Money returned by cancelOrder of a paid order. */
  reversedFen: number;
  /** Money returned by completed refunds. */
  refundedFen: number;
  /** charged × txnAmt − reversed − refunded: what the customer is out of pocket. */
  netFen: number;
  transactionId: string;
  paySeq?: string;
  payTime?: string;
  /** micropay's failure code for failed orders. */
  failCode?: string;
  failMsg?: string;
  /** queryOrder calls seen so far (pending-then-paid becomes paid after K). */
  queries: number;
  queriesToPay: number;
  /** micropay re-sends with the same fields (idempotent retries), answered from the order's state. */
  resends: number;
  /** A micropay answer for this order was never delivered (dropped connection). */
  answersLost: number;
  chargedButAnswerLost: boolean;
  createdAt: string;
  updatedAt: string;
  requestHash: string;
}

export type RefundState = 'accepted' | 'refunded' | 'failed';

export interface LedgerRefund {
  orderNo: string;
  origOrderNo: string;
  txnAmt: number;
  state: RefundState;
  queries: number;
  transactionId: string;
  createdAt: string;
  doneAt?: string;
  requestHash: string;
}

export interface LedgerSnapshot {
  orders: LedgerOrder[];
  refunds: LedgerRefund[];
}
