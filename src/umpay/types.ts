// Shared vocabulary of the protocol module. Wire names as the platform spells them.
import type { WireValue } from './canonical.js';

export type OrderType = 'wechat' | 'alipay' | 'unionpay';
export type CallName = 'micropay' | 'queryOrder' | 'cancelOrder' | 'closeOrder' | 'refund' | 'refundQuery';

/** Merchant identity and fixed goods fields (from config). */
export interface Merchant {
  acqSpId: string;
  acqMerId: string;
}

export interface MicropayFields {
  orderTime: string; // yyyyMMddHHmmss
  orderNo: string;
  txnAmt: string; // integer fen, > 0
  orderType: OrderType;
  authCode: string;
  /** Optional in the current docs; sent when configured. */
  goodsId?: string;
  goodsInfo?: string;
  backUrl?: string;
  merPriv?: string;
  /** Only "1" is defined. */
  faceFlag?: string;
  ledgerAccountFlag?: string;
  goodsTag?: string;
  subAppId?: string;
  longitude?: string;
  latitude?: string;
}
export interface QueryOrderFields { orderNo: string; transactionId?: string }
export interface CancelOrderFields { orderNo: string }
export interface CloseOrderFields { orderNo: string }
export interface RefundFields { orderTime: string; origOrderNo: string; origTxnAmt: string; orderNo: string; txnAmt: string }
export interface RefundQueryFields { orderNo: string }

/**
 * Whether a request can have reached the platform. `not-sent` only when it provably never left
 * (connection refused, DNS failure, no route, TLS failure before the request was written).
 */
export type Delivery = 'not-sent' | 'maybe-sent' | 'answered';

/** micropay: success only on a verified `00`. */
export type MicropayOutcome =
  | { kind: 'PAID'; transactionId?: string; stlDate?: string }
  // notOurs: the orderNo belongs to another order at the platform (16): this request was not taken.
  | { kind: 'NOT_PAID'; code: string; reason: string; notOurs?: true }
  // code: the verified respCode when the platform answered something not final (02: the customer is paying).
  | { kind: 'UNKNOWN'; cause: string; rateLimited?: boolean; code?: string };

/** queryOrder: the order's state at the platform, when the query itself worked and was signed. */
export type QueryOutcome =
  // doubt: set by the engine's reading (payment/core.ts aboutOurs): paid, but not trusted for releasing the product.
  | { kind: 'PAID'; transactionId?: string; stlDate?: string; doubt?: string }
  | { kind: 'NOT_PAID'; state: 'failed' | 'closed' | 'cancelled' | 'refunded' | 'no-such-order'; code: string; reason: string }
  | { kind: 'PENDING'; code: string; reason: string }
  | { kind: 'UNKNOWN'; cause: string; rateLimited?: boolean };

/** cancelOrder / closeOrder: only a verified `00` means done. */
export type ReversalOutcome =
  | { kind: 'DONE' }
  | { kind: 'REFUSED'; code: string; reason: string }
  | { kind: 'UNKNOWN'; cause: string; rateLimited?: boolean };

/** refund: `00` means accepted (not yet done; follow with refundQuery). */
export type RefundOutcome =
  | { kind: 'ACCEPTED' }
  // notOurs: the refund serial belongs to another refund (16): this one was not taken.
  | { kind: 'REFUSED'; code: string; reason: string; notOurs?: true }
  | { kind: 'UNKNOWN'; cause: string; rateLimited?: boolean };

export type RefundQueryOutcome =
  | { kind: 'REFUNDED' }
  | { kind: 'FAILED'; code: string; reason: string }
  | { kind: 'PENDING'; code: string; reason: string }
  | { kind: 'UNKNOWN'; cause: string; rateLimited?: boolean };

export interface OutcomeByCall {
  micropay: MicropayOutcome;
  queryOrder: QueryOutcome;
  cancelOrder: ReversalOutcome;
  closeOrder: ReversalOutcome;
  refund: RefundOutcome;
  refundQuery: RefundQueryOutcome;
}

/** Everything about one call, for the journal, the log (masked) and the joint-debugging CLI. */
export interface CallResult<C extends CallName = CallName> {
  call: C;
  outcome: OutcomeByCall[C];
  /** Fields as sent, signature included. Contains the authCode for micropay: never log it unmasked. */
  request: Record<string, string>;
  plaintext: string;
  delivery: Delivery;
  httpStatus?: number;
  /** Raw answer body, capped. */
  raw?: string;
  answer?: Record<string, WireValue>;
  signatureValid?: boolean;
  /** The answer's plaintext that was verified. */
  answerPlaintext?: string;
  /** Why the outcome is UNKNOWN or why delivery is what it is (transport error code, status...). */
  cause?: string;
  elapsedMs: number;
}

/** The gateway as the payment engine sees it. Never throws for a bad answer or a transport error. */
export interface Gateway {
  micropay(fields: MicropayFields): Promise<CallResult<'micropay'>>;
  queryOrder(fields: QueryOrderFields): Promise<CallResult<'queryOrder'>>;
  cancelOrder(fields: CancelOrderFields): Promise<CallResult<'cancelOrder'>>;
  closeOrder(fields: CloseOrderFields): Promise<CallResult<'closeOrder'>>;
  refund(fields: RefundFields): Promise<CallResult<'refund'>>;
  refundQuery(fields: RefundQueryFields): Promise<CallResult<'refundQuery'>>;
}
