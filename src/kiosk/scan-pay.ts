// Scan → pay → result: one scanned code sent to the engine for the chosen amount, the product released when the
// engine says so, and what the engine's answer means for the customer (the pattern and screen, what comes next,
// the record of it). The interaction (interaction.ts) calls these from its state machine.
import type { Logger } from '../log.js';
import { maskAuthCode } from '../umpay/authcode.js';
import type { ApprovePort, CustomerResult, DeliverEvidence, EnginePort, Pattern } from './ports.js';
import type { Screen } from './screens.js';
import type { Choice } from './amount.js';
import type { InteractionState } from './customer-view.js';

/** One finished customer, for the demo panel and tests. The code is masked already. */
export interface PaymentRecord {
  code: string;
  amountFen: number;
  result: CustomerResult | { kind: 'error'; detail: string };
  pattern: Pattern;
}

/** The order a result is about, when one was journaled. */
export function orderNoOf(result: PaymentRecord['result']): string | undefined {
  return 'orderNo' in result ? result.orderNo : undefined;
}

/** The pattern and screen each engine answer shows, and whether it is a result (long) or a short signal. */
export function patternFor(result: CustomerResult): { pattern: Pattern; screen: Screen; long: boolean } {
  switch (result.kind) {
    case 'approved':
      return { pattern: 'success', screen: { name: 'paid' }, long: true };
    case 'declined':
      return { pattern: 'failure', screen: { name: 'declined', code: result.code }, long: true };
    case 'not-charged':
      // Never "failure": the platform said nothing final, or the product did not come out; money goes back.
      return { pattern: 'not-charged', screen: result.vend ? { name: 'vend-failed' } : { name: 'not-charged' }, long: true };
    case 'refused':
      switch (result.reason) {
        case 'bad-code':
        case 'duplicate': // the same code again: the customer must refresh it, like any unusable code
          return { pattern: 'bad-code', screen: { name: 'bad-code' }, long: false };
        case 'busy':
        case 'stopping':
          return { pattern: 'not-now', screen: { name: 'not-now', hint: 'wait' }, long: false };
        case 'clock':
          return { pattern: 'clock-fault', screen: { name: 'fault', fault: 'F02' }, long: true };
        case 'platform-clock':
          return { pattern: 'clock-fault', screen: { name: 'fault', fault: 'F05' }, long: true };
        case 'offline':
          return { pattern: 'offline', screen: { name: 'offline' }, long: true };
      }
  }
}

export interface ScanPayDeps {
  engine: EnginePort;
  approve: ApprovePort;
  /**
   * Releases the product and, with a vend sensor, proves it (src/kiosk/vend.ts), or has the vending machine vend it
   * over MDB (src/kiosk/mdb-vend.ts: releasable() says when it no longer can). Absent: approve.pulse.
   */
  vend?: { release(orderNo: string, evidence: DeliverEvidence): Promise<void | 'vend-success'>; releasable?(): string | null };
  approvePulseMs: number;
  log: Logger;
}

/** Sends the scan to the engine; the engine's answer, or what it threw. `approve` is told before the release. */
export function sendScan(deps: ScanPayDeps, authCode: string, choice: Choice, on: { approve(orderNo: string): void; progress(state: string): void }): Promise<CustomerResult> {
  const { log, approvePulseMs } = deps;
  log.info({ event: 'scan', authCode, amountFen: choice.amountFen }, 'payment code scanned');
  return deps.engine.pay(
    {
      authCode,
      amountFen: choice.amountFen,
      goodsId: choice.goodsId,
      goodsInfo: choice.goodsInfo,
      ...(choice.productId !== undefined ? { productId: choice.productId, vendPrice: choice.vendPrice } : {}),
    },
    {
      releasable: deps.vend?.releasable ? () => deps.vend!.releasable!() : undefined,
      deliver: (orderNo, evidence) => {
        log.info({ event: 'approve', orderNo, ms: approvePulseMs }, 'releasing product');
        on.approve(orderNo);
        return deps.vend ? deps.vend.release(orderNo, evidence) : deps.approve.pulse(approvePulseMs);
      },
      progress: (state) => {
        log.debug({ event: 'progress', state }, 'payment progress');
        on.progress(state);
      },
    },
  );
}

/** The record of a finished payment and the state the interaction goes to. */
export interface After {
  record: PaymentRecord;
  next: InteractionState;
}

/**
 * What follows the engine's answer: a result on show (next: the state after it), or at once the next state with a
 * short signal over it. After success the amount is used up (rest); after anything else the customer may try
 * another code for the same choice.
 */
export function afterResult(result: CustomerResult, authCode: string, choice: Choice, rest: InteractionState, retry = true): After & { signal?: { pattern: Pattern; screen: Screen } } {
  const { pattern, screen, long } = patternFor(result);
  const record: PaymentRecord = { code: maskAuthCode(authCode), amountFen: choice.amountFen, result, pattern };
  // retry false: the choice ended with this payment (the vending machine's selection is denied unless approved).
  const next: InteractionState = result.kind === 'approved' || !retry ? rest : { name: 'ready', choice };
  if (long) return { record, next: { name: 'result', pattern, screen, orderNo: orderNoOf(result), next } };
  return { record, next, signal: { pattern, screen } };
}

/**
 * The engine failed in a way it did not classify: we cannot say paid or not, so neither success nor failure is
 * shown; the technician's 'fault' pattern is.
 */
export function afterError(err: unknown, authCode: string, choice: Choice, rest: InteractionState): After {
  const detail = (err as Error)?.message ?? String(err);
  const record: PaymentRecord = { code: maskAuthCode(authCode), amountFen: choice.amountFen, result: { kind: 'error', detail }, pattern: 'fault' };
  return { record, next: { name: 'result', pattern: 'fault', screen: { name: 'fault', fault: 'F03' }, next: rest } };
}
