// What the customer sees: the screen and the lamp pattern for the interaction's state, the countdown while
// paying, a long menu paging through its items, and the display and indicator told only when something changed
// (a dead lamp or display is logged, never stops a payment). The interaction (interaction.ts) decides the state;
// this module only shows it.
import type { Logger } from '../log.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { DisplayPort, IndicatorPort, Pattern } from './ports.js';
import { menuPages, renderScreen, type Screen } from './screens.js';
import type { Texts } from './texts.js';
import { chooseAmount, type Choice, type EntryState, type Pricing } from './amount.js';

export type InteractionState =
  | EntryState
  | { name: 'processing'; choice: Choice; since: number }
  | { name: 'result'; pattern: Pattern; screen: Screen; orderNo?: string; next: InteractionState }
  | { name: 'stopped' };

/** Everything besides the state that changes what the customer sees. */
export interface Shown {
  st: InteractionState;
  /** A short signal on show (bad code, not now), over the state's own screen and pattern. */
  signal?: { pattern: Pattern; screen: Screen };
  /** The platform said the customer is confirming on their phone (micropay 02 / query paying). */
  paying: boolean;
  /** The engine is retrying a send that provably never left (progress 'offline'). */
  sendingOffline: boolean;
  /** Held for a service task (Interaction.hold()). */
  holding: boolean;
  scannerFault: boolean;
  vendFault: boolean;
  /** The MDB HAT is not connected (mdb section): no selection can be paid. */
  mdbFault: boolean;
  linkOffline: boolean;
}

export interface ViewOptions {
  pricing: Pricing;
  indicator: IndicatorPort;
  display: DisplayPort | undefined;
  texts: Texts;
  timing: { customerWindowMs: number; windowEndingMs: number; scrollMs: number };
  clock: Clock;
  log: Logger;
  /** The interaction's events 'screen' (lines) and 'pattern' (pattern, orderNo?). */
  emit(event: 'screen' | 'pattern', ...args: unknown[]): void;
  /** Asks the interaction to show itself again (the countdown moved, the menu turned a page). */
  refresh(): void;
  /** When the payment on show started (mono), or undefined when none is processing. */
  processingSince(): number | undefined;
}

export class CustomerView {
  private page = 0;
  private tickTimer: TimerHandle | undefined;
  private scrollTimer: TimerHandle | undefined;
  private shownScreen: string | undefined;
  private shownPattern: string | undefined;

  constructor(private readonly o: ViewOptions) {}

  /** Shows the screen, then the pattern, for what is now. */
  show(s: Shown): void {
    this.showScreen(this.screen(s));
    const { pattern, orderNo } = this.pattern(s);
    const key = `${pattern}|${orderNo ?? ''}`;
    if (key === this.shownPattern) return;
    this.shownPattern = key;
    try {
      this.o.indicator.show(pattern, orderNo ? { orderNo } : {});
    } catch (err) {
      // A dead lamp must not stop a payment half-way (the state has already moved on): log it, go on.
      this.o.log.error({ event: 'indicator-error', pattern, err }, 'indicator failed');
    }
    this.o.emit('pattern', pattern, orderNo);
  }

  showScreen(screen: Screen): void {
    const lines = renderScreen(screen, this.o.texts, this.o.display?.geometry ?? { cols: 16, rows: 2 });
    const key = lines.join('\n');
    if (key === this.shownScreen) return;
    this.shownScreen = key;
    try {
      this.o.display?.show(lines);
    } catch (err) {
      this.o.log.error({ event: 'display-error', err }, 'display failed');
    }
    this.o.emit('screen', lines);
  }

  /** While processing: the countdown moves every second, on the second the customer sees change. */
  tick(): void {
    this.clear('tickTimer');
    const since = this.o.processingSince();
    if (since === undefined) return;
    const left = this.leftMs(since);
    if (left <= 0) return;
    const toNext = left % 1000 || 1000;
    this.tickTimer = this.o.clock.setTimeout(() => {
      this.tickTimer = undefined;
      this.o.refresh();
      this.tick();
    }, toNext);
  }

  /** A menu longer than the display pages through its items while nobody is choosing (idle); restarts at page 0. */
  scroll(idle: boolean): void {
    this.clear('scrollTimer');
    this.page = 0;
    const { pricing, display } = this.o;
    if (pricing.mode !== 'menu' || !idle || !display) return;
    const pages = menuPages(Object.keys(pricing.items).length, display.geometry.rows);
    if (pages <= 1) return;
    const turn = () => {
      this.scrollTimer = this.o.clock.setTimeout(() => {
        this.page = (this.page + 1) % pages;
        this.o.refresh();
        turn();
      }, this.o.timing.scrollMs);
    };
    turn();
  }

  stop(): void {
    this.clear('tickTimer');
    this.clear('scrollTimer');
  }

  private leftMs(since: number): number {
    return since + this.o.timing.customerWindowMs - this.o.clock.mono();
  }

  /** The last 10 s, but never more than a third of a short window: "processing" is seen first. */
  private windowEndingMs(): number {
    return Math.min(this.o.timing.windowEndingMs, Math.floor(this.o.timing.customerWindowMs / 3));
  }

  /** The screen for the state (the signal's while one shows). */
  private screen(s: Shown): Screen {
    const st = s.st;
    if (s.signal) return s.signal.screen;
    switch (st.name) {
      case 'processing': {
        const secondsLeft = Math.max(0, Math.ceil(this.leftMs(st.since) / 1000));
        if (s.sendingOffline) return { name: 'retrying', secondsLeft };
        if (s.paying) return { name: 'paying', secondsLeft };
        return { name: 'processing', amountFen: st.choice.amountFen, secondsLeft };
      }
      case 'result':
        return st.screen;
      case 'stopped':
        return { name: 'closed' };
      default:
    }
    if (s.holding) return { name: 'not-now', hint: 'wait' };
    if (s.scannerFault) return { name: 'fault', fault: 'F01' };
    if (s.vendFault) return { name: 'fault', fault: 'F04' };
    if (s.mdbFault) return { name: 'fault', fault: 'F06' };
    if (s.linkOffline) return { name: 'offline' };
    if (st.name === 'ready' && st.choice.productId !== undefined) return { name: 'vend', amountFen: st.choice.amountFen, item: st.choice.name ?? st.choice.productId };
    if (st.name === 'ready') return { name: 'ready', amountFen: st.choice.amountFen };
    if (st.name === 'entering') {
      if (this.o.pricing.mode === 'keyed') return { name: 'typing', amountFen: Number(st.digits || '0') };
      const choice = st.digits === '' ? undefined : chooseAmount(this.o.pricing, st.digits);
      return st.digits === '' ? this.idleScreen() : { name: 'item', item: st.digits, amountFen: choice?.amountFen };
    }
    return this.idleScreen();
  }

  private idleScreen(): Screen {
    const p = this.o.pricing;
    if (p.mode === 'menu') {
      const items = Object.entries(p.items)
        .sort(([a], [b]) => a.length - b.length || (a < b ? -1 : 1))
        .map(([item, v]) => (typeof v === 'number' ? { item, amountFen: v } : { item, amountFen: v.amountFen, label: v.goodsInfo }));
      return { name: 'menu', items, page: this.page };
    }
    if (p.mode === 'keyed') return { name: 'keyed' };
    if (p.mode === 'vmc') return { name: 'vmc' };
    return { name: 'ready', amountFen: p.amountFen };
  }

  private pattern(s: Shown): { pattern: Pattern; orderNo?: string } {
    const st = s.st;
    if (s.signal) return { pattern: s.signal.pattern };
    if (st.name === 'processing') {
      if (s.sendingOffline) return { pattern: 'offline' };
      if (this.leftMs(st.since) <= this.windowEndingMs()) return { pattern: 'window-ending' };
      return { pattern: s.paying ? 'confirm-on-phone' : 'processing' };
    }
    if (st.name === 'result') return { pattern: st.pattern, orderNo: st.orderNo };
    if (s.holding) return { pattern: 'idle' };
    if (s.scannerFault || s.vendFault || s.mdbFault) return { pattern: 'fault' };
    if (s.linkOffline) return { pattern: 'offline' };
    return { pattern: st.name === 'ready' ? 'ready' : 'idle' };
  }

  private clear(which: 'tickTimer' | 'scrollTimer'): void {
    const h = this[which];
    if (h !== undefined) this.o.clock.clearTimeout(h);
    this[which] = undefined;
  }
}
