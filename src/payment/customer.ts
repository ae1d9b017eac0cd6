// The customer path: from the scan to the customer's result within the customer window. Journal first (the order
// is committed before micropay is sent), re-sends of a request that provably never left while the code is valid,
// queries while the customer waits, and the product released only on a verified 00 (delivering is journaled before
// the pulse). Whatever is not final when the customer's result is given is handed to the background work.
import { maskAuthCode } from '../umpay/authcode.js';
import type { Merchant, MicropayFields } from '../umpay/types.js';
import { formatOrderNo } from '../journal/orderno.js';
import { buildRequest, formatOrderTime } from '../umpay/messages.js';
import type { EventInput, Journal, OrderRow, OrderState } from '../journal/journal.js';
import { Halted } from '../clock.js';
import { crashPoint } from './crash.js';
import { EngineWork, type EngineCore } from './core.js';
import { VEND_SENSED, type CustomerResult, type PaymentRequest, type PayHooks, type Scan } from './types.js';

export class CustomerPath extends EngineWork {
  constructor(
    core: EngineCore,
    private readonly opts: { merchant: Merchant; deviceId: string; goods: { goodsId: string; goodsInfo: string } },
    /** Hands an order that is not final to the background work. */
    private readonly background: (orderNo: string) => void,
    /** The order is journaled: from now on it is this payment's (recovery leaves it alone). */
    private readonly journaled: (orderNo: string) => void,
  ) {
    super(core);
  }

  /** From the scan to the customer's result; the order is journaled before anything is sent. */
  async run(req: PaymentRequest, orderType: MicropayFields['orderType'], scan: Scan, hooks: PayHooks): Promise<CustomerResult> {
    const goodsId = req.goodsId ?? this.opts.goods.goodsId;
    const goodsInfo = req.goodsInfo ?? this.opts.goods.goodsInfo;
    const orderTime = formatOrderTime(scan.wall);
    // Field problems (goodsInfo too long...) are found before anything is journaled or sent.
    buildRequest('micropay', this.opts.merchant, {
      // Stryker disable next-line StringLiteral: the placeholder order number is not what is checked here
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
      productId: req.productId,
      vendPrice: req.vendPrice,
      at: this.core.iso(),
    });
    const orderNo = order.orderNo;
    this.core.firstSeen.set(orderNo, scan.mono);
    this.journaled(orderNo);
    this.core.emitTransition({ orderNo, from: null, to: 'created', cause: 'scanned' });
    this.log.info({ event: 'order', orderNo, authCode: req.authCode, txnAmt: order.txnAmt, orderType }, 'order journaled');
    // A crash step's name counts only with KIOSK_CRASH_AT set, and then the process kills itself: test/crash takes
    // the steps on real daemons (child processes, not seen by the mutation run).
    // Stryker disable next-line StringLiteral: a crash step's name (see above)
    crashPoint('after-journal-before-send');
    // The very fields journaled: a re-send is the same order (same orderNo, orderTime, signature inputs).
    const fields: MicropayFields = { orderTime, orderNo, txnAmt: order.txnAmt, orderType, authCode: req.authCode, goodsId, goodsInfo };
    hooks.progress?.('sending');
    try {
      let retryMs = this.timing.notSentRetryMs;
      let sends = 1;
      let notSent = 0;
      for (;;) {
        const res = await this.core.calls.call('micropay', () => this.gateway.micropay(fields));
        // Stryker disable next-line StringLiteral: a crash step's name (see above)
        crashPoint('after-send-before-answer-recorded');
        this.core.checkHalted();
        const out = res.outcome;
        // A 37 (too frequent) is an answer that took nothing: retried as the same order while the code is
        // valid, like a send that never left. Not counted as not-sent: recovery still reverses (harmless).
        // Only an UNKNOWN outcome is rate-limited, and only an answer says 37; a call not sent has no other outcome.
        // Stryker disable next-line ConditionalExpression: see above (the kind check narrows the type)
        const limited = out.kind === 'UNKNOWN' && !!out.rateLimited && res.delivery === 'answered';
        // Stryker disable next-line ConditionalExpression: see above
        if (out.kind === 'UNKNOWN' && (res.delivery === 'not-sent' || limited)) {
          if (!limited) notSent++;
          const detail = limited ? `rate limited: ${out.cause}` : `never left: ${res.cause ?? out.cause}`;
          if (this.clock.mono() + retryMs - scan.mono < this.timing.codeValidityMs && !this.core.stopping) {
            if (limited) this.journal.note(orderNo, order.state, { ...this.core.eventOf(res), kind: 'rate-limited', cause: 'rate-limited' }, this.core.iso());
            else this.journal.note(orderNo, order.state, { kind: 'not-sent', cause: 'not-sent', call: 'micropay', delivery: 'not-sent', detail }, this.core.iso(), { notSent });
            hooks.progress?.('offline');
            await this.clock.sleep(retryMs, this.core.halt.signal);
            // Checked again after the sleep: a late timer must not send a code past its validity.
            if (this.clock.mono() - scan.mono < this.timing.codeValidityMs && !this.core.stopping) {
              retryMs = Math.min(retryMs * 2, 5_000);
              // Write-ahead again: counted before it starts, so a crash mid-send reads as "maybe sent".
              sends++;
              this.journal.note(orderNo, order.state, { kind: 'resend', cause: 'resend', call: 'micropay', detail: `attempt ${sends}` }, this.core.iso(), { sendAttempts: sends });
              continue;
            }
          }
          if (notSent < sends) {
            // Some send was answered 37 (or may have left): not provably unsent, so it is closed before it is final.
            this.core.move(order, 'unknown', { ...this.core.eventOf(res), kind: 'code-expired' }, { reason: `micropay not taken within the code's validity: ${detail}` });
            return await this.waitForVerdict(orderNo, scan, hooks);
          }
          const reason = `not sent: gateway unreachable for ${Math.round((this.clock.mono() - scan.mono) / 1000)} s after the scan (${detail})`;
          this.core.move(order, 'failed-not-sent', { kind: 'not-sent', cause: 'not-sent', call: 'micropay', delivery: 'not-sent', detail }, { notSent, reason });
          return { kind: 'refused', reason: 'offline', detail: reason, orderNo };
        }
        const ev = this.core.eventOf(res);
        if (out.kind === 'PAID') {
          if (this.clock.mono() < scan.mono + this.timing.customerWindowMs) return await this.deliverNow(orderNo, 'created', ev, out.transactionId, scan, hooks, out.stlDate);
          // The answer came after the customer window: nobody may be there to take the product. Give it back.
          this.core.move(order, 'paid', ev, { transactionId: out.transactionId, stlDate: out.stlDate, respCode: '00', reason: 'paid after the customer window' });
          this.background(orderNo);
          return { kind: 'not-charged', orderNo, reason: 'the payment platform answered too late; the payment is being given back' };
        }
        // Stryker disable next-line ConditionalExpression: only a NOT_PAID micropay outcome carries notOurs
        if (out.kind === 'NOT_PAID' && out.notOurs) {
          // The number is another order's at the platform (a lost, restored or cloned journal made it before):
          // this request was not taken. Never queried (we would read that order) nor reversed (we would reverse it).
          const reason = `order number ${orderNo} already belongs to another order at the platform (${out.code} ${out.reason}): not charged; another journal used this deviceId's numbers`;
          this.core.move(order, 'failed', ev, { respCode: out.code, respMsg: out.reason, flag: 'order-no-collision', reason });
          this.log.error({ event: 'order-no-collision', orderNo }, reason);
          this.core.events.emit('attention', { orderNo, reason });
          return { kind: 'declined', orderNo, code: out.code, reason: out.reason };
        }
        if (out.kind === 'NOT_PAID') {
          this.core.move(order, 'failed', ev, { respCode: out.code, respMsg: out.reason, reason: `declined: ${out.code} ${out.reason}` });
          return { kind: 'declined', orderNo, code: out.code, reason: out.reason };
        }
        this.core.move(order, 'unknown', ev, { reason: `micropay unclear: ${out.cause}` });
        // Only an UNKNOWN outcome is left here (the others returned above).
        if (out.code === '02') hooks.progress?.('paying');
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
      await this.clock.sleep(interval, this.core.halt.signal);
      const o = this.journal.get(orderNo)!;
      const res = await this.core.calls.call('queryOrder', () => this.gateway.queryOrder({ orderNo, transactionId: o.transactionId ?? undefined }));
      this.core.checkHalted();
      // Stryker disable next-line StringLiteral: any purpose but 'money-back' reads as 'release'
      const q = this.core.aboutOurs(res, o, 'release');
      interval = this.timing.queryIntervalMs;
      if (q.kind === 'PAID') {
        if (q.doubt) {
          // Paid, but not trusted for releasing the product (payTime before our orderTime: our clock, or an older
          // order's number): no product, and the money is given back in the background (paid → refund).
          const reason = `paid, not released: ${q.doubt}; the payment is given back`;
          this.core.move(o, 'paid', this.core.eventOf(res), { transactionId: q.transactionId, stlDate: q.stlDate, respCode: '00', flag: 'pay-time-doubt', reason });
          this.log.warn({ event: 'pay-time-doubt', orderNo }, reason);
          this.background(orderNo);
          return { kind: 'not-charged', orderNo, reason: 'the payment could not be confirmed for this order; it is being given back' };
        }
        if (this.clock.mono() < deadline) return await this.deliverNow(orderNo, 'unknown', this.core.eventOf(res), q.transactionId, scan, hooks, q.stlDate);
        // Paid, but the customer is no longer expected: refunded in the background.
        this.core.move(o, 'paid', this.core.eventOf(res), { transactionId: q.transactionId, stlDate: q.stlDate, respCode: '00' });
        break;
      }
      if (q.kind === 'NOT_PAID') {
        if (q.state === 'no-such-order') {
          // Close it first (so it can never be paid later), then it is final.
          reversal = 'closeOrder';
          this.journal.note(orderNo, o.state, this.core.eventOf(res), this.core.iso());
          break;
        }
        const final = this.core.finalForNotPaid(q, false);
        this.core.move(o, final, this.core.eventOf(res), { respCode: q.code, respMsg: q.reason, reason: `platform: ${q.state} (${q.code} ${q.reason})` });
        return { kind: 'declined', orderNo, code: q.code, reason: q.reason };
      }
      if (q.kind === 'PENDING') hooks.progress?.('paying'); // the platform says the customer is confirming
      // Stryker disable next-line LogicalOperator,ConditionalExpression: only an UNKNOWN outcome is rate-limited
      if (q.kind === 'UNKNOWN' && q.rateLimited) {
        rateLimits++;
        interval = this.core.calls.backoff(rateLimits, this.timing.queryIntervalMs, this.timing.customerWindowMs);
      }
    }
    const o = this.journal.get(orderNo)!;
    if (o.state === 'unknown') {
      this.core.move(o, 'reversing', { kind: 'window-over', cause: 'customer window over' }, { reversal: reversal ?? this.core.reversalFor(o), reason: 'no verdict within the customer window' });
    }
    this.background(orderNo);
    return { kind: 'not-charged', orderNo, reason: 'no answer from the payment platform in time; the payment is being reversed' };
  }

  /** Paid while the customer is there: journal `delivering` (same commit as `paid`), pulse, `delivered`. */
  private async deliverNow(orderNo: string, from: OrderState, ev: EventInput, transactionId: string | undefined, scan: Scan, hooks: PayHooks, stlDate?: string): Promise<CustomerResult> {
    const ended = hooks.releasable?.() ?? null;
    if (ended) {
      // MDB: the kiosk denied the vend or the machine ended the session while the payment was on its way: nothing
      // can be released for this charge, so it goes back (never approved after a deny).
      const paid = this.journal.transition(orderNo, [{ from, to: 'paid', event: ev, patch: { transactionId: transactionId ?? undefined, stlDate, respCode: ev.respCode ?? '00' } }], this.core.iso());
      this.core.emitTransition({ orderNo, from, to: 'paid', cause: ev.cause });
      this.core.startRefund(paid, 'session-ended', 'paid after the vend session ended', { flag: 'vend-session-ended', reason: `paid, but ${ended}: refunded` });
      this.log.warn({ event: 'paid-after-session', orderNo, reason: ended }, `paid after the vend session ended (${ended}): refunding`);
      this.background(orderNo);
      return { kind: 'not-charged', orderNo, reason: `${ended}; the payment is being given back`, vend: 'failed' };
    }
    const o = this.journal.transition(
      orderNo,
      [
        { from, to: 'paid', event: ev, patch: { transactionId: transactionId ?? undefined, stlDate, respCode: ev.respCode ?? '00' } },
        { from: 'paid', to: 'delivering', event: { kind: 'release', cause: 'releasing product' } },
      ],
      this.core.iso(),
    );
    this.core.emitTransition({ orderNo, from, to: 'paid', cause: ev.cause });
    this.core.emitTransition({ orderNo, from: 'paid', to: 'delivering', cause: 'releasing product' });
    // Stryker disable next-line StringLiteral: a crash step's name (see above)
    crashPoint('between-answer-and-approve');
    let by: void | 'vend-success';
    try {
      // The vend sensor's drop (or the MDB approval about to be sent) is journaled the moment it happens: a crash
      // before "delivered" is then resolved by that evidence at recovery instead of a refund on doubt.
      by = await hooks.deliver(orderNo, { sensed: () => this.vendSensed(orderNo), approving: (detail) => this.vendApproving(orderNo, detail) });
    } catch (err) {
      // The relay failed, or the sensor saw no product: assume none came out (the customer must not lose out).
      const code = (err as { code?: string })?.code;
      const vend = code === 'VEND_FAILED' ? 'failed' : code === 'VEND_SENSOR_FAULT' ? 'sensor-fault' : undefined;
      const detail = vend ? `vend not confirmed: ${(err as Error).message}` : `vend relay failed: ${(err as Error)?.message ?? String(err)}`;
      this.log.error({ event: 'deliver-failed', orderNo, err, vend }, detail);
      this.core.startRefund(o, 'vend-failed', 'delivery failed', { flag: vend ? `vend-${vend}` : 'delivery-failed', reason: detail });
      this.core.events.emit('attention', { orderNo, reason: detail });
      this.background(orderNo);
      return vend
        ? { kind: 'not-charged', orderNo, reason: 'the product did not come out; the payment is being refunded', vend }
        : { kind: 'not-charged', orderNo, reason: 'the product could not be released; the payment is being refunded' };
    }
    // Stryker disable next-line StringLiteral: a crash step's name (see above)
    crashPoint('after-approve-before-delivered');
    // Written even when stopping: the product is out, and saying so spares the customer's money a refund.
    const cause = by === 'vend-success' ? { kind: 'vend-success' as const, cause: 'the machine reported the vend' } : { kind: 'released' as const, cause: 'product released' };
    this.core.move(o, 'delivered', cause, { reason: `paid and delivered ${Math.round((this.clock.mono() - scan.mono) / 100) / 10} s after the scan` });
    return { kind: 'approved', orderNo };
  }

  /** MDB: the approval goes to the machine next: journaled first, so a restart waits for the machine's report. */
  private vendApproving(orderNo: string, detail: string): void {
    this.journal.note(orderNo, 'delivering', { kind: 'vend-approved', cause: 'vend approved', detail }, this.core.iso());
    // Stryker disable next-line StringLiteral: a crash step's name (see above)
    crashPoint('after-vend-approved');
  }

  /** The vend sensor saw the product drop: journaled at once (evidence for recovery), while still delivering. */
  private vendSensed(orderNo: string): void {
    // Stryker disable next-line OptionalChaining: the order exists (it is being delivered)
    if (this.journal.get(orderNo)?.state !== 'delivering') return;
    this.journal.note(orderNo, 'delivering', { kind: 'vend-sensed', cause: VEND_SENSED }, this.core.iso());
    // Stryker disable next-line StringLiteral: a crash step's name (see above)
    crashPoint('after-vend-sensed');
  }
}
