// The payment state machine: every scanned code ends paid-and-delivered, failed (the platform said so),
// never sent, reversed or refunded. Journal first, network second: each transition is committed before
// the action it announces, so recovery after any crash knows what may have happened.
import { EventEmitter, setMaxListeners } from 'node:events';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { classifyAuthCode, maskAuthCode } from '../umpay/authcode.js';
import type { CallName, CallResult, Gateway, Merchant, MicropayFields, OutcomeByCall, QueryOutcome, RefundQueryOutcome } from '../umpay/types.js';
import { notAboutOrder } from '../umpay/outcome.js';
import { formatOrderNo } from '../journal/orderno.js';
import { buildRequest, formatOrderTime } from '../umpay/messages.js';
import { isFinal, JournalError, type CauseKind, type EventInput, type Journal, type OrderPatch, type OrderRow, type OrderState } from '../journal/journal.js';
import { Halted, isoNow, systemClock, type Clock } from '../clock.js';
import { DEFAULTS } from '../config/types.js';
import { defaultClockCheck } from './clock-check.js';
import { crashPoint } from './crash.js';

export interface PaymentRequest {
  authCode: string;
  amountFen: number;
  goodsId?: string;
  goodsInfo?: string;
}

/** The journal event that proves a drop (the vend sensor saw the product leave). */
export const VEND_SENSED = 'vend sensed';

export type RefusalReason = 'bad-code' | 'duplicate' | 'busy' | 'clock' | 'offline' | 'stopping';

export type CustomerResult =
  | { kind: 'approved'; orderNo: string } // verified paid, product released, order delivered
  | { kind: 'declined'; orderNo: string; code: string; reason: string } // the platform said not paid
  // Unclear within the window (being reversed), or paid but the product did not come out (vend: being refunded).
  | { kind: 'not-charged'; orderNo: string; reason: string; vend?: 'failed' | 'sensor-fault' }
  // Never sent. `orderNo` only when an order was journaled (offline: every send provably never left).
  | { kind: 'refused'; reason: RefusalReason; detail: string; orderNo?: string };

export interface PayHooks {
  /** Releases the product (pulses the vend relay); the order is marked delivered only after it resolves. */
  deliver(orderNo: string, evidence: { sensed(): void }): Promise<void>;
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
  /** For jitter; injectable for deterministic tests. */
  random?: () => number;
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

/** A call's result as the engine journals it: `threw` when the gateway threw instead of answering. */
type Called<C extends CallName = CallName> = CallResult<C> & { threw?: true };

/** The instant of a scan on both clocks: wall for orderTime, monotonic for every deadline. */
interface Scan {
  wall: number;
  mono: number;
}

type StepResult = { kind: 'moved' } | { kind: 'wait'; rateLimited?: boolean; why: string };

// Codes by which the platform says a request with this serial already exists (the refund was received).
// Not 16: that is "used with other fields", i.e. someone else's refund (a refused, notOurs answer).
const ALREADY_EXISTS = new Set(['12']);

/** A FIFO counting semaphore; waiting is abortable. */
class Gate {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(private readonly size: number) {}
  async acquire(signal: AbortSignal): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(go);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Halted());
      };
      const go = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      if (signal.aborted) return reject(new Halted());
      this.waiters.push(go);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
  release(): void {
    this.active--;
    this.waiters.shift()?.();
  }
}

export class PaymentEngine extends EventEmitter {
  readonly timing: Timing;
  readonly stats: EngineStats = { requests: 0, inFlight: 0, maxInFlight: 0, rateLimited: 0 };
  private readonly journal: Journal;
  private readonly gateway: Gateway;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly clockCheck: (now: number) => string | null;
  private readonly halt = new AbortController();
  private readonly gate: Gate;
  private readonly drives = new Map<string, Promise<void>>();
  private customer: Promise<CustomerResult> | null = null;
  /** The order the customer path is driving: recovery (start(), kiosk reconcile) must leave it alone. */
  private customerOrderNo: string | null = null;
  private stopping = false;
  // Monotonic instants (clock.mono()).
  private pausedUntil = -Infinity;
  private penaltyMs = 0;
  private lastBackgroundStart = -Infinity;
  /** When this process first knew each open order (monotonic): the scan, or the recovery that found it. */
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly opts: EngineOptions) {
    super();
    this.journal = opts.journal;
    this.gateway = opts.gateway;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.random = opts.random ?? Math.random;
    this.clockCheck = opts.clockCheck ?? ((now) => defaultClockCheck(now));
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.gate = new Gate(Math.max(1, this.timing.concurrency));
    // Every waiting order listens for the stop signal (recovery may hold a thousand).
    setMaxListeners(0, this.halt.signal);
  }

  private get halted(): boolean {
    return this.halt.signal.aborted;
  }

  /** Resolves at once: every unfinished order is driven to a final state in the background. */
  async start(): Promise<void> {
    const open = this.journal.unfinished();
    if (open.length) this.log.info({ event: 'recovery', unfinished: open.length }, `recovering ${open.length} unfinished order(s)`);
    for (const o of open) {
      this.seen(o.orderNo);
      if (o.orderNo !== this.customerOrderNo) this.background(o.orderNo);
    }
    if (!open.length) this.maybeIdle();
  }

  /** A customer payment is between its scan and its result (the daemon keeps housekeeping syncs out of it). */
  get customerInProgress(): boolean {
    return this.customer !== null;
  }

  /** Orders being driven in the background right now. */
  get pending(): number {
    return this.drives.size;
  }

  /**
   * Refuses new payments, lets a customer payment in progress finish within `graceMs`, then stops all
   * background work. Whatever is not final stays in the journal and is resumed by the next start().
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    if (this.customer) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.customer.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    this.halt.abort();
    // Sleeps reject at once; a gateway call in flight returns later and writes nothing (halted).
    await Promise.race([Promise.allSettled([...this.drives.values()]), new Promise((r) => setTimeout(r, Math.max(0, Math.min(graceMs, 200))))]);
  }

  /** Once idle: no customer payment and no background work. Resolves at once when already idle. */
  whenIdle(): Promise<void> {
    if (!this.customer && this.drives.size === 0) return Promise.resolve();
    return new Promise((r) => this.once('idle', () => r()));
  }

  async pay(req: PaymentRequest, hooks: PayHooks): Promise<CustomerResult> {
    if (this.stopping) return { kind: 'refused', reason: 'stopping', detail: 'the kiosk is shutting down' };
    if (this.customer) return { kind: 'refused', reason: 'busy', detail: 'another payment is in progress' };
    const code = classifyAuthCode(req.authCode);
    if (!code.ok) return { kind: 'refused', reason: 'bad-code', detail: `${maskAuthCode(req.authCode)}: ${code.reason}` };
    if (!Number.isSafeInteger(req.amountFen) || req.amountFen <= 0 || String(req.amountFen).length > 13) {
      // A pricing bug upstream, not a customer error: said clearly, never sent.
      const err = new RangeError(`amountFen must be a whole number of fen from 1 to 13 digits, got ${JSON.stringify(req.amountFen)}`);
      (err as RangeError & { code: string }).code = 'BAD_AMOUNT';
      throw err;
    }
    const scan: Scan = { wall: this.clock.wall(), mono: this.clock.mono() };
    const clockProblem = this.clockCheck(scan.wall);
    if (clockProblem) return { kind: 'refused', reason: 'clock', detail: clockProblem };
    const dup = this.journal.activeByAuthCode(req.authCode);
    if (dup) return { kind: 'refused', reason: 'duplicate', detail: `${maskAuthCode(req.authCode)} is already being paid in order ${dup}` };
    const run = this.customerFlow(req, code.orderType, scan, hooks);
    this.customer = run;
    try {
      return await run;
    } finally {
      const no = this.customerOrderNo;
      if (no && !this.drives.has(no)) this.firstSeen.delete(no);
      this.customer = null;
      this.customerOrderNo = null;
      this.maybeIdle();
    }
  }

  // ---------------------------------------------------------------- customer path

  private async customerFlow(req: PaymentRequest, orderType: MicropayFields['orderType'], scan: Scan, hooks: PayHooks): Promise<CustomerResult> {
    const goodsId = req.goodsId ?? this.opts.goods.goodsId;
    const goodsInfo = req.goodsInfo ?? this.opts.goods.goodsInfo;
    const orderTime = formatOrderTime(scan.wall);
    // Field problems (goodsInfo too long...) are found before anything is journaled or sent.
    buildRequest('micropay', this.opts.merchant, {
      orderTime, orderNo: formatOrderNo(this.opts.deviceId, orderTime.slice(0, 8), 0, 'x'.repeat(10)), txnAmt: String(req.amountFen), orderType, authCode: req.authCode, goodsId, goodsInfo,
    });
    const order = this.createOrJournalFault({
      deviceId: this.opts.deviceId,
      date: orderTime.slice(0, 8),
      orderTime,
      txnAmt: String(req.amountFen),
      orderType,
      authCode: req.authCode,
      authMask: maskAuthCode(req.authCode),
      goodsId,
      goodsInfo,
      acqSpId: this.opts.merchant.acqSpId,
      acqMerId: this.opts.merchant.acqMerId,
      scannedAt: scan.wall,
      scannedMono: scan.mono,
      bootId: this.clock.bootId,
      at: this.iso(),
    });
    const orderNo = order.orderNo;
    this.customerOrderNo = orderNo;
    this.firstSeen.set(orderNo, scan.mono);
    this.emitTransition({ orderNo, from: null, to: 'created', cause: 'scanned' });
    this.log.info({ event: 'order', orderNo, authCode: req.authCode, txnAmt: order.txnAmt, orderType }, 'order journaled');
    crashPoint('after-journal-before-send');
    // The very fields journaled: a re-send is the same order (same orderNo, orderTime, signature inputs).
    const fields: MicropayFields = { orderTime, orderNo, txnAmt: order.txnAmt, orderType, authCode: req.authCode, goodsId, goodsInfo };
    hooks.progress?.('sending');
    try {
      let retryMs = this.timing.notSentRetryMs;
      let sends = 1;
      let notSent = 0;
      for (;;) {
        const res = await this.call('micropay', () => this.gateway.micropay(fields));
        crashPoint('after-send-before-answer-recorded');
        this.checkHalted();
        const out = res.outcome;
        // A 37 (too frequent) is an answer that took nothing: retried as the same order while the code is
        // valid, like a send that never left. Not counted as not-sent: recovery still reverses (harmless).
        const limited = out.kind === 'UNKNOWN' && !!out.rateLimited && res.delivery === 'answered';
        if (out.kind === 'UNKNOWN' && (res.delivery === 'not-sent' || limited)) {
          if (!limited) notSent++;
          const detail = limited ? `rate limited: ${out.cause}` : `never left: ${res.cause ?? out.cause}`;
          if (this.clock.mono() + retryMs - scan.mono < this.timing.codeValidityMs && !this.stopping) {
            if (limited) this.journal.note(orderNo, order.state, { ...this.eventOf(res), kind: 'rate-limited', cause: 'rate-limited' }, this.iso());
            else this.journal.note(orderNo, order.state, { kind: 'not-sent', cause: 'not-sent', call: 'micropay', delivery: 'not-sent', detail }, this.iso(), { notSent });
            hooks.progress?.('offline');
            await this.clock.sleep(retryMs, this.halt.signal);
            // Checked again after the sleep: a late timer must not send a code past its validity.
            if (this.clock.mono() - scan.mono < this.timing.codeValidityMs && !this.stopping) {
              retryMs = Math.min(retryMs * 2, 5_000);
              // Write-ahead again: counted before it starts, so a crash mid-send reads as "maybe sent".
              sends++;
              this.journal.note(orderNo, order.state, { kind: 'resend', cause: 'resend', call: 'micropay', detail: `attempt ${sends}` }, this.iso(), { sendAttempts: sends });
              continue;
            }
          }
          if (notSent < sends) {
            // Some send was answered 37 (or may have left): not provably unsent, so it is closed before it is final.
            this.move(order, 'unknown', { ...this.eventOf(res), kind: 'code-expired' }, { reason: `micropay not taken within the code's validity: ${detail}` });
            return await this.waitForVerdict(orderNo, scan, hooks);
          }
          const reason = `not sent: gateway unreachable for ${Math.round((this.clock.mono() - scan.mono) / 1000)} s after the scan (${detail})`;
          this.move(order, 'failed-not-sent', { kind: 'not-sent', cause: 'not-sent', call: 'micropay', delivery: 'not-sent', detail }, { notSent, reason });
          return { kind: 'refused', reason: 'offline', detail: reason, orderNo };
        }
        const ev = this.eventOf(res);
        if (out.kind === 'PAID') {
          if (this.clock.mono() < scan.mono + this.timing.customerWindowMs) return await this.deliverNow(orderNo, 'created', ev, out.transactionId, scan, hooks, out.stlDate);
          // The answer came after the customer window: nobody may be there to take the product. Give it back.
          this.move(order, 'paid', ev, { transactionId: out.transactionId, stlDate: out.stlDate, respCode: '00', reason: 'paid after the customer window' });
          this.background(orderNo);
          return { kind: 'not-charged', orderNo, reason: 'the payment platform answered too late; the payment is being given back' };
        }
        if (out.kind === 'NOT_PAID' && out.notOurs) {
          // The number is another order's at the platform (a lost, restored or cloned journal made it before):
          // this request was not taken. Never queried (we would read that order) nor reversed (we would reverse it).
          const reason = `order number ${orderNo} already belongs to another order at the platform (${out.code} ${out.reason}): not charged; another journal used this deviceId's numbers`;
          this.move(order, 'failed', ev, { respCode: out.code, respMsg: out.reason, flag: 'order-no-collision', reason });
          this.log.error({ event: 'order-no-collision', orderNo }, reason);
          this.emit('attention', { orderNo, reason });
          return { kind: 'declined', orderNo, code: out.code, reason: out.reason };
        }
        if (out.kind === 'NOT_PAID') {
          this.move(order, 'failed', ev, { respCode: out.code, respMsg: out.reason, reason: `declined: ${out.code} ${out.reason}` });
          return { kind: 'declined', orderNo, code: out.code, reason: out.reason };
        }
        this.move(order, 'unknown', ev, { reason: `micropay unclear: ${out.cause}` });
        if (out.kind === 'UNKNOWN' && out.code === '02') hooks.progress?.('paying');
        break;
      }
      return await this.waitForVerdict(orderNo, scan, hooks);
    } catch (err) {
      if (err instanceof Halted) return { kind: 'not-charged', orderNo, reason: 'the kiosk stopped; the order is finished at the next start' };
      throw err;
    }
  }

  /**
   * Journal first: an order that cannot be journaled is never sent. A journal that is gone (deleted, replaced),
   * full or read-only throws here; pay() rejects and the kiosk shows `fault` (nothing was charged).
   */
  private createOrJournalFault(o: Parameters<Journal['createOrder']>[0]): OrderRow {
    try {
      return this.journal.createOrder(o);
    } catch (err) {
      const e = err as Error & { code?: string };
      this.log.error({ event: 'journal-unusable', code: e.code, err: e }, `payment refused, nothing sent: the journal cannot take a new order: ${e.message}`);
      throw err;
    }
  }

  /** Queries while the customer waits; paid → deliver, failed → declined, window over → reverse. */
  private async waitForVerdict(orderNo: string, scan: Scan, hooks: PayHooks): Promise<CustomerResult> {
    const deadline = scan.mono + this.timing.customerWindowMs;
    let interval = this.timing.queryIntervalMs;
    let rateLimits = 0;
    let reversal: 'cancelOrder' | 'closeOrder' | undefined;
    while (this.clock.mono() + interval < deadline) {
      hooks.progress?.('waiting');
      await this.clock.sleep(interval, this.halt.signal);
      const o = this.journal.get(orderNo)!;
      const res = await this.call('queryOrder', () => this.gateway.queryOrder({ orderNo, transactionId: o.transactionId ?? undefined }));
      this.checkHalted();
      const q = this.aboutOurs(res, o);
      interval = this.timing.queryIntervalMs;
      if (q.kind === 'PAID') {
        if (this.clock.mono() < deadline) return await this.deliverNow(orderNo, 'unknown', this.eventOf(res), q.transactionId, scan, hooks, q.stlDate);
        // Paid, but the customer is no longer expected: refunded in the background.
        this.move(o, 'paid', this.eventOf(res), { transactionId: q.transactionId, stlDate: q.stlDate, respCode: '00' });
        break;
      }
      if (q.kind === 'NOT_PAID') {
        if (q.state === 'no-such-order') {
          // Close it first (so it can never be paid later), then it is final.
          reversal = 'closeOrder';
          this.journal.note(orderNo, o.state, this.eventOf(res), this.iso());
          break;
        }
        const final = this.finalForNotPaid(q, false);
        this.move(o, final, this.eventOf(res), { respCode: q.code, respMsg: q.reason, reason: `platform: ${q.state} (${q.code} ${q.reason})` });
        return { kind: 'declined', orderNo, code: q.code, reason: q.reason };
      }
      if (q.kind === 'PENDING') hooks.progress?.('paying'); // the platform says the customer is confirming
      if (q.kind === 'UNKNOWN' && q.rateLimited) {
        rateLimits++;
        interval = this.backoff(rateLimits, this.timing.queryIntervalMs, this.timing.customerWindowMs);
      }
    }
    const o = this.journal.get(orderNo)!;
    if (o.state === 'unknown') {
      this.move(o, 'reversing', { kind: 'window-over', cause: 'customer window over' }, { reversal: reversal ?? this.reversalFor(o), reason: 'no verdict within the customer window' });
    }
    this.background(orderNo);
    return { kind: 'not-charged', orderNo, reason: 'no answer from the payment platform in time; the payment is being reversed' };
  }

  /** Paid while the customer is there: journal `delivering` (same commit as `paid`), pulse, `delivered`. */
  private async deliverNow(orderNo: string, from: OrderState, ev: EventInput, transactionId: string | undefined, scan: Scan, hooks: PayHooks, stlDate?: string): Promise<CustomerResult> {
    const o = this.journal.transition(
      orderNo,
      [
        { from, to: 'paid', event: ev, patch: { transactionId: transactionId ?? undefined, stlDate, respCode: ev.respCode ?? '00' } },
        { from: 'paid', to: 'delivering', event: { kind: 'release', cause: 'releasing product' } },
      ],
      this.iso(),
    );
    this.emitTransition({ orderNo, from, to: 'paid', cause: ev.cause });
    this.emitTransition({ orderNo, from: 'paid', to: 'delivering', cause: 'releasing product' });
    crashPoint('between-answer-and-approve');
    try {
      // The vend sensor's drop is journaled the moment it is seen: a crash before "delivered" is then
      // resolved by that evidence at recovery instead of a refund on doubt.
      await hooks.deliver(orderNo, { sensed: () => this.vendSensed(orderNo) });
    } catch (err) {
      // The relay failed, or the sensor saw no product: assume none came out (the customer must not lose out).
      const code = (err as { code?: string })?.code;
      const vend = code === 'VEND_FAILED' ? 'failed' : code === 'VEND_SENSOR_FAULT' ? 'sensor-fault' : undefined;
      const detail = vend ? `vend not confirmed: ${(err as Error).message}` : `vend relay failed: ${(err as Error)?.message ?? String(err)}`;
      this.log.error({ event: 'deliver-failed', orderNo, err, vend }, detail);
      this.startRefund(o, 'vend-failed', 'delivery failed', { flag: vend ? `vend-${vend}` : 'delivery-failed', reason: detail });
      this.emit('attention', { orderNo, reason: detail });
      this.background(orderNo);
      return vend
        ? { kind: 'not-charged', orderNo, reason: 'the product did not come out; the payment is being refunded', vend }
        : { kind: 'not-charged', orderNo, reason: 'the product could not be released; the payment is being refunded' };
    }
    crashPoint('after-approve-before-delivered');
    // Written even when stopping: the product is out, and saying so spares the customer's money a refund.
    this.move(o, 'delivered', { kind: 'released', cause: 'product released' }, { reason: `paid and delivered ${Math.round((this.clock.mono() - scan.mono) / 100) / 10} s after the scan` });
    return { kind: 'approved', orderNo };
  }

  /** The vend sensor saw the product drop: journaled at once (evidence for recovery), while still delivering. */
  private vendSensed(orderNo: string): void {
    if (this.journal.get(orderNo)?.state !== 'delivering') return;
    this.journal.note(orderNo, 'delivering', { kind: 'vend-sensed', cause: VEND_SENSED }, this.iso());
    crashPoint('after-vend-sensed');
  }

  // ---------------------------------------------------------------- background path

  /** Drives an order to a final state in the background (once per order at a time). */
  private background(orderNo: string): void {
    if (this.drives.has(orderNo) || this.halted) return;
    const run = this.drive(orderNo)
      .catch((err: unknown) => {
        if (err instanceof Halted) return;
        // A bug or a journal failure: the order stays in the journal and is resumed by the next start.
        this.log.error({ event: 'drive-error', orderNo, err }, `background work on ${orderNo} failed: ${(err as Error)?.message}`);
        this.emit('attention', { orderNo, reason: `internal error: ${(err as Error)?.message}` });
      })
      .finally(() => {
        this.drives.delete(orderNo);
        if (this.journal.get(orderNo)?.final !== false) this.firstSeen.delete(orderNo);
        this.maybeIdle();
      });
    this.drives.set(orderNo, run);
  }

  private async drive(orderNo: string): Promise<void> {
    let effort = 0;
    for (;;) {
      this.checkHalted();
      const o = this.journal.get(orderNo);
      if (!o || o.final) return;
      const r = await this.step(o);
      this.checkHalted();
      if (r.kind === 'moved') {
        effort = 0;
        continue;
      }
      effort++;
      const now = this.journal.get(orderNo)!;
      if (now.final) return;
      if (now.state !== 'attention' && effort >= this.timing.effortAttempts) {
        const reason = `not finished after ${effort} attempts: ${r.why}`;
        this.move(now, 'attention', { kind: 'effort-spent', cause: 'bounded effort spent', detail: r.why }, { resumeState: now.state, reason });
        this.log.error({ event: 'attention', orderNo, state: now.state, reason }, `order ${orderNo} needs attention: ${reason}`);
        this.emit('attention', { orderNo, reason });
      }
      const delay = now.state === 'attention' ? this.jitter(this.timing.attentionRetryMs) : this.backoff(effort, this.timing.backoffBaseMs, this.timing.backoffMaxMs);
      await this.clock.sleep(delay, this.halt.signal);
    }
  }

  /** One exchange with the gateway for the order's phase, recorded in the journal. */
  private async step(o: OrderRow): Promise<StepResult> {
    const phase: OrderState = o.state === 'attention' ? (o.resumeState ?? 'reversing') : o.state;
    switch (phase) {
      case 'created':
        if (o.sendAttempts === o.notSent) {
          // Every send provably never left (the process died while retrying): nothing to reverse.
          this.move(o, 'failed-not-sent', { kind: 'recovery', cause: 'recovery', detail: 'every send provably never left' }, { reason: 'not sent: gateway unreachable; found at recovery' });
          return { kind: 'moved' };
        }
        this.move(o, 'reversing', { kind: 'recovery', cause: 'recovery', detail: 'micropay may have been sent; the customer is gone' }, { reversal: this.reversalFor(o), reason: 'interrupted before the answer was recorded' });
        return { kind: 'moved' };
      case 'unknown':
        this.move(o, 'reversing', { kind: 'recovery', cause: 'recovery', detail: 'no verdict; the customer is gone' }, { reversal: this.reversalFor(o), reason: 'no verdict before the customer left' });
        return { kind: 'moved' };
      case 'paid':
        this.startRefund(o, 'recovery', 'paid after the customer left', { reason: 'paid, product never released' });
        return { kind: 'moved' };
      case 'delivering': {
        if (this.journal.events(o.orderNo).some((e) => e.cause === VEND_SENSED)) {
          // The vend sensor saw the product drop before the interruption: it is out, no refund.
          this.move(o, 'delivered', { kind: 'vend-sensed', cause: 'recovery: vend sensed before the interruption' }, { reason: 'delivered: the vend sensor saw the drop (journaled) before the daemon stopped' });
          return { kind: 'moved' };
        }
        // Ambiguous: the relay may or may not have pulsed. Customer-safe rule: give the money back and
        // tell the operator the product may have been released too.
        const reason = 'interrupted while releasing the product: refunded; the product may have been released';
        this.startRefund(o, 'recovery', 'recovery: delivery uncertain', { flag: 'delivery-uncertain', reason });
        this.log.error({ event: 'delivery-uncertain', orderNo: o.orderNo }, reason);
        this.emit('attention', { orderNo: o.orderNo, reason });
        return { kind: 'moved' };
      }
      case 'reversing':
        return this.reverseStep(o);
      case 'refunding':
        return this.refundStep(o);
      default:
        return { kind: 'wait', why: `nothing to do for state ${phase}` };
    }
  }

  private async reverseStep(o: OrderRow): Promise<StepResult> {
    // cancelOrder only works the order's own day: chosen before midnight, it is closeOrder after (then refund if paid).
    const call = o.reversal === 'cancelOrder' ? this.reversalFor(o) : (o.reversal ?? this.reversalFor(o));
    const res = await this.backgroundCall(call, () => (call === 'cancelOrder' ? this.gateway.cancelOrder({ orderNo: o.orderNo }) : this.gateway.closeOrder({ orderNo: o.orderNo })));
    crashPoint('mid-reversal');
    this.checkHalted();
    const out = res.outcome;
    if (out.kind === 'DONE') {
      this.move(o, 'reversed', this.eventOf(res), { reason: call === 'cancelOrder' ? 'cancelled (reversed) at the platform' : 'closed at the platform: can no longer be paid' });
      return { kind: 'moved' };
    }
    if (out.kind === 'UNKNOWN') return { kind: 'wait', rateLimited: out.rateLimited, why: `${call}: ${out.cause}` };
    // Refused: the order's state at the platform decides what comes next.
    this.journal.note(o.orderNo, o.state, this.eventOf(res), this.iso());
    const qr = await this.backgroundCall('queryOrder', () => this.gateway.queryOrder({ orderNo: o.orderNo, transactionId: o.transactionId ?? undefined }));
    this.checkHalted();
    const q = this.aboutOurs(qr, o);
    if (q.kind === 'PAID') {
      this.startRefund(o, 'answer', `${call} refused (${out.code}), order paid`, { transactionId: q.transactionId }, false);
      return { kind: 'moved' };
    }
    if (q.kind === 'NOT_PAID') {
      if (q.state === 'no-such-order') {
        if (call === 'cancelOrder') {
          this.journal.note(o.orderNo, o.state, { ...this.eventOf(qr), cause: 'no such order: close it instead' }, this.iso(), { reversal: 'closeOrder' });
          return { kind: 'moved' };
        }
        // Close refused and the platform has never seen it: once the code's validity is over, a late
        // copy of the request could not charge anyone.
        if (this.clock.mono() > this.scannedMono(o) + this.timing.codeValidityMs) {
          this.move(o, 'reversed', { ...this.eventOf(qr), kind: 'code-expired' }, { reason: `platform has no such order (${q.code}) and the code's validity is over: not charged` });
          return { kind: 'moved' };
        }
        return { kind: 'wait', why: 'no such order yet; waiting until the code has expired' };
      }
      this.move(o, this.finalForNotPaid(q, true), this.eventOf(qr), { respCode: q.code, respMsg: q.reason, reason: `platform: ${q.state} (${q.code} ${q.reason})` });
      return { kind: 'moved' };
    }
    if (q.kind === 'PENDING' && call === 'cancelOrder') {
      this.journal.note(o.orderNo, o.state, { ...this.eventOf(qr), cause: `cancel refused (${out.code}) while paying: close instead` }, this.iso(), { reversal: 'closeOrder' });
      return { kind: 'wait', why: `cancel refused ${out.code}; order still paying` };
    }
    return { kind: 'wait', rateLimited: q.kind === 'UNKNOWN' && q.rateLimited, why: `${call} refused ${out.code} ${out.reason}; query: ${q.kind}` };
  }

  private async refundStep(o: OrderRow): Promise<StepResult> {
    if (!o.refundAccepted) {
      const res = await this.backgroundCall('refund', () =>
        this.gateway.refund({ orderTime: o.refundTime!, origOrderNo: o.orderNo, origTxnAmt: o.txnAmt, orderNo: o.refundNo!, txnAmt: o.refundAmt! }),
      );
      crashPoint('mid-refund');
      this.checkHalted();
      const out = res.outcome;
      if (out.kind === 'ACCEPTED' || (out.kind === 'REFUSED' && ALREADY_EXISTS.has(out.code))) {
        this.journal.note(o.orderNo, o.state, this.eventOf(res), this.iso(), { refundAccepted: true });
        return { kind: 'moved' };
      }
      if (out.kind === 'REFUSED' && out.notOurs) {
        // The serial belongs to another refund (an older journal used this order number): a new serial.
        this.newRefundSerial(o, res, 'refund serial used by another refund: new refund serial');
        return { kind: 'wait', why: `refund ${o.refundNo}: ${out.code} ${out.reason}` };
      }
      if (out.kind === 'REFUSED') {
        this.journal.note(o.orderNo, o.state, this.eventOf(res), this.iso());
        const qr = await this.backgroundCall('queryOrder', () => this.gateway.queryOrder({ orderNo: o.orderNo, transactionId: o.transactionId ?? undefined }));
        this.checkHalted();
        const q = this.aboutOurs(qr, o);
        // "No such order" or "failed" contradicts the payment we hold: not final on its word (retried, then attention).
        if (q.kind === 'NOT_PAID' && q.state !== 'no-such-order' && q.state !== 'failed') {
          // Already refunded, cancelled or closed: no money with the merchant any more.
          this.move(o, q.state === 'refunded' ? 'refunded' : 'reversed', this.eventOf(qr), { reason: `platform: ${q.state} (${q.code} ${q.reason})` });
          return { kind: 'moved' };
        }
        return { kind: 'wait', rateLimited: q.kind === 'UNKNOWN' && q.rateLimited, why: `refund refused ${out.code} ${out.reason}${q.kind === 'NOT_PAID' ? `; query: ${q.state} (${q.code}) for a paid order` : ''}` };
      }
      // Unclear whether the refund arrived: ask, then re-send the same serial if it did not.
      const rq0 = await this.backgroundCall('refundQuery', () => this.gateway.refundQuery({ orderNo: o.refundNo! }));
      this.checkHalted();
      const rq = { ...rq0, outcome: this.refundAboutOurs(rq0, o) };
      if (rq.outcome.kind === 'REFUNDED') {
        this.move(o, 'refunded', this.eventOf(rq), { reason: 'refunded' });
        return { kind: 'moved' };
      }
      // Known to the platform (in progress, or failed: then the next step issues a new serial, never this one again).
      if (rq.outcome.kind === 'PENDING' || rq.outcome.kind === 'FAILED') {
        this.journal.note(o.orderNo, o.state, this.eventOf(rq), this.iso(), { refundAccepted: true });
        return { kind: 'moved' };
      }
      return { kind: 'wait', rateLimited: out.rateLimited || (rq.outcome.kind === 'UNKNOWN' && rq.outcome.rateLimited), why: `refund: ${out.cause}` };
    }
    const rq = await this.backgroundCall('refundQuery', () => this.gateway.refundQuery({ orderNo: o.refundNo! }));
    crashPoint('mid-refund-query');
    this.checkHalted();
    const out = this.refundAboutOurs(rq, o);
    if (out.kind === 'REFUNDED') {
      this.move(o, 'refunded', this.eventOf(rq), { reason: 'refunded' });
      return { kind: 'moved' };
    }
    if (out.kind === 'FAILED') {
      // The platform says this refund failed: a new serial (the platform caps refunds at the paid amount).
      this.newRefundSerial(o, rq, 'refund failed: new refund serial');
      return { kind: 'wait', why: `refund ${o.refundNo} failed: ${out.code} ${out.reason}` };
    }
    return { kind: 'wait', rateLimited: out.kind === 'UNKNOWN' && out.rateLimited, why: out.kind === 'PENDING' ? 'refund in progress' : `refundQuery: ${out.cause}` };
  }

  private newRefundSerial(o: OrderRow, res: Called, cause: string): void {
    const n = Number(/R(\d+)$/.exec(o.refundNo ?? '')?.[1] ?? '1') + 1;
    this.journal.note(o.orderNo, o.state, { ...this.eventOf(res), cause }, this.iso(), {
      refundNo: `${o.orderNo}R${n}`,
      refundTime: formatOrderTime(this.clock.wall()),
      refundAccepted: false,
    });
  }

  /**
   * paid/delivering (or a reversal that found the order paid) → refunding, or → reversing by cancelOrder when
   * same-day WeChat/Alipay. `o` is the order as the caller read it (its state is the transition's `from`).
   */
  private startRefund(o: OrderRow, kind: CauseKind, cause: string, patch: OrderPatch, allowCancel = true): void {
    if (allowCancel && this.reversalFor(o) === 'cancelOrder') {
      this.move(o, 'reversing', { kind, cause }, { ...patch, reversal: 'cancelOrder' });
      return;
    }
    this.move(o, 'refunding', { kind, cause }, { ...patch, refundNo: o.refundNo ?? `${o.orderNo}R1`, refundTime: o.refundTime ?? formatOrderTime(this.clock.wall()), refundAmt: o.txnAmt, refundAccepted: false });
  }

  // ---------------------------------------------------------------- helpers

  /** cancelOrder reverses WeChat/Alipay the same day (paid or not); otherwise closeOrder (refund if paid). */
  private reversalFor(o: OrderRow): 'cancelOrder' | 'closeOrder' {
    const sameDay = o.orderTime.slice(0, 8) === formatOrderTime(this.clock.wall()).slice(0, 8);
    return sameDay && (o.orderType === 'wechat' || o.orderType === 'alipay') ? 'cancelOrder' : 'closeOrder';
  }

  /**
   * A query answer about another order (same number used before, by a lost, restored or cloned journal) is
   * never taken as ours: every field it gives must fit the order (umpay/outcome.ts notAboutOrder).
   */
  private aboutOurs(res: CallResult<'queryOrder'>, o: OrderRow): QueryOutcome {
    if (res.outcome.kind === 'UNKNOWN' || (res.outcome.kind === 'NOT_PAID' && res.outcome.state === 'no-such-order')) return res.outcome;
    const off = notAboutOrder(res.answer, o);
    return off ? { kind: 'UNKNOWN', cause: `not about this order: ${off}` } : res.outcome;
  }

  /** The same for a refundQuery answer: it must name our order, our serial and our refund amount. */
  private refundAboutOurs(res: CallResult<'refundQuery'>, o: OrderRow): RefundQueryOutcome {
    const a = res.answer as Record<string, unknown> | undefined;
    if (res.outcome.kind === 'UNKNOWN' || !a) return res.outcome;
    const said = (k: string): string | undefined => (typeof a[k] === 'string' || typeof a[k] === 'number') && a[k] !== '' ? String(a[k]) : undefined;
    const off =
      (said('orderNo') && said('orderNo') !== o.refundNo && `answer is about refund ${said('orderNo')}, not ${o.refundNo}`) ||
      (said('origOrderNo') && said('origOrderNo') !== o.orderNo && `answer is about a refund of ${said('origOrderNo')}, not ${o.orderNo}`) ||
      (said('txnAmt') && o.refundAmt && said('txnAmt') !== o.refundAmt && `answer says refund txnAmt ${said('txnAmt')}, ours is ${o.refundAmt}`);
    return off ? { kind: 'UNKNOWN', cause: `not about this refund: ${off}` } : res.outcome;
  }

  private finalForNotPaid(q: Extract<QueryOutcome, { kind: 'NOT_PAID' }>, reversalAsked: boolean): OrderState {
    if (q.state === 'refunded') return 'refunded';
    if (q.state === 'failed') return 'failed';
    return reversalAsked ? 'reversed' : 'failed';
  }

  /**
   * One transition from the state the caller read (`o.state`): the journal refuses it if that is stale or not in the
   * table.
   */
  private move(o: OrderRow, to: OrderState, event: EventInput, patch: OrderPatch = {}): OrderRow {
    if (to !== 'delivered') this.checkHalted();
    const row = this.journal.transition(o.orderNo, [{ from: o.state, to, event, patch }], this.iso());
    this.emitTransition({ orderNo: o.orderNo, from: o.state, to, cause: event.cause });
    return row;
  }

  private emitTransition(t: TransitionEvent): void {
    const level = isFinal(t.to) || t.to === 'attention' ? 'info' : 'debug';
    this.log[level]({ event: 'transition', ...t }, `${t.orderNo}: ${t.from ?? '-'} → ${t.to} (${t.cause})`);
    this.emit('transition', t);
  }

  /** The journal's event for a call's result: an answer, or (`threw`) the call itself threw. */
  private eventOf(res: Called): EventInput {
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

  /**
   * Customer-path call: not gated (the customer must not wait behind recovery), but counted. A gateway
   * that throws (a bug) is read as "may have been sent" (the money-safe reading) and journaled as what it
   * was: this call, and that it threw.
   */
  private async call<C extends CallName>(name: C, fn: () => Promise<CallResult<C>>): Promise<Called<C>> {
    this.stats.requests++;
    this.stats.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
    try {
      let res: Called<C>;
      try {
        res = await fn();
      } catch (err) {
        const cause = `gateway threw: ${(err as Error)?.message ?? String(err)}`;
        this.log.error({ event: 'gateway-threw', call: name, err }, `${name}: ${cause}`);
        // Every call's outcome union has this UNKNOWN member.
        const outcome = { kind: 'UNKNOWN', cause } as OutcomeByCall[C];
        res = { call: name, outcome, request: {}, plaintext: '', delivery: 'maybe-sent', cause, elapsedMs: 0, threw: true };
      }
      this.noteRateLimit(res);
      return res;
    } finally {
      this.stats.inFlight--;
    }
  }

  /** Background call: bounded concurrency, paced, and paused for everyone after a `37`. */
  private async backgroundCall<C extends CallName>(name: C, fn: () => Promise<CallResult<C>>): Promise<Called<C>> {
    await this.gate.acquire(this.halt.signal);
    try {
      for (;;) {
        const at = Math.max(this.pausedUntil, this.lastBackgroundStart + this.timing.minRequestIntervalMs);
        const now = this.clock.mono();
        if (at <= now) break;
        await this.clock.sleep(at - now, this.halt.signal);
      }
      this.lastBackgroundStart = this.clock.mono();
      return await this.call(name, fn);
    } finally {
      this.gate.release();
    }
  }

  private noteRateLimit(res: CallResult): void {
    const out = res.outcome as { kind: string; rateLimited?: boolean };
    if (out.kind === 'UNKNOWN' && out.rateLimited) {
      this.stats.rateLimited++;
      this.penaltyMs = Math.min(Math.max(this.penaltyMs * 2, this.timing.backoffBaseMs), this.timing.backoffMaxMs);
      this.pausedUntil = Math.max(this.pausedUntil, this.clock.mono() + this.jitter(this.penaltyMs));
    } else if (res.delivery === 'answered') {
      this.penaltyMs = Math.floor(this.penaltyMs / 2);
    }
  }

  /** base · 2^(n-1), capped, with ±50 % jitter so that kiosks (and orders) do not retry in step. */
  private backoff(n: number, base: number, max: number): number {
    return this.jitter(Math.min(base * 2 ** Math.min(n - 1, 30), max));
  }

  private jitter(ms: number): number {
    return Math.round(ms * (0.5 + this.random()));
  }

  private checkHalted(): void {
    if (this.halted) throw new Halted();
  }

  private iso(): string {
    return isoNow(this.clock);
  }

  /**
   * The scan on this clock: journaled by this boot (any process), else (another boot, an old journal) the
   * moment this process first knew the order. That is later than the scan, so "the code's validity is over"
   * is never concluded early; the wall clock is never used (it may have been stepped since).
   */
  private scannedMono(o: OrderRow): number {
    return o.scannedMono !== null && o.bootId === this.clock.bootId ? o.scannedMono : this.seen(o.orderNo);
  }

  private seen(orderNo: string): number {
    let at = this.firstSeen.get(orderNo);
    if (at === undefined) this.firstSeen.set(orderNo, (at = this.clock.mono()));
    return at;
  }

  private maybeIdle(): void {
    if (!this.customer && this.drives.size === 0) this.emit('idle');
  }
}

export { JournalError };
