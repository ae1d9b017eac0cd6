// The customer interaction: choose an amount (fixed, menu or keyed), scan, wait, get the product or
// a clear "no". A small state machine over narrow ports (engine, indicator, approve, clock) so it can
// be driven by fakes and a fake clock. It never talks to the gateway or the journal itself: money
// decisions are the engine's; this module only decides what the customer sees and when a scan is
// worth sending at all.
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { classifyAuthCode, maskAuthCode } from '../umpay/authcode.js';
import type { ApprovePort, CustomerResult, DisplayPort, EnginePort, IndicatorPort, Pattern } from './ports.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { DEFAULTS } from '../config/types.js';
import { menuPages, renderScreen, type Screen } from './screens.js';
import { DEFAULT_TEXTS, type Texts } from './texts.js';

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
  vend?: { release(orderNo: string, evidence?: { sensed(): void }): Promise<void> };
  /** The character display (none: screens are still computed, see the 'screen' event). */
  display?: DisplayPort;
  /** Operator overrides of the display texts (config display.texts). */
  texts?: Partial<Texts>;
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
  | { name: 'processing'; choice: Choice; since: number }
  | { name: 'result'; pattern: Pattern; screen: Screen; orderNo?: string; next: InteractionState }
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
        case 'offline':
          return { pattern: 'offline', screen: { name: 'offline' }, long: true };
      }
  }
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
  private readonly indicator: IndicatorPort;
  private readonly approve: ApprovePort;
  private readonly vend: InteractionOptions['vend'];
  private readonly display: DisplayPort | undefined;
  private readonly texts: Texts;
  private readonly timing: InteractionTiming;
  private readonly clock: Clock;
  private readonly log: Logger;
  private st: InteractionState;
  private entryTimer: TimerHandle | undefined;
  private resultTimer: TimerHandle | undefined;
  private signalTimer: TimerHandle | undefined;
  private signal: Pattern | undefined;
  private signalScreen: Screen | undefined;
  /** The platform said the customer is confirming on their phone (micropay 02 / query paying). */
  private paying = false;
  private tickTimer: TimerHandle | undefined;
  private scrollTimer: TimerHandle | undefined;
  private page = 0;
  private shownScreen: string | undefined;
  private scannerFault = false;
  /** Held out of customer use for a short service task (a scanner setup on demand): see hold(). */
  private holding = false;
  /** Why the vend sensor cannot be trusted (stuck, or no drop for N vends), or null: no payments meanwhile. */
  private vendFaultReason: string | null = null;
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
    this.vend = opts.vend;
    this.display = opts.display;
    this.texts = { ...DEFAULT_TEXTS, ...opts.texts };
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.maxItemDigits = this.pricing.mode === 'menu' ? Math.max(1, ...Object.keys(this.pricing.items).map((k) => k.length)) : 0;
    this.st = this.restState();
    this.render();
    this.scroll();
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

  /** A key from the keypad: '0'–'9', '*', '#'. */
  key(key: string): void {
    if (!/^[0-9*#]$/.test(key)) return;
    const st = this.st;
    if (this.pricing.mode === 'fixed' || st.name === 'processing' || st.name === 'result' || st.name === 'stopped') return;
    if (this.holding) return this.flash('not-now', { name: 'not-now', hint: 'wait' });
    const digit = key >= '0' && key <= '9';
    if (st.name === 'idle' || st.name === 'ready') {
      // In ready, a digit starts a new choice (the customer changed their mind); '*' cancels.
      if (digit) return this.typeDigit('', key);
      if (key === '*') return this.go({ name: 'idle' });
      return this.flash('not-now', { name: 'not-now', hint: 'choose' }); // '#' with nothing typed
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
      this.flash('not-now', this.pricing.mode === 'keyed' && st.digits !== '' ? { name: 'not-now', hint: 'max', maxFen: this.pricing.maxAmountFen } : { name: 'not-now', hint: 'choose' });
      return this.go({ name: 'entering', digits: '' });
    }
    this.log.info({ event: 'amount-chosen', amountFen: choice.amountFen, item: choice.item }, 'amount chosen');
    this.go({ name: 'ready', choice });
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
    this.clear('tickTimer');
    this.clear('scrollTimer');
    this.signal = undefined;
    this.signalScreen = undefined;
    this.st = { name: 'stopped' };
    this.emit('state', this.st);
  }

  /** The display is told to show "Closed" (the daemon stops; after the in-flight payment, if any). */
  showClosed(): void {
    this.showScreen({ name: 'closed' });
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
      if (value > this.pricing.maxAmountFen) return this.flash('not-now', { name: 'not-now', hint: 'max', maxFen: this.pricing.maxAmountFen }); // over the limit: key refused
      return this.go({ name: 'entering', digits: value === 0 ? '' : String(value) });
    }
    if (next.length > this.maxItemDigits) return this.flash('not-now', { name: 'not-now', hint: 'choose' });
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
          deliver: (orderNo, evidence) => {
            this.log.info({ event: 'approve', orderNo, ms: this.timing.approvePulseMs }, 'releasing product');
            this.emit('approve', orderNo);
            return this.vend ? this.vend.release(orderNo, evidence) : this.approve.pulse(this.timing.approvePulseMs);
          },
          progress: (state) => {
            this.log.debug({ event: 'progress', state }, 'payment progress');
            this.sendingOffline = state === 'offline';
            // Once the platform said the customer is paying, they are until the verdict (a later query may fail).
            if (state === 'paying') this.paying = true;
            this.render();
            this.emit('progress', state);
          },
        },
      );
      const { pattern, screen, long } = patternFor(result);
      record = { code: masked, amountFen: choice.amountFen, result, pattern };
      this.log.info({ event: 'customer-result', ...result, amountFen: choice.amountFen }, `customer result: ${result.kind}`);
      if (this.st.name === 'stopped') return;
      const orderNo = orderNoOf(result);
      // After success the amount is used up; after anything else the customer may try another code.
      const next: InteractionState = result.kind === 'approved' ? this.restState() : { name: 'ready', choice };
      if (long) this.go({ name: 'result', pattern, screen, orderNo, next });
      else {
        this.go(next);
        this.flash(pattern, screen);
      }
    } catch (err) {
      // The engine failed in a way it did not classify: we cannot say paid or not, so neither
      // success nor failure is shown; the technician's 'fault' pattern is.
      this.log.error({ event: 'engine-error', err }, 'payment engine threw');
      record = { code: masked, amountFen: choice.amountFen, result: { kind: 'error', detail: (err as Error)?.message ?? String(err) }, pattern: 'fault' };
      if (this.st.name !== 'stopped') this.go({ name: 'result', pattern: 'fault', screen: { name: 'fault', fault: 'F03' }, next: this.restState() });
    }
    this.emit('payment', record);
  }

  private go(next: InteractionState): void {
    const wasIdle = this.st.name === 'idle';
    this.st = next;
    if (next.name !== 'processing') {
      this.sendingOffline = false;
      this.paying = false;
      this.clear('tickTimer');
    } else {
      // A good scan right after a bad one: the customer is paying now, not looking at a stale bad-code flash
      // (which would also hide a result shorter than the flash).
      this.clear('signalTimer');
      this.signal = undefined;
      this.signalScreen = undefined;
      this.tick();
    }
    this.clear('entryTimer');
    this.clear('resultTimer');
    if (next.name !== 'idle' || !wasIdle) this.scroll();
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

  private flash(pattern: Pattern, screen: Screen): void {
    if (this.st.name === 'stopped') return;
    this.clear('signalTimer');
    this.signal = pattern;
    this.signalScreen = screen;
    this.emit('signal', pattern);
    this.render();
    this.signalTimer = this.clock.setTimeout(() => {
      this.signalTimer = undefined;
      this.signal = undefined;
      this.signalScreen = undefined;
      this.render();
    }, this.timing.signalMs);
  }

  /** While processing: the countdown moves every second, on the second the customer sees change. */
  private tick(): void {
    this.clear('tickTimer');
    const st = this.st;
    if (st.name !== 'processing') return;
    const left = st.since + this.timing.customerWindowMs - this.clock.mono();
    if (left <= 0) return;
    const toNext = left % 1000 || 1000;
    this.tickTimer = this.clock.setTimeout(() => {
      this.tickTimer = undefined;
      this.render();
      this.tick();
    }, toNext);
  }

  /** A menu longer than the display pages through its items while nobody is choosing. */
  private scroll(): void {
    this.clear('scrollTimer');
    this.page = 0;
    if (this.pricing.mode !== 'menu' || this.st.name !== 'idle' || !this.display) return;
    const pages = menuPages(Object.keys(this.pricing.items).length, this.display.geometry.rows);
    if (pages <= 1) return;
    const turn = () => {
      this.scrollTimer = this.clock.setTimeout(() => {
        this.page = (this.page + 1) % pages;
        this.render();
        turn();
      }, this.timing.scrollMs);
    };
    turn();
  }

  /** The last 10 s, but never more than a third of a short window: "processing" is seen first. */
  private windowEndingMs(): number {
    return Math.min(this.timing.windowEndingMs, Math.floor(this.timing.customerWindowMs / 3));
  }

  private secondsLeft(since: number): number {
    return Math.max(0, Math.ceil((since + this.timing.customerWindowMs - this.clock.mono()) / 1000));
  }

  /** The screen for the current state (the signal's while one shows). */
  private screen(): Screen {
    const st = this.st;
    if (this.signalScreen) return this.signalScreen;
    switch (st.name) {
      case 'processing': {
        const secondsLeft = this.secondsLeft(st.since);
        if (this.sendingOffline) return { name: 'retrying', secondsLeft };
        if (this.paying) return { name: 'paying', secondsLeft };
        return { name: 'processing', amountFen: st.choice.amountFen, secondsLeft };
      }
      case 'result':
        return st.screen;
      case 'stopped':
        return { name: 'closed' };
      default:
    }
    if (this.holding) return { name: 'not-now', hint: 'wait' };
    if (this.scannerFault) return { name: 'fault', fault: 'F01' };
    if (this.vendFaultReason) return { name: 'fault', fault: 'F04' };
    if (this.linkOffline) return { name: 'offline' };
    if (st.name === 'ready') return { name: 'ready', amountFen: st.choice.amountFen };
    if (st.name === 'entering') {
      if (this.pricing.mode === 'keyed') return { name: 'typing', amountFen: Number(st.digits || '0') };
      const choice = st.digits === '' ? undefined : this.choose(st.digits);
      return st.digits === '' ? this.idleScreen() : { name: 'item', item: st.digits, amountFen: choice?.amountFen };
    }
    return this.idleScreen();
  }

  private idleScreen(): Screen {
    const p = this.pricing;
    if (p.mode === 'menu') {
      const items = Object.entries(p.items)
        .sort(([a], [b]) => a.length - b.length || (a < b ? -1 : 1))
        .map(([item, v]) => (typeof v === 'number' ? { item, amountFen: v } : { item, amountFen: v.amountFen, label: v.goodsInfo }));
      return { name: 'menu', items, page: this.page };
    }
    if (p.mode === 'keyed') return { name: 'keyed' };
    return { name: 'ready', amountFen: p.amountFen };
  }

  private showScreen(screen: Screen): void {
    const lines = renderScreen(screen, this.texts, this.display?.geometry ?? { cols: 16, rows: 2 });
    const key = lines.join('\n');
    if (key === this.shownScreen) return;
    this.shownScreen = key;
    try {
      this.display?.show(lines);
    } catch (err) {
      this.log.error({ event: 'display-error', err }, 'display failed');
    }
    this.emit('screen', lines);
  }

  private render(): void {
    const st = this.st;
    if (st.name === 'stopped') return;
    this.showScreen(this.screen());
    let pattern: Pattern;
    let orderNo: string | undefined;
    if (this.signal) pattern = this.signal;
    else if (st.name === 'processing') {
      if (this.sendingOffline) pattern = 'offline';
      else if (st.since + this.timing.customerWindowMs - this.clock.mono() <= this.windowEndingMs()) pattern = 'window-ending';
      else pattern = this.paying ? 'confirm-on-phone' : 'processing';
    } else if (st.name === 'result') {
      pattern = st.pattern;
      orderNo = st.orderNo;
    } else if (this.holding) pattern = 'idle';
    else if (this.scannerFault || this.vendFaultReason) pattern = 'fault';
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

  private clear(which: 'entryTimer' | 'resultTimer' | 'signalTimer' | 'tickTimer' | 'scrollTimer'): void {
    const h = this[which];
    if (h !== undefined) this.clock.clearTimeout(h);
    this[which] = undefined;
  }
}
