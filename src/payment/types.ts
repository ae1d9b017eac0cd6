// The payment engine's vocabulary: what a customer payment asks and gets, the hooks it calls, its timing and
// options, the events it emits (the public contract in docs/ARCHITECTURE.md; engine.ts re-exports all of it).
import type { Logger } from '../log.js';
import type { Gateway, Merchant } from '../umpay/types.js';
import type { Journal, OrderState } from '../journal/journal.js';
import type { Clock } from '../clock.js';
import { DEFAULTS } from '../config/defaults.js';

export interface PaymentRequest {
  authCode: string;
  amountFen: number;
  goodsId?: string;
  goodsInfo?: string;
  /** MDB: the vending machine's product number and its price as the machine sent it (journaled with the order). */
  productId?: string;
  vendPrice?: string;
}

/** The journal event that proves a drop (the vend sensor saw the product leave). */
export const VEND_SENSED = 'vend sensed';

/** What the vending machine reported about an approved vend found at recovery (MDB, docs/mdb.md). */
export type VendReport = 'success' | 'failed' | 'unknown';

/** What the deliver hook can hand the engine while it releases: evidence, journaled at once. */
export interface DeliverEvidence {
  /** The sensor saw the product drop (called at once, before the pulse may have ended). */
  sensed(): void;
  /** MDB: the approval is sent to the machine next (journaled first; `detail` is the line). */
  approving(detail: string): void;
}

export type RefusalReason = 'bad-code' | 'duplicate' | 'busy' | 'clock' | 'platform-clock' | 'offline' | 'stopping';

export type CustomerResult =
  | { kind: 'approved'; orderNo: string } // verified paid, product released, order delivered
  | { kind: 'declined'; orderNo: string; code: string; reason: string } // the platform said not paid
  // Unclear within the window (being reversed), or paid but the product did not come out (vend: being refunded).
  | { kind: 'not-charged'; orderNo: string; reason: string; vend?: 'failed' | 'sensor-fault' }
  // Never sent. `orderNo` only when an order was journaled (offline: every send provably never left).
  | { kind: 'refused'; reason: RefusalReason; detail: string; orderNo?: string };

export interface PayHooks {
  /**
   * Releases the product (pulses the vend relay, or approves the machine's vend over MDB); the order is marked
   * delivered only after it resolves. 'vend-success': the machine itself reported the vend (the cause journaled).
   */
  deliver(orderNo: string, evidence: DeliverEvidence): Promise<void | 'vend-success'>;
  /**
   * MDB: why the product can no longer be released (the kiosk denied the vend, or the machine ended the session),
   * or null. Asked when the payment is verified, before anything is released: a reason refunds it at once.
   */
  releasable?(): string | null;
  /**
   * 'sending' | 'waiting' (querying while the customer waits) | 'offline' (retrying an unsent request) | 'paying' (the
   * platform says the customer is confirming on their phone).
   */
  progress?(state: string): void;
}

export interface Timing {
  /** How long the customer is expected to wait for a verdict, from the scan. */
  customerWindowMs: number;
  /** Between queries while the customer waits. */
  queryIntervalMs: number;
  /** How long after the scan a payment code may still be sent (an unsent request is retried until then). */
  codeValidityMs: number;
  /** First delay before re-sending a request that provably never left (doubles, capped at 5 s). */
  notSentRetryMs: number;
  /** Background retries (reversal, refund, recovery): exponential from base to max, with jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Background attempts per order before it is put in `attention`. */
  effortAttempts: number;
  /** Pace of retries for orders in `attention`. */
  attentionRetryMs: number;
  /** Background requests in flight at once (recovery never floods the gateway). */
  concurrency: number;
  /** At least this long between the starts of two background requests. */
  minRequestIntervalMs: number;
}

export const DEFAULT_TIMING: Timing = {
  customerWindowMs: DEFAULTS.payment.customerWindowMs,
  queryIntervalMs: DEFAULTS.payment.queryIntervalMs,
  codeValidityMs: DEFAULTS.payment.codeValidityMs,
  notSentRetryMs: 1_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  effortAttempts: 8,
  attentionRetryMs: 300_000,
  concurrency: DEFAULTS.payment.recoveryConcurrency,
  minRequestIntervalMs: 50,
};

export interface EngineOptions {
  journal: Journal;
  gateway: Gateway;
  merchant: Merchant;
  deviceId: string;
  goods: { goodsId: string; goodsInfo: string };
  timing?: Partial<Timing>;
  clock?: Clock;
  log?: Logger;
  /** Why the clock cannot be trusted now, or null. Default: build-date floor + systemd-timesyncd flag. */
  clockCheck?: (now: number) => string | null;
  /**
   * Why the clock disagrees with the payment platform's now, or null (umpay/platform-clock.ts, from its answers).
   * Default: never (no platform clock known).
   */
  platformClockCheck?: () => string | null;
  /** For jitter; injectable for deterministic tests. */
  random?: () => number;
  /**
   * MDB: for an order found at recovery whose approval was sent to the machine (journaled `vend-approved`), what
   * the machine reports next. Absent: unknown (refunded, flagged delivery-uncertain).
   */
  vendReport?: (order: { orderNo: string; productId: string | null }) => Promise<VendReport>;
}

export interface TransitionEvent {
  orderNo: string;
  from: OrderState | null;
  to: OrderState;
  cause: string;
}

export interface EngineStats {
  requests: number;
  inFlight: number;
  maxInFlight: number;
  rateLimited: number;
}

/** The instant of a scan on both clocks: wall for orderTime, monotonic for every deadline. */
export interface Scan {
  wall: number;
  mono: number;
}

export type StepResult = { kind: 'moved' } | { kind: 'wait'; why: string };
