// (Over 350 lines: the one state machine of the customer, with the vending machine's offers of mdb-vend.ts.)
// The customer interaction: choose an amount (fixed, menu, keyed, or the vending machine's selection), scan,
// wait, get the product or a clear "no". A small state machine over narrow ports (engine, indicator, approve,
// clock) so it can be driven by fakes and a fake clock. It never talks to the gateway or the journal itself: money
// decisions are the engine's; this module only decides when a scan is worth sending at all, and what follows. Its
// parts: the amount entry (amount.ts), scan → pay → result (scan-pay.ts), what the customer sees (customer-view.ts).
import { EventEmitter } from 'node:events';
import { silentLogger, type Logger } from '../log.js';
import { classifyAuthCode } from '../umpay/authcode.js';
import type { ApprovePort, DisplayPort, EnginePort, IndicatorPort, Pattern } from './ports.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { DEFAULTS } from '../config/defaults.js';
import type { Screen } from './screens.js';
import { DEFAULT_TEXTS, type Texts } from './texts.js';
import { entryKey, restEntry, type Choice, type Pricing } from './amount.js';
import { CustomerView, type InteractionState } from './customer-view.js';
import { afterError, afterResult, sendScan, type PaymentRecord, type ScanPayDeps } from './scan-pay.js';

export type { Choice, MenuItem, Pricing, PricingMode } from './amount.js';
export type { InteractionState } from './customer-view.js';
export { orderNoOf, patternFor, type PaymentRecord } from './scan-pay.js';

export interface InteractionTiming {
  /** No key or scan for this long while choosing or holding an amount → back to idle (menu/keyed). */
  entryTimeoutMs: number;
  /** How long a short signal (bad code, not now) shows before the previous pattern returns. */
  signalMs: number;
  /** How long success/failure (and offline/clock refusals) show before the next customer. */
  resultMs: number;
  /** Vend relay pulse when a payment is approved. */
  approvePulseMs: number;
  /** The engine's customer window (payment.customerWindowMs): the countdown the customer sees. */
  customerWindowMs: number;
  /** The last part of the window that is shown as ending (faster blink); at most a third of the window. */
  windowEndingMs: number;
  /** A menu longer than the display turns a page this often. */
  scrollMs: number;
}

// The configurable ones come from the config's defaults (one definition).
export const DEFAULT_TIMING: InteractionTiming = {
  entryTimeoutMs: DEFAULTS.pricing.entryTimeoutMs,
  signalMs: 1_500,
  resultMs: DEFAULTS.display.resultMs,
  approvePulseMs: DEFAULTS.approve.pulseMs,
  customerWindowMs: DEFAULTS.payment.customerWindowMs,
  windowEndingMs: 10_000,
  scrollMs: 2_500,
};

export interface InteractionOptions {
  pricing: Pricing;
  engine: EnginePort;
  indicator: IndicatorPort;
  approve: ApprovePort;
  /** Releases the product and, with a vend sensor, proves it (src/kiosk/vend.ts). Absent: approve.pulse. */
  vend?: ScanPayDeps['vend'];
  /** The character display (none: screens are still computed, see the 'screen' event). */
  display?: DisplayPort;
  /** Operator overrides of the display texts (config display.texts). */
  texts?: Partial<Texts>;
  timing?: Partial<InteractionTiming>;
  clock?: Clock;
  log?: Logger;
}

/**
 * Events: 'state' (InteractionState) on every change, 'progress' (the engine's word while paying:
 * 'paying', 'offline', …), 'payment' (PaymentRecord) when a sent scan
 * finishes, 'signal' (pattern) for short signals, 'pattern' (pattern, orderNo?) whenever the
 * indicator is told something new, 'screen' (lines) whenever the display is, 'approve' (orderNo) when the
 * product is released.
 */
export class Interaction extends EventEmitter {
  private readonly pricing: Pricing;
  private readonly engine: EnginePort;
  private readonly approve: ApprovePort;
  private readonly vend: InteractionOptions['vend'];
  private readonly timing: InteractionTiming;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly view: CustomerView;
  private st: InteractionState;
  private entryTimer: TimerHandle | undefined;
  private resultTimer: TimerHandle | undefined;
  private signalTimer: TimerHandle | undefined;
  private signal: { pattern: Pattern; screen: Screen } | undefined;
  /** The platform said the customer is confirming on their phone (micropay 02 / query paying). */
  private paying = false;
  private scannerFault = false;
  /** Held out of customer use for a short service task (a scanner setup on demand): see hold(). */
  private holding = false;
  /** Why the vend sensor cannot be trusted (stuck, or no drop for N vends), or null: no payments meanwhile. */
  private vendFaultReason: string | null = null;
  /** Why the MDB HAT cannot be used (not connected), or null: no selection is offered meanwhile. */
  private mdbFaultReason: string | null = null;
  private linkOffline = false;
  /** The engine is retrying a send that provably never left (progress 'offline'): shown as 'offline'. */
  private sendingOffline = false;
  private inflight: Promise<void> | undefined;
  private lastBadLog = -Infinity;
  private badSuppressed = 0;

  constructor(opts: InteractionOptions) {
    super();
    this.pricing = opts.pricing;
    this.engine = opts.engine;
    this.approve = opts.approve;
    this.vend = opts.vend;
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    const shown = { pricing: this.pricing, indicator: opts.indicator, display: opts.display, texts: { ...DEFAULT_TEXTS, ...opts.texts }, clock: this.clock, log: this.log };
    this.view = new CustomerView({
      ...shown,
      timing: this.timing,
      emit: (event, ...args) => this.emit(event, ...args),
      refresh: () => this.render(),
      processingSince: () => (this.st.name === 'processing' ? this.st.since : undefined),
    });
    this.st = restEntry(this.pricing);
    this.render();
    this.view.scroll(this.st.name === 'idle');
  }

  get state(): InteractionState {
    return this.st;
  }

  /** Resolves when no payment is in flight (the engine answered the customer). */
  settled(): Promise<void> {
    return this.inflight ?? Promise.resolve();
  }

  /** Held for a service task (hold()). */
  get held(): boolean {
    return this.holding;
  }

  /**
   * Takes the kiosk out of customer use for a short service task (a scanner setup on demand), only when nobody is
   * using it: no amount being typed or chosen, no payment in flight, no result on show. While held, scans and keys
   * are refused ("Please wait"), the lamps do not invite a scan. Returns the release, or why not.
   */
  hold(): { release(): void } | { busy: string } {
    const st = this.st;
    if (this.holding) return { busy: 'the kiosk is already held for a service task' };
    if (st.name === 'stopped') return { busy: 'the kiosk is stopping' };
    if (this.inflight || st.name === 'processing') return { busy: 'a customer is paying' };
    if (st.name === 'result') return { busy: "a customer is reading a payment's result" };
    if (st.name === 'entering' || (st.name === 'ready' && this.pricing.mode !== 'fixed')) return { busy: 'a customer is choosing an amount' };
    this.holding = true;
    this.log.info({ event: 'held', state: st.name }, 'kiosk held for a service task: scans refused');
    this.render();
    let done = false;
    return {
      release: () => {
        if (done) return;
        done = true;
        this.holding = false;
        this.log.info({ event: 'released' }, 'service task over: taking scans again');
        this.render();
      },
    };
  }

  /**
   * The vending machine's selection (MDB, pricing mode vmc): shown as "scan to pay ¥X for <item>" until a scan,
   * a cancel or withdraw(). null when taken; else why not (the caller denies it at the machine).
   */
  offer(choice: Choice): string | null {
    const st = this.st;
    if (st.name === 'stopped') return 'the kiosk is stopping';
    if (this.holding) return 'the kiosk is held for a service task';
    if (st.name === 'processing' || this.inflight) return 'a payment is in progress';
    if (this.scannerFault || this.vendFaultReason || this.mdbFaultReason) return 'the kiosk is out of service';
    if (this.linkOffline) return 'the payment platform cannot be reached';
    this.log.info({ event: 'vend-offered', amountFen: choice.amountFen, productId: choice.productId }, 'selection offered');
    this.go({ name: 'ready', choice });
    return null;
  }

  /** The machine ended its selection (or the kiosk denied it): back to idle unless a payment is under way. */
  withdraw(): void {
    if (this.st.name === 'ready' && this.pricing.mode === 'vmc') this.go({ name: 'idle' });
  }

  /** The MDB HAT's health: while not connected, out of service F05. */
  mdbFault(reason: string | null): void {
    if (this.mdbFaultReason === reason) return;
    this.mdbFaultReason = reason;
    if (reason) this.withdraw();
    this.render();
  }

  /** A key from the keypad: '0'–'9', '*', '#'. */
  key(key: string): void {
    if (!/^[0-9*#]$/.test(key)) return;
    const st = this.st;
    if (this.pricing.mode === 'vmc') {
      // The machine's selection: '*' is the customer's cancel (the vend is denied; a payment on its way is refunded).
      if (key !== '*' || (st.name !== 'ready' && st.name !== 'processing')) return;
      this.log.info({ event: 'customer-cancel', state: st.name }, 'customer cancelled the selection');
      this.emit('cancel');
      if (st.name === 'ready') this.go({ name: 'idle' });
      return;
    }
    if (this.pricing.mode === 'fixed' || st.name === 'processing' || st.name === 'result' || st.name === 'stopped') return;
    if (this.holding) return this.flash('not-now', { name: 'not-now', hint: 'wait' });
    const step = entryKey(this.pricing, st, key);
    if (step.refuse) this.flash('not-now', step.refuse);
    if (!step.go) return;
    if (step.go.name === 'ready') this.log.info({ event: 'amount-chosen', amountFen: step.go.choice.amountFen, item: step.go.choice.item }, 'amount chosen');
    this.go(step.go);
  }

  /** A clean digit string from the scanner: a payment code of a known wallet, or a bad scan. */
  code(authCode: string): void {
    const st = this.st;
    if (st.name === 'stopped') return;
    // The scanner only frames lines; whether this is a payment code is the kiosk's call (never sent if not).
    const kind = classifyAuthCode(authCode);
    if (!kind.ok) return this.bad(kind.reason);
    if (this.holding) {
      this.log.info({ event: 'scan-not-now', authCode, state: 'held' }, 'scan ignored: kiosk held for a service task');
      this.flash('not-now', { name: 'not-now', hint: 'wait' });
      return;
    }
    if (st.name !== 'ready') {
      // No amount chosen yet, or a payment still in flight / on show: not sent.
      this.log.info({ event: 'scan-not-now', authCode, state: st.name }, 'scan ignored: not now');
      this.flash('not-now', { name: 'not-now', hint: st.name === 'processing' || st.name === 'result' ? 'wait' : 'choose' });
      return;
    }
    if (this.vendFaultReason) {
      // A paid product could not be proven out: take no money until the sensor works again.
      this.log.info({ event: 'scan-refused-vend-fault', authCode, reason: this.vendFaultReason }, 'scan ignored: vend sensor fault');
      this.flash('fault', { name: 'fault', fault: 'F04' });
      return;
    }
    const choice = st.choice;
    this.go({ name: 'processing', choice, since: this.clock.mono() });
    this.inflight = this.pay(authCode, choice)
      // pay() handles the engine's errors; this catches a throwing 'payment' listener (else: unhandled
      // rejection, exit).
      .catch((err: unknown) => this.log.error({ event: 'payment-listener-error', err }, 'error after the payment'))
      .finally(() => {
        this.inflight = undefined;
      });
  }

  /** The scanner dropped a line (noise, overlong, not digits), or a digit string is no payment code. */
  bad(reason: string): void {
    if (this.st.name === 'stopped') return;
    // A noisy or misconfigured scanner can send thousands of lines a second: log at most one per second.
    const now = this.clock.mono();
    if (now - this.lastBadLog >= 1000) {
      this.log.info({ event: 'scan-bad', reason, suppressed: this.badSuppressed }, 'bad code');
      this.lastBadLog = now;
      this.badSuppressed = 0;
    } else this.badSuppressed++;
    this.flash('bad-code', { name: 'bad-code' });
  }

  /** The scanner disappeared (unplugged, EIO) or came back. */
  scannerConnected(connected: boolean): void {
    if (this.scannerFault === !connected) return;
    this.scannerFault = !connected;
    this.render();
  }

  /** The vend sensor's health (src/kiosk/vend.ts 'fault'): while faulty, out of service F04. */
  vendFault(reason: string | null): void {
    if (this.vendFaultReason === reason) return;
    this.vendFaultReason = reason;
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
    this.view.stop();
    this.signal = undefined;
    this.st = { name: 'stopped' };
    this.emit('state', this.st);
  }

  /** The display is told to show "Closed" (the daemon stops; after the in-flight payment, if any). */
  showClosed(): void {
    this.view.showScreen({ name: 'closed' });
  }

  private async pay(authCode: string, choice: Choice): Promise<void> {
    const deps = { engine: this.engine, approve: this.approve, vend: this.vend, approvePulseMs: this.timing.approvePulseMs, log: this.log };
    let record: PaymentRecord;
    try {
      const result = await sendScan(deps, authCode, choice, {
        approve: (orderNo) => this.emit('approve', orderNo),
        progress: (state) => {
          this.sendingOffline = state === 'offline';
          // Once the platform said the customer is paying, they are until the verdict (a later query may fail).
          if (state === 'paying') this.paying = true;
          this.render();
          this.emit('progress', state);
        },
      });
      const after = afterResult(result, authCode, choice, restEntry(this.pricing), this.pricing.mode !== 'vmc');
      record = after.record;
      this.log.info({ event: 'customer-result', ...result, amountFen: choice.amountFen }, `customer result: ${result.kind}`);
      if (this.st.name === 'stopped') return;
      this.go(after.next);
      if (after.signal) this.flash(after.signal.pattern, after.signal.screen);
    } catch (err) {
      this.log.error({ event: 'engine-error', err }, 'payment engine threw');
      const after = afterError(err, authCode, choice, restEntry(this.pricing));
      record = after.record;
      if (this.st.name !== 'stopped') this.go(after.next);
    }
    this.emit('payment', record);
  }

  private go(next: InteractionState): void {
    const wasIdle = this.st.name === 'idle';
    this.st = next;
    if (next.name !== 'processing') {
      this.sendingOffline = false;
      this.paying = false;
    } else {
      // A good scan right after a bad one: the customer is paying now, not looking at a stale bad-code flash
      // (which would also hide a result shorter than the flash).
      this.clear('signalTimer');
      this.signal = undefined;
    }
    this.view.tick();
    this.clear('entryTimer');
    this.clear('resultTimer');
    if (next.name !== 'idle' || !wasIdle) this.view.scroll(next.name === 'idle');
    // The machine's selection has its own window (mdb.approvalWindowMs, kept by mdb-vend.ts).
    if (next.name === 'entering' || (next.name === 'ready' && this.pricing.mode !== 'fixed' && this.pricing.mode !== 'vmc')) {
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

  private flash(pattern: Pattern, screen: Screen): void {
    if (this.st.name === 'stopped') return;
    this.clear('signalTimer');
    this.signal = { pattern, screen };
    this.emit('signal', pattern);
    this.render();
    this.signalTimer = this.clock.setTimeout(() => {
      this.signalTimer = undefined;
      this.signal = undefined;
      this.render();
    }, this.timing.signalMs);
  }

  private render(): void {
    if (this.st.name === 'stopped') return;
    const { st, signal, paying, sendingOffline, holding, scannerFault, linkOffline } = this;
    this.view.show({ st, signal, paying, sendingOffline, holding, scannerFault, vendFault: !!this.vendFaultReason, mdbFault: !!this.mdbFaultReason, linkOffline });
  }

  private clear(which: 'entryTimer' | 'resultTimer' | 'signalTimer'): void {
    const h = this[which];
    if (h !== undefined) this.clock.clearTimeout(h);
    this[which] = undefined;
  }
}
