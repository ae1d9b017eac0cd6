// Background work: every order the customer path did not finish, and every unfinished order found at start, is
// driven to a final state, one gateway exchange at a time (reverse with cancelOrder/closeOrder, refund and confirm
// with refundQuery), retried with backoff; after a bounded effort it is put in `attention` and retried slowly,
// never dropped. An order found mid-payment (created, unknown, paid, delivering) is settled the customer-safe way.
import { formatOrderTime } from '../umpay/messages.js';
import type { OrderRow, OrderState } from '../journal/journal.js';
import { Halted } from '../clock.js';
import { crashPoint } from './crash.js';
import { EngineWork, type EngineCore } from './core.js';
import type { Called } from './scheduler.js';
import { VEND_SENSED, type EngineOptions, type StepResult } from './types.js';

// Codes by which the platform says a request with this serial already exists (the refund was received).
// Not 16: that is "used with other fields", i.e. someone else's refund (a refused, notOurs answer).
const ALREADY_EXISTS = new Set(['12']);

/** The order moved: the next step follows at once (and the effort starts again). */
const MOVED: StepResult = { kind: 'moved' };
/** Nothing moved: retried after a backoff. (A 37 needs nothing here: the scheduler pauses every call after one.) */
// Stryker disable next-line StringLiteral: drive() only tells 'moved' from anything else
const wait = (why: string): StepResult => ({ kind: 'wait', why });

export class Background extends EngineWork {
  /** The order being driven, by number (one drive per order at a time). */
  readonly drives = new Map<string, Promise<void>>();

  constructor(
    core: EngineCore,
    /** Called when a drive ends (the engine may be idle now). */
    private readonly idle: () => void,
    /** MDB: what the machine reports about an approval found at recovery (engine option vendReport). */
    private readonly vendReport?: EngineOptions['vendReport'],
  ) {
    super(core);
  }

  /** Drives an order to a final state in the background (once per order at a time). */
  background(orderNo: string): void {
    if (this.drives.has(orderNo) || this.core.halted) return;
    const run = this.drive(orderNo)
      .catch((err: unknown) => {
        if (err instanceof Halted) return;
        // A bug or a journal failure: the order stays in the journal and is resumed by the next start.
        this.log.error({ event: 'drive-error', orderNo, err }, `background work on ${orderNo} failed: ${(err as Error)?.message}`);
        this.core.events.emit('attention', { orderNo, reason: `internal error: ${(err as Error)?.message}` });
      })
      .finally(() => {
        this.drives.delete(orderNo);
        // Stryker disable next-line OptionalChaining: the order exists (it was being driven)
        if (this.journal.get(orderNo)?.final !== false) this.core.firstSeen.delete(orderNo);
        this.idle();
      });
    this.drives.set(orderNo, run);
  }

  private async drive(orderNo: string): Promise<void> {
    let effort = 0;
    for (;;) {
      this.core.checkHalted();
      const o = this.journal.get(orderNo);
      // Stryker disable next-line ConditionalExpression,LogicalOperator: a final order's step waits, then returns below
      if (!o || o.final) return;
      const r = await this.step(o);
      this.core.checkHalted();
      if (r.kind === 'moved') {
        effort = 0;
        continue;
      }
      effort++;
      const now = this.journal.get(orderNo)!;
      // Stryker disable next-line ConditionalExpression: the next iteration returns on a final order anyway
      if (now.final) return;
      // The state after this iteration's move: the first retry in attention already waits attentionRetryMs.
      let state = now.state;
      if (state !== 'attention' && effort >= this.timing.effortAttempts) {
        const reason = `not finished after ${effort} attempts: ${r.why}`;
        state = this.core.move(now, 'attention', { kind: 'effort-spent', cause: 'bounded effort spent', detail: r.why }, { resumeState: now.state, reason }).state;
        this.log.error({ event: 'attention', orderNo, state: now.state, reason }, `order ${orderNo} needs attention: ${reason}`);
        this.core.events.emit('attention', { orderNo, reason });
      }
      const delay = state === 'attention' ? this.core.calls.jitter(this.timing.attentionRetryMs) : this.core.calls.backoff(effort, this.timing.backoffBaseMs, this.timing.backoffMaxMs);
      await this.clock.sleep(delay, this.core.halt.signal);
    }
  }

  /** One exchange with the gateway for the order's phase, recorded in the journal. */
  private async step(o: OrderRow): Promise<StepResult> {
    // Stryker disable next-line StringLiteral: attention always has its resumeState (not in journals before v5)
    const phase: OrderState = o.state === 'attention' ? (o.resumeState ?? 'reversing') : o.state;
    switch (phase) {
      case 'created':
        if (o.sendAttempts === o.notSent) {
          // Every send provably never left (the process died while retrying): nothing to reverse.
          this.core.move(o, 'failed-not-sent', { kind: 'recovery', cause: 'recovery', detail: 'every send provably never left' }, { reason: 'not sent: gateway unreachable; found at recovery' });
          return MOVED;
        }
        this.core.move(o, 'reversing', { kind: 'recovery', cause: 'recovery', detail: 'micropay may have been sent; the customer is gone' }, { reversal: this.core.reversalFor(o), reason: 'interrupted before the answer was recorded' });
        return MOVED;
      case 'unknown':
        this.core.move(o, 'reversing', { kind: 'recovery', cause: 'recovery', detail: 'no verdict; the customer is gone' }, { reversal: this.core.reversalFor(o), reason: 'no verdict before the customer left' });
        return MOVED;
      case 'paid':
        this.core.startRefund(o, 'recovery', 'paid after the customer left', { reason: 'paid, product never released' });
        return MOVED;
      case 'delivering': {
        const events = this.journal.events(o.orderNo);
        if (o.productId !== null && !events.some((e) => e.cause === VEND_SENSED)) return this.recoverVend(o, events.some((e) => e.kind === 'vend-approved'));
        if (events.some((e) => e.cause === VEND_SENSED)) {
          // The vend sensor saw the product drop before the interruption: it is out, no refund.
          this.core.move(o, 'delivered', { kind: 'vend-sensed', cause: 'recovery: vend sensed before the interruption' }, { reason: 'delivered: the vend sensor saw the drop (journaled) before the daemon stopped' });
          return MOVED;
        }
        // Ambiguous: the relay may or may not have pulsed. Customer-safe rule: give the money back and
        // tell the operator the product may have been released too.
        const reason = 'interrupted while releasing the product: refunded; the product may have been released';
        this.core.startRefund(o, 'recovery', 'recovery: delivery uncertain', { flag: 'delivery-uncertain', reason });
        this.log.error({ event: 'delivery-uncertain', orderNo: o.orderNo }, reason);
        this.core.events.emit('attention', { orderNo: o.orderNo, reason });
        return MOVED;
      }
      case 'reversing':
        return this.reverseStep(o);
      case 'refunding':
        return this.refundStep(o);
      // Unreachable: drive() steps only unfinished orders, and each of their states has its case.
      // Stryker disable next-line ConditionalExpression: see above
      default:
        // Stryker disable next-line StringLiteral: see above
        return wait(`nothing to do for state ${phase}`);
    }
  }

  /**
   * MDB (docs/mdb.md): an order interrupted while the machine was vending. The approval never went out (no
   * `vend-approved` journaled before it): nothing was released, the money goes back. It did: the machine's next
   * report decides — success: delivered; failure: refunded; anything else (it went idle, a new selection, no report
   * in time): refunded and flagged, the customer is charged only for what the machine reports it vended.
   */
  private async recoverVend(o: OrderRow, approved: boolean): Promise<StepResult> {
    if (!approved) {
      this.core.startRefund(o, 'recovery', 'recovery: vend never approved', { reason: 'interrupted before the machine was sent the approval: nothing was released; refunded' });
      return MOVED;
    }
    // No way to ask the machine (no vendReport) is no report: the last case below.
    const report = await this.vendReport?.({ orderNo: o.orderNo, productId: o.productId });
    this.core.checkHalted();
    const now = this.journal.get(o.orderNo)!;
    if (now.state !== 'delivering') return MOVED;
    if (report === 'success') {
      this.core.move(now, 'delivered', { kind: 'vend-success', cause: 'recovery: the machine reported the vend' }, { reason: 'delivered: the machine reported the vend after the interruption' });
      return MOVED;
    }
    if (report === 'failed') {
      this.core.startRefund(now, 'vend-failed', 'recovery: the machine reported the vend failed', { flag: 'vend-failed', reason: 'the machine reported the vend failed after the interruption: refunded' });
      return MOVED;
    }
    const reason = 'interrupted after the machine was sent the approval and it reported no vend: refunded; the product may have been released';
    this.core.startRefund(now, 'recovery', 'recovery: no vend report', { flag: 'delivery-uncertain', reason });
    this.log.error({ event: 'delivery-uncertain', orderNo: o.orderNo }, reason);
    this.core.events.emit('attention', { orderNo: o.orderNo, reason });
    return MOVED;
  }

  private async reverseStep(o: OrderRow): Promise<StepResult> {
    // cancelOrder only works the order's own day: chosen before midnight, it is closeOrder after (then refund if paid).
    const call = o.reversal === 'cancelOrder' ? this.core.reversalFor(o) : (o.reversal ?? this.core.reversalFor(o));
    const res = await this.core.calls.backgroundCall(call, () => (call === 'cancelOrder' ? this.gateway.cancelOrder({ orderNo: o.orderNo }) : this.gateway.closeOrder({ orderNo: o.orderNo })));
    // Stryker disable next-line StringLiteral: a step's name matters only to KIOSK_CRASH_AT (crash.ts): test/crash
    crashPoint('mid-reversal');
    this.core.checkHalted();
    const out = res.outcome;
    if (out.kind === 'DONE') {
      this.core.move(o, 'reversed', this.core.eventOf(res), { reason: call === 'cancelOrder' ? 'cancelled (reversed) at the platform' : 'closed at the platform: can no longer be paid' });
      return MOVED;
    }
    // The platform's rate limit: not processed, and a query now would be refused too. Only an unclear outcome carries
    // rateLimited (read without testing the kind: `true && rateLimited` would be a mutant no test can tell apart).
    const limited = out as { rateLimited?: boolean; cause?: string };
    if (limited.rateLimited) return wait(`${call}: ${limited.cause}`);
    // Refused, or unclear (a `99`, no answer: it may or may not have arrived): the order's state at the platform
    // decides what comes next. Everything unclear is queried until final: a reversal that never answers clearly
    // must not keep a paid order's money, nor leave a closed one open.
    const said = out.kind === 'UNKNOWN' ? `unclear (${out.cause})` : `refused (${out.code})`;
    this.journal.note(o.orderNo, o.state, this.core.eventOf(res), this.core.iso());
    const qr = await this.core.calls.backgroundCall('queryOrder', () => this.gateway.queryOrder({ orderNo: o.orderNo, transactionId: o.transactionId ?? undefined }));
    this.core.checkHalted();
    // Stryker disable next-line StringLiteral: the same kinds for any purpose but 'release' (doubt only there)
    const q = this.core.aboutOurs(qr, o, 'money-back');
    if (q.kind === 'PAID') {
      this.core.startRefund(o, 'answer', `${call} ${said}, order paid`, { transactionId: q.transactionId }, false);
      return MOVED;
    }
    if (q.kind === 'NOT_PAID') {
      if (q.state === 'no-such-order') {
        // A cancel the platform refused for an order it does not know: close it instead (an unclear one is sent again).
        if (call === 'cancelOrder' && out.kind === 'REFUSED') {
          this.journal.note(o.orderNo, o.state, { ...this.core.eventOf(qr), cause: 'no such order: close it instead' }, this.core.iso(), { reversal: 'closeOrder' });
          return MOVED;
        }
        // The platform has never seen it (the close refused, or the reversal unclear): once the code's validity is
        // over, a late copy of the request could not charge anyone.
        if (this.clock.mono() > this.core.scannedMono(o) + this.timing.codeValidityMs) {
          this.core.move(o, 'reversed', { ...this.core.eventOf(qr), kind: 'code-expired' }, { reason: `platform has no such order (${q.code}) and the code's validity is over: not charged` });
          return MOVED;
        }
        return wait('no such order yet; waiting until the code has expired');
      }
      this.core.move(o, this.core.finalForNotPaid(q, true), this.core.eventOf(qr), { respCode: q.code, respMsg: q.reason, reason: `platform: ${q.state} (${q.code} ${q.reason})` });
      return MOVED;
    }
    if (q.kind === 'PENDING' && call === 'cancelOrder' && out.kind === 'REFUSED') {
      this.journal.note(o.orderNo, o.state, { ...this.core.eventOf(qr), cause: `cancel refused (${out.code}) while paying: close instead` }, this.core.iso(), { reversal: 'closeOrder' });
      return wait(`cancel refused ${out.code}; order still paying`);
    }
    return wait(`${call} ${out.kind === 'UNKNOWN' ? said : `refused ${out.code} ${out.reason}`}; query: ${q.kind}`);
  }

  private async refundStep(o: OrderRow): Promise<StepResult> {
    if (!o.refundAccepted) {
      const res = await this.core.calls.backgroundCall('refund', () =>
        this.gateway.refund({ orderTime: o.refundTime!, origOrderNo: o.orderNo, origTxnAmt: o.txnAmt, orderNo: o.refundNo!, txnAmt: o.refundAmt! }),
      );
      // Stryker disable next-line StringLiteral: a step's name matters only to KIOSK_CRASH_AT (crash.ts): test/crash
      crashPoint('mid-refund');
      this.core.checkHalted();
      const out = res.outcome;
      // Stryker disable next-line ConditionalExpression: only a REFUSED refund outcome carries a code of ALREADY_EXISTS
      if (out.kind === 'ACCEPTED' || (out.kind === 'REFUSED' && ALREADY_EXISTS.has(out.code))) {
        this.journal.note(o.orderNo, o.state, this.core.eventOf(res), this.core.iso(), { refundAccepted: true });
        return MOVED;
      }
      // Stryker disable next-line ConditionalExpression: only a REFUSED refund outcome carries notOurs
      if (out.kind === 'REFUSED' && out.notOurs) {
        // The serial belongs to another refund (an older journal used this order number): a new serial.
        this.newRefundSerial(o, res, 'refund serial used by another refund: new refund serial');
        return wait(`refund ${o.refundNo}: ${out.code} ${out.reason}`);
      }
      if (out.kind === 'REFUSED') {
        this.journal.note(o.orderNo, o.state, this.core.eventOf(res), this.core.iso());
        const qr = await this.core.calls.backgroundCall('queryOrder', () => this.gateway.queryOrder({ orderNo: o.orderNo, transactionId: o.transactionId ?? undefined }));
        this.core.checkHalted();
        // Stryker disable next-line StringLiteral: the same kinds for any purpose but 'release' (doubt only there)
        const q = this.core.aboutOurs(qr, o, 'money-back');
        // "No such order" or "failed" contradicts the payment we hold: not final on its word (retried, then attention).
        if (q.kind === 'NOT_PAID' && q.state !== 'no-such-order' && q.state !== 'failed') {
          // Already refunded, cancelled or closed: no money with the merchant any more.
          this.core.move(o, q.state === 'refunded' ? 'refunded' : 'reversed', this.core.eventOf(qr), { reason: `platform: ${q.state} (${q.code} ${q.reason})` });
          return MOVED;
        }
        return wait(`refund refused ${out.code} ${out.reason}${q.kind === 'NOT_PAID' ? `; query: ${q.state} (${q.code}) for a paid order` : ''}`);
      }
      // Unclear whether the refund arrived: ask, then re-send the same serial if it did not.
      const rq0 = await this.core.calls.backgroundCall('refundQuery', () => this.gateway.refundQuery({ orderNo: o.refundNo! }));
      this.core.checkHalted();
      const rq = { ...rq0, outcome: this.core.refundAboutOurs(rq0, o) };
      if (rq.outcome.kind === 'REFUNDED') {
        this.core.move(o, 'refunded', this.core.eventOf(rq), { reason: 'refunded' });
        return MOVED;
      }
      // Known to the platform (in progress, or failed: then the next step issues a new serial, never this one again).
      if (rq.outcome.kind === 'PENDING' || rq.outcome.kind === 'FAILED') {
        this.journal.note(o.orderNo, o.state, this.core.eventOf(rq), this.core.iso(), { refundAccepted: true });
        return MOVED;
      }
      return wait(`refund: ${out.cause}`);
    }
    const rq = await this.core.calls.backgroundCall('refundQuery', () => this.gateway.refundQuery({ orderNo: o.refundNo! }));
    // Stryker disable next-line StringLiteral: a step's name matters only to KIOSK_CRASH_AT (crash.ts): test/crash
    crashPoint('mid-refund-query');
    this.core.checkHalted();
    const out = this.core.refundAboutOurs(rq, o);
    if (out.kind === 'REFUNDED') {
      this.core.move(o, 'refunded', this.core.eventOf(rq), { reason: 'refunded' });
      return MOVED;
    }
    if (out.kind === 'FAILED') {
      // The platform says this refund failed: a new serial (the platform caps refunds at the paid amount).
      this.newRefundSerial(o, rq, 'refund failed: new refund serial');
      return wait(`refund ${o.refundNo} failed: ${out.code} ${out.reason}`);
    }
    return wait(out.kind === 'PENDING' ? 'refund in progress' : `refundQuery: ${out.cause}`);
  }

  private newRefundSerial(o: OrderRow, res: Called, cause: string): void {
    // Stryker disable next-line OptionalChaining,StringLiteral: refundNo is always set while refunding
    const n = Number(/R(\d+)$/.exec(o.refundNo ?? '')?.[1] ?? '1') + 1;
    this.journal.note(o.orderNo, o.state, { ...this.core.eventOf(res), cause }, this.core.iso(), {
      refundNo: `${o.orderNo}R${n}`,
      refundTime: formatOrderTime(this.clock.wall()),
      refundAccepted: false,
    });
  }
}
