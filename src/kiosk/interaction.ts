// The customer interaction: choose an amount (fixed, menu or keyed), scan, wait, get the product or
// a clear "no". A small state machine over narrow ports (engine, indicator, approve, clock) so it can
// be driven by fakes and a fake clock. It never talks to the gateway or the journal itself: money
// decisions are the engine's; this module only decides what the customer sees and when a scan is
// worth sending at all.
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { maskAuthCode } from '../umpay/authcode.js';
import type { ApprovePort, Clock, CustomerResult, EnginePort, IndicatorPort, Pattern, TimerHandle } from './ports.js';
import { systemClock } from './ports.js';

export interface MenuItem {
  amountFen: number;
  goodsId?: string;
  goodsInfo?: string;
}

export type PricingMode = 'fixed' | 'menu' | 'keyed';

export type Pricing =
  | { mode: 'fixed'; amountFen: number; goodsId?: string; goodsInfo?: string }
  | { mode: 'menu'; items: Record<string, MenuItem | number> }
  | { mode: 'keyed'; maxAmountFen: number; minAmountFen?: number };

export interface InteractionTiming {
  /** No key or scan for this long while choosing or holding an amount → back to idle (menu/keyed). */
  entryTimeoutMs: number;
  /** How long a short signal (bad code, not now) shows before the previous pattern returns. */
  signalMs: number;
  /** How long success/failure (and offline/clock refusals) show before the next customer. */
  resultMs: number;
  /** Vend relay pulse when a payment is approved. */
  approvePulseMs: number;
}

export const DEFAULT_TIMING: InteractionTiming = { entryTimeoutMs: 30_000, signalMs: 1_500, resultMs: 3_000, approvePulseMs: 500 };

export interface InteractionOptions {
  pricing: Pricing;
  engine: EnginePort;
  indicator: IndicatorPort;
  approve: ApprovePort;
  timing?: Partial<InteractionTiming>;
  clock?: Clock;
  log?: Logger;
}

/** What the customer has chosen to pay for. */
export interface Choice {
  amountFen: number;
  item?: string;
  goodsId?: string;
  goodsInfo?: string;
}

export type InteractionState =
  | { name: 'idle' }
  | { name: 'entering'; digits: string }
  | { name: 'ready'; choice: Choice }
  | { name: 'processing'; choice: Choice }
  | { name: 'result'; pattern: Pattern; orderNo?: string; next: InteractionState }
  | { name: 'stopped' };

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

/** The pattern each engine answer shows, and whether the chosen amount is kept for another try. */
export function patternFor(result: CustomerResult): { pattern: Pattern; long: boolean } {
  switch (result.kind) {
    case 'approved':
      return { pattern: 'success', long: true };
    case 'declined':
      return { pattern: 'failure', long: true };
    case 'not-charged':
      // Never "failure": the platform said nothing final; the engine is reversing or refunding it.
      return { pattern: 'not-charged', long: true };
    case 'refused':
      switch (result.reason) {
        case 'bad-code':
        case 'duplicate': // the same code again: the customer must refresh it, like any unusable code
          return { pattern: 'bad-code', long: false };
        case 'busy':
        case 'stopping':
          return { pattern: 'not-now', long: false };
        case 'clock':
          return { pattern: 'clock-fault', long: true };
        case 'offline':
          return { pattern: 'offline', long: true };
      }
  }
}

/**
 * Events: 'state' (InteractionState) on every change, 'progress' (the engine's word while paying:
 * 'paying', 'offline', …), 'payment' (PaymentRecord) when a sent scan
 * finishes, 'signal' (pattern) for short signals, 'pattern' (pattern, orderNo?) whenever the
 * indicator is told something new, 'approve' (orderNo) when the product is released.
 */
export class Interaction extends EventEmitter {
  private readonly pricing: Pricing;
  private readonly engine: EnginePort;
  private readonly indicator: IndicatorPort;
  private readonly approve: ApprovePort;
  private readonly timing: InteractionTiming;
  private readonly clock: Clock;
  private readonly log: Logger;
  private st: InteractionState;
  private entryTimer: TimerHandle | undefined;
  private resultTimer: TimerHandle | undefined;
  private signalTimer: TimerHandle | undefined;
  private signal: Pattern | undefined;
  private scannerFault = false;
  private linkOffline = false;
  /** The engine is retrying a send that provably never left (progress 'offline'): shown as 'offline'. */
  private sendingOffline = false;
  private shown: string | undefined;
  private inflight: Promise<void> | undefined;
  private readonly maxItemDigits: number;
  private lastBadLog = -Infinity;
  private badSuppressed = 0;

  constructor(opts: InteractionOptions) {
    super();
    this.pricing = opts.pricing;
    this.engine = opts.engine;
    this.indicator = opts.indicator;
    this.approve = opts.approve;
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.maxItemDigits = this.pricing.mode === 'menu' ? Math.max(1, ...Object.keys(this.pricing.items).map((k) => k.length)) : 0;
    this.st = this.restState();
    this.render();
  }

  get state(): InteractionState {
    return this.st;
  }

  /** Resolves when no payment is in flight (the engine answered the customer). */
  settled(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  /** A key from the keypad: '0'–'9', '*', '#'. */
  key(key: string): void {
    if (!/^[0-9*#]$/.test(key)) return;
    const st = this.st;
    if (this.pricing.mode === 'fixed' || st.name === 'processing' || st.name === 'result' || st.name === 'stopped') return;
    const digit = key >= '0' && key <= '9';
    if (st.name === 'idle' || st.name === 'ready') {
      // In ready, a digit starts a new choice (the customer changed their mind); '*' cancels.
      if (digit) return this.typeDigit('', key);
      if (key === '*') return this.go({ name: 'idle' });
      return this.flash('not-now'); // '#' with nothing typed
    }
    // entering
    if (digit) return this.typeDigit(st.digits, key);
    if (key === '*') {
      // Keyed: first '*' clears the typed amount, a second cancels. Menu: '*' cancels.
      if (this.pricing.mode === 'keyed' && st.digits !== '') return this.go({ name: 'entering', digits: '' });
      return this.go({ name: 'idle' });
    }
    const choice = this.choose(st.digits);
    if (!choice) {
      this.flash('not-now');
      return this.go({ name: 'entering', digits: '' });
    }
    this.log.info({ event: 'amount-chosen', amountFen: choice.amountFen, item: choice.item }, 'amount chosen');
    this.go({ name: 'ready', choice });
  }

  /** A clean digit string from the scanner. */
  code(authCode: string): void {
    const st = this.st;
    if (st.name === 'stopped') return;
    if (st.name !== 'ready') {
      // No amount chosen yet, or a payment still in flight / on show: not sent.
      this.log.info({ event: 'scan-not-now', authCode, state: st.name }, 'scan ignored: not now');
      this.flash('not-now');
      return;
    }
    const choice = st.choice;
    this.go({ name: 'processing', choice });
    this.inflight = this.pay(authCode, choice)
      // pay() handles the engine's errors; this catches a throwing 'payment' listener (else: unhandled rejection, exit).
      .catch((err: unknown) => this.log.error({ event: 'payment-listener-error', err }, 'error after the payment'))
      .finally(() => {
        this.inflight = undefined;
      });
  }

  /** The scanner dropped a line (noise, overlong, not digits). */
  bad(reason: string): void {
    if (this.st.name === 'stopped') return;
    // A noisy or misconfigured scanner can send thousands of lines a second: log at most one per second.
    const now = this.clock.now();
    if (now - this.lastBadLog >= 1000) {
      this.log.info({ event: 'scan-bad', reason, suppressed: this.badSuppressed }, 'bad code');
      this.lastBadLog = now;
      this.badSuppressed = 0;
    } else this.badSuppressed++;
    this.flash('bad-code');
  }

  /** The scanner disappeared (unplugged, EIO) or came back. */
  scannerConnected(connected: boolean): void {
    if (this.scannerFault === !connected) return;
    this.scannerFault = !connected;
    this.render();
  }

  /** The link monitor's verdict: while offline, the resting pattern is 'offline' so customers do not try. */
  linkOnline(online: boolean): void {
    if (this.linkOffline === !online) return;
    this.linkOffline = !online;
    this.render();
  }

  /** Stop taking keys and scans. The in-flight payment (if any) still finishes; see settled(). */
  stop(): void {
    this.clear('entryTimer');
    this.clear('resultTimer');
    this.clear('signalTimer');
    this.signal = undefined;
    this.st = { name: 'stopped' };
    this.emit('state', this.st);
  }

  // ---- internals

  private restState(): InteractionState {
    if (this.pricing.mode === 'fixed') {
      const p = this.pricing;
      return { name: 'ready', choice: { amountFen: p.amountFen, goodsId: p.goodsId, goodsInfo: p.goodsInfo } };
    }
    return { name: 'idle' };
  }

  private typeDigit(digits: string, key: string): void {
    const next = digits + key;
    if (this.pricing.mode === 'keyed') {
      const value = Number(next);
      if (value > this.pricing.maxAmountFen) return this.flash('not-now'); // over the limit: key refused
      return this.go({ name: 'entering', digits: value === 0 ? '' : String(value) });
    }
    if (next.length > this.maxItemDigits) return this.flash('not-now');
    this.go({ name: 'entering', digits: next });
  }

  private choose(digits: string): Choice | undefined {
    if (this.pricing.mode === 'keyed') {
      const amountFen = Number(digits || '0');
      const min = this.pricing.minAmountFen ?? 1;
      return amountFen >= min && amountFen <= this.pricing.maxAmountFen ? { amountFen } : undefined;
    }
    if (this.pricing.mode === 'menu') {
      const item = Object.prototype.hasOwnProperty.call(this.pricing.items, digits) ? this.pricing.items[digits] : undefined;
      if (item === undefined) return undefined;
      const it: MenuItem = typeof item === 'number' ? { amountFen: item } : item;
      return { amountFen: it.amountFen, item: digits, goodsId: it.goodsId, goodsInfo: it.goodsInfo };
    }
    return undefined;
  }

  private async pay(authCode: string, choice: Choice): Promise<void> {
    const masked = maskAuthCode(authCode);
    this.log.info({ event: 'scan', authCode, amountFen: choice.amountFen }, 'payment code scanned');
    let record: PaymentRecord;
    try {
      const result = await this.engine.pay(
        { authCode, amountFen: choice.amountFen, goodsId: choice.goodsId, goodsInfo: choice.goodsInfo },
        {
          deliver: (orderNo) => {
            this.log.info({ event: 'approve', orderNo, ms: this.timing.approvePulseMs }, 'releasing product');
            this.emit('approve', orderNo);
            return this.approve.pulse(this.timing.approvePulseMs);
          },
          progress: (state) => {
            this.log.debug({ event: 'progress', state }, 'payment progress');
            this.sendingOffline = state === 'offline';
            this.render();
            this.emit('progress', state);
          },
        },
      );
      const { pattern, long } = patternFor(result);
      record = { code: masked, amountFen: choice.amountFen, result, pattern };
      this.log.info({ event: 'customer-result', ...result, amountFen: choice.amountFen }, `customer result: ${result.kind}`);
      if (this.st.name === 'stopped') return;
      const orderNo = orderNoOf(result);
      // After success the amount is used up; after anything else the customer may try another code.
      const next: InteractionState = result.kind === 'approved' ? this.restState() : { name: 'ready', choice };
      if (long) this.go({ name: 'result', pattern, orderNo, next });
      else {
        this.go(next);
        this.flash(pattern);
      }
    } catch (err) {
      // The engine failed in a way it did not classify: we cannot say paid or not, so neither
      // success nor failure is shown; the technician's 'fault' pattern is.
      this.log.error({ event: 'engine-error', err }, 'payment engine threw');
      record = { code: masked, amountFen: choice.amountFen, result: { kind: 'error', detail: (err as Error)?.message ?? String(err) }, pattern: 'fault' };
      if (this.st.name !== 'stopped') this.go({ name: 'result', pattern: 'fault', next: this.restState() });
    }
    this.emit('payment', record);
  }

  private go(next: InteractionState): void {
    this.st = next;
    if (next.name !== 'processing') this.sendingOffline = false;
    this.clear('entryTimer');
    this.clear('resultTimer');
    if (next.name === 'entering' || (next.name === 'ready' && this.pricing.mode !== 'fixed')) {
      this.entryTimer = this.clock.setTimeout(() => {
        this.entryTimer = undefined;
        this.log.info({ event: 'entry-timeout', state: this.st.name }, 'entry timed out');
        this.go({ name: 'idle' });
      }, this.timing.entryTimeoutMs);
    }
    if (next.name === 'result') {
      this.resultTimer = this.clock.setTimeout(() => {
        this.resultTimer = undefined;
        if (this.st.name === 'result') this.go(this.st.next);
      }, this.timing.resultMs);
    }
    this.emit('state', next);
    this.render();
  }

  private flash(pattern: Pattern): void {
    if (this.st.name === 'stopped') return;
    this.clear('signalTimer');
    this.signal = pattern;
    this.emit('signal', pattern);
    this.render();
    this.signalTimer = this.clock.setTimeout(() => {
      this.signalTimer = undefined;
      this.signal = undefined;
      this.render();
    }, this.timing.signalMs);
  }

  private render(): void {
    const st = this.st;
    if (st.name === 'stopped') return;
    let pattern: Pattern;
    let orderNo: string | undefined;
    if (this.signal) pattern = this.signal;
    else if (st.name === 'processing') pattern = this.sendingOffline ? 'offline' : 'processing';
    else if (st.name === 'result') {
      pattern = st.pattern;
      orderNo = st.orderNo;
    } else if (this.scannerFault) pattern = 'fault';
    else if (this.linkOffline) pattern = 'offline';
    else pattern = st.name === 'ready' ? 'ready' : 'idle';
    const key = `${pattern}|${orderNo ?? ''}`;
    if (key === this.shown) return;
    this.shown = key;
    try {
      this.indicator.show(pattern, orderNo ? { orderNo } : {});
    } catch (err) {
      // A dead lamp must not stop a payment half-way (the state has already moved on): log it, go on.
      this.log.error({ event: 'indicator-error', pattern, err }, 'indicator failed');
    }
    this.emit('pattern', pattern, orderNo);
  }

  private clear(which: 'entryTimer' | 'resultTimer' | 'signalTimer'): void {
    const h = this[which];
    if (h !== undefined) this.clock.clearTimeout(h);
    this[which] = undefined;
  }
}
