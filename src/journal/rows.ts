// The journal's rows as the program sees them (orders, events, what a transition may patch, a new order) and how
// they map to SQLite columns. Plain data: no SQL runs here.
import type { CauseKind, OrderState } from './states.js';

export interface OrderRow {
  orderNo: string;
  seq: number;
  state: OrderState;
  final: boolean;
  orderTime: string;
  txnAmt: string;
  orderType: string;
  /** The payment code: present only while the order is not final. Never log it. */
  authCode: string | null;
  authMask: string;
  goodsId: string;
  goodsInfo: string;
  acqSpId: string;
  acqMerId: string;
  transactionId: string | null;
  /** micropay sends started (each counted before it starts) and how many of them provably never left. */
  sendAttempts: number;
  notSent: number;
  respCode: string | null;
  respMsg: string | null;
  reversal: 'cancelOrder' | 'closeOrder' | null;
  refundNo: string | null;
  refundTime: string | null;
  refundAmt: string | null;
  refundAccepted: boolean;
  resumeState: OrderState | null;
  reason: string | null;
  flag: string | null;
  /** yyyyMMdd the platform settles the order on (its paid answer's stlDate), when it said. */
  stlDate: string | null;
  /** Wall clock ms of the scan (for people; orderTime was made from it). */
  scannedAt: number;
  /** The scan on the monotonic clock of boot `bootId` (null for orders journaled before schema v6). */
  scannedMono: number | null;
  bootId: string | null;
  /** The vending machine's product number and its price text, for an order paid over MDB (null otherwise). */
  productId: string | null;
  vendPrice: string | null;
  createdAt: string;
  updatedAt: string;
}

/** An order as shown outside the engine (CLI, reports): no payment code. */
export type PublicOrder = Omit<OrderRow, 'authCode'>;

export interface EventRow {
  id: number;
  orderNo: string;
  at: string;
  from: string | null;
  to: string;
  cause: string;
  call: string | null;
  respCode: string | null;
  respMsg: string | null;
  delivery: string | null;
  detail: string | null;
  /** Why (states.ts CAUSE_KINDS); null for events journaled before schema v7. */
  kind: CauseKind | null;
}

export interface EventInput {
  /** Checked against the table (states.ts): the transition's, or for a note what the state may record. */
  kind: CauseKind;
  cause: string;
  call?: string;
  respCode?: string;
  respMsg?: string;
  delivery?: string;
  detail?: string;
}

/** Order fields a transition may change. */
export type OrderPatch = Partial<
  Pick<
    OrderRow,
    | 'transactionId'
    | 'sendAttempts'
    | 'notSent'
    | 'respCode'
    | 'respMsg'
    | 'reversal'
    | 'refundNo'
    | 'refundTime'
    | 'refundAmt'
    | 'refundAccepted'
    | 'resumeState'
    | 'reason'
    | 'flag'
    | 'stlDate'
  >
>;

export interface NewOrder {
  deviceId: string;
  /** yyyyMMdd, for people and the settlement file (uniqueness comes from the run id and the sequence). */
  date: string;
  orderTime: string;
  txnAmt: string;
  orderType: string;
  authCode: string;
  authMask: string;
  goodsId: string;
  goodsInfo: string;
  acqSpId: string;
  acqMerId: string;
  scannedAt: number;
  /** The scan on the monotonic clock, and that clock's boot (Clock.bootId). */
  scannedMono?: number;
  bootId?: string;
  /** MDB: the machine's product number and price text (docs/mdb.md). */
  productId?: string;
  vendPrice?: string;
  at: string;
}

export interface OpenOptions {
  readonly?: boolean;
  /** Milliseconds a statement waits for another connection's lock. */
  busyTimeoutMs?: number;
}

export const COLUMNS: Record<keyof OrderRow, string> = {
  orderNo: 'order_no',
  seq: 'seq',
  state: 'state',
  final: 'final',
  orderTime: 'order_time',
  txnAmt: 'txn_amt',
  orderType: 'order_type',
  authCode: 'auth_code',
  authMask: 'auth_mask',
  goodsId: 'goods_id',
  goodsInfo: 'goods_info',
  acqSpId: 'acq_sp_id',
  acqMerId: 'acq_mer_id',
  transactionId: 'transaction_id',
  sendAttempts: 'send_attempts',
  notSent: 'not_sent',
  respCode: 'resp_code',
  respMsg: 'resp_msg',
  reversal: 'reversal',
  refundNo: 'refund_no',
  refundTime: 'refund_time',
  refundAmt: 'refund_amt',
  refundAccepted: 'refund_accepted',
  resumeState: 'resume_state',
  reason: 'reason',
  flag: 'flag',
  stlDate: 'stl_date',
  scannedAt: 'scanned_at',
  scannedMono: 'scanned_mono',
  bootId: 'boot_id',
  productId: 'product_id',
  vendPrice: 'vend_price',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};
export const BOOLEAN_FIELDS = new Set(['final', 'refundAccepted']);
export const PUBLIC_SELECT = (Object.keys(COLUMNS) as (keyof OrderRow)[])
  .filter((k) => k !== 'authCode')
  .map((k) => `${COLUMNS[k]} AS ${k}`)
  .join(', ');
export const FULL_SELECT = (Object.keys(COLUMNS) as (keyof OrderRow)[]).map((k) => `${COLUMNS[k]} AS ${k}`).join(', ');

/** A row of PUBLIC_SELECT or FULL_SELECT (both have every boolean column) with its 0/1 columns as booleans. */
export function toRow<T>(raw: Record<string, unknown> | undefined): T | undefined {
  if (!raw) return undefined;
  for (const k of BOOLEAN_FIELDS) raw[k] = raw[k] === 1;
  return raw as T;
}

/**
 * Called inside a transition's transaction for each step that changes state (the fleet outbox, see
 * outbox.ts): whatever it writes commits, or rolls back, with the transition, in the same fsync.
 */
export type StepHook = (orderNo: string, from: OrderState, to: OrderState, at: string) => void;
