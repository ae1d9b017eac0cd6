// What the customer path and the background work share: the order's moves through the journal (from the state
// the caller read; the journal checks them against the transition table), the event a call's result is journaled
// as, the reading of answers (is it about our order?), the choice of reversal, and the engine's clocks and stop.
import type { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { CallResult, Gateway, QueryOutcome, RefundQueryOutcome } from '../umpay/types.js';
import { notAboutOrder, payTimeDoubt } from '../umpay/outcome.js';
import { formatOrderTime } from '../umpay/messages.js';
import { isFinal, type CauseKind, type EventInput, type Journal, type OrderPatch, type OrderRow, type OrderState } from '../journal/journal.js';
import { Halted, isoNow, type Clock } from '../clock.js';
import type { Called, Scheduler } from './scheduler.js';
import type { Timing, TransitionEvent } from './types.js';

/** The customer path and the background work: the engine's parts they use, by name. */
export abstract class EngineWork {
  protected readonly journal: Journal;
  protected readonly gateway: Gateway;
  protected readonly clock: Clock;
  protected readonly log: Logger;
  protected readonly timing: Timing;

  constructor(protected readonly core: EngineCore) {
    ({ journal: this.journal, gateway: this.gateway, clock: this.clock, log: this.log, timing: this.timing } = core);
  }
}

export class EngineCore {
  /** Set by stop(): no new payment, no new re-send. */
  stopping = false;
  /** When this process first knew each open order (monotonic): the scan, or the recovery that found it. */
  readonly firstSeen = new Map<string, number>();

  constructor(
    readonly journal: Journal,
    readonly gateway: Gateway,
    readonly clock: Clock,
    readonly log: Logger,
    readonly timing: Timing,
    readonly calls: Scheduler,
    /** The engine: 'transition' and 'attention' are emitted on it. */
    readonly events: EventEmitter,
    /** Aborted by stop(): sleeps reject, nothing more is written (Halted). */
    readonly halt: AbortController,
  ) {}

  get halted(): boolean {
    return this.halt.signal.aborted;
  }

  /**
   * paid/delivering (or a reversal that found the order paid) → refunding, or → reversing by cancelOrder when
   * same-day WeChat/Alipay. `o` is the order as the caller read it (its state is the transition's `from`).
   */
  startRefund(o: OrderRow, kind: CauseKind, cause: string, patch: OrderPatch, allowCancel = true): void {
    if (allowCancel && this.reversalFor(o) === 'cancelOrder') {
      this.move(o, 'reversing', { kind, cause }, { ...patch, reversal: 'cancelOrder' });
      return;
    }
    this.move(o, 'refunding', { kind, cause }, { ...patch, refundNo: o.refundNo ?? `${o.orderNo}R1`, refundTime: o.refundTime ?? formatOrderTime(this.clock.wall()), refundAmt: o.txnAmt, refundAccepted: false });
  }

  /** cancelOrder reverses WeChat/Alipay the same day (paid or not); otherwise closeOrder (refund if paid). */
  reversalFor(o: OrderRow): 'cancelOrder' | 'closeOrder' {
    const sameDay = o.orderTime.slice(0, 8) === formatOrderTime(this.clock.wall()).slice(0, 8);
    return sameDay && (o.orderType === 'wechat' || o.orderType === 'alipay') ? 'cancelOrder' : 'closeOrder';
  }

  /**
   * A query answer about another order (same number used before, by a lost, restored or cloned journal) is
   * never taken as ours: every field that names an order must fit it (umpay/outcome.ts notAboutOrder). For
   * `release` (the product is released on it) a paid answer must also not say it was paid before the order was
   * made (payTimeDoubt); for `money-back` (a reversal or refund decides on it) no clock is read: money the platform
   * reports it holds for our orderNo, amount and orderType is given back whatever the clocks say (issue 24).
   */
  aboutOurs(res: CallResult<'queryOrder'>, o: OrderRow, purpose: 'release' | 'money-back'): QueryOutcome {
    // Unclear, or no such order (only a NOT_PAID outcome has a state): nothing in the answer to hold against our order.
    if (res.outcome.kind === 'UNKNOWN' || (res.outcome as { state?: string }).state === 'no-such-order') return res.outcome;
    const off = notAboutOrder(res.answer, o);
    if (off) return { kind: 'UNKNOWN', cause: `not about this order: ${off}` };
    if (purpose === 'money-back' || res.outcome.kind !== 'PAID') return res.outcome;
    const doubt = payTimeDoubt(res.answer, o);
    return doubt ? { ...res.outcome, doubt } : res.outcome;
  }

  /** The same for a refundQuery answer: it must name our order, our serial and our refund amount. */
  refundAboutOurs(res: CallResult<'refundQuery'>, o: OrderRow): RefundQueryOutcome {
    const a = res.answer as Record<string, unknown> | undefined;
    if (res.outcome.kind === 'UNKNOWN' || !a) return res.outcome;
    // An empty text is said too, and falsy: each check below ignores it.
    const said = (k: string): string | undefined => (typeof a[k] === 'string' || typeof a[k] === 'number' ? String(a[k]) : undefined);
    const off =
      (said('orderNo') && said('orderNo') !== o.refundNo && `answer is about refund ${said('orderNo')}, not ${o.refundNo}`) ||
      (said('origOrderNo') && said('origOrderNo') !== o.orderNo && `answer is about a refund of ${said('origOrderNo')}, not ${o.orderNo}`) ||
      (said('txnAmt') && o.refundAmt && said('txnAmt') !== o.refundAmt && `answer says refund txnAmt ${said('txnAmt')}, ours is ${o.refundAmt}`);
    return off ? { kind: 'UNKNOWN', cause: `not about this refund: ${off}` } : res.outcome;
  }

  finalForNotPaid(q: Extract<QueryOutcome, { kind: 'NOT_PAID' }>, reversalAsked: boolean): OrderState {
    if (q.state === 'refunded') return 'refunded';
    if (q.state === 'failed') return 'failed';
    return reversalAsked ? 'reversed' : 'failed';
  }

  /**
   * One transition from the state the caller read (`o.state`): the journal refuses it if that is stale or not in the
   * table.
   */
  move(o: OrderRow, to: OrderState, event: EventInput, patch: OrderPatch = {}): OrderRow {
    if (to !== 'delivered') this.checkHalted();
    const row = this.journal.transition(o.orderNo, [{ from: o.state, to, event, patch }], this.iso());
    this.emitTransition({ orderNo: o.orderNo, from: o.state, to, cause: event.cause });
    return row;
  }

  emitTransition(t: TransitionEvent): void {
    const level = isFinal(t.to) || t.to === 'attention' ? 'info' : 'debug';
    this.log[level]({ event: 'transition', ...t }, `${t.orderNo}: ${t.from ?? '-'} → ${t.to} (${t.cause})`);
    this.events.emit('transition', t);
  }

  /** The journal's event for a call's result: an answer, or (`threw`) the call itself threw. */
  eventOf(res: Called): EventInput {
    const a = res.answer as Record<string, unknown> | undefined;
    const out = res.outcome as { kind: string; code?: string; reason?: string; cause?: string };
    return {
      kind: res.threw ? 'threw' : 'answer',
      cause: res.threw ? `${res.call}: threw` : `${res.call}: ${out.kind}`,
      call: res.call,
      respCode: typeof a?.respCode === 'string' ? a.respCode : out.code,
      respMsg: typeof a?.respMsg === 'string' ? a.respMsg.slice(0, 200) : out.reason,
      delivery: res.delivery,
      detail: out.cause ?? res.cause ?? (typeof a?.origRespCode === 'string' ? `origRespCode ${a.origRespCode}` : undefined),
    };
  }

  checkHalted(): void {
    if (this.halted) throw new Halted();
  }

  iso(): string {
    return isoNow(this.clock);
  }

  /**
   * The scan on this clock: journaled by this boot (any process), else (another boot, an old journal) the
   * moment this process first knew the order. That is later than the scan, so "the code's validity is over"
   * is never concluded early; the wall clock is never used (it may have been stepped since).
   */
  scannedMono(o: OrderRow): number {
    return o.scannedMono !== null && o.bootId === this.clock.bootId ? o.scannedMono : this.seen(o.orderNo);
  }

  seen(orderNo: string): number {
    let at = this.firstSeen.get(orderNo);
    if (at === undefined) this.firstSeen.set(orderNo, (at = this.clock.mono()));
    return at;
  }
}
