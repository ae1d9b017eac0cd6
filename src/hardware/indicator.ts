// The indicator: three lamps (green, red, amber) and a buzzer showing what the kiosk is doing.
// Patterns are data (PATTERNS); drivers only know how to set a lamp and sound the buzzer.
import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';

export const PATTERN_NAMES = ['idle', 'ready', 'processing', 'confirm-on-phone', 'window-ending', 'success', 'failure', 'not-charged', 'bad-code', 'not-now', 'offline', 'fault', 'clock-fault'] as const;
export type Pattern = (typeof PATTERN_NAMES)[number];
export type Lamp = 'green' | 'red' | 'amber';
export const LAMPS: readonly Lamp[] = ['green', 'red', 'amber'];

/** off, steady on, or blinking: on for periodMs, off for periodMs. */
export type LampState = { mode: 'off' } | { mode: 'on' } | { mode: 'blink'; periodMs: number };

export interface PatternSpec {
  lamps: Record<Lamp, LampState>;
  /** Beeps sounded once when the pattern starts: each on for ms, then silent for gapMs. */
  beeps: { ms: number; gapMs: number }[];
  meaning: string;
}

const OFF: LampState = { mode: 'off' };
const ON: LampState = { mode: 'on' };
const blink = (periodMs: number): LampState => ({ mode: 'blink', periodMs });
const beeps = (n: number, ms: number, gapMs = ms) => Array.from({ length: n }, () => ({ ms, gapMs }));

/** docs/hardware.md ("Patterns") has the same table for operators: keep the two in step. */
export const PATTERNS: Record<Pattern, PatternSpec> = {
  idle: { lamps: { green: blink(1000), red: OFF, amber: OFF }, beeps: [], meaning: 'waiting for a customer' },
  ready: { lamps: { green: ON, red: OFF, amber: OFF }, beeps: [], meaning: 'amount chosen: scan your payment code' },
  processing: { lamps: { green: OFF, red: OFF, amber: blink(250) }, beeps: beeps(1, 60), meaning: 'code read, payment in progress' },
  // The platform says the customer is paying (micropay 02 / queryOrder paying): their phone asks for a PIN.
  'confirm-on-phone': { lamps: { green: blink(500), red: OFF, amber: ON }, beeps: beeps(2, 40, 120), meaning: 'the customer is paying: confirm on your phone' },
  'window-ending': { lamps: { green: OFF, red: OFF, amber: blink(100) }, beeps: beeps(1, 40), meaning: 'last 10 s of the customer window: confirm now, or it is cancelled' },
  success: { lamps: { green: ON, red: OFF, amber: OFF }, beeps: beeps(2, 100), meaning: 'paid: take your product' },
  failure: { lamps: { green: OFF, red: ON, amber: OFF }, beeps: beeps(1, 700), meaning: 'not paid: the platform said so' },
  // Not "failure": the platform said nothing final in time. The payment is being reversed (or refunded).
  'not-charged': { lamps: { green: OFF, red: ON, amber: ON }, beeps: beeps(2, 300), meaning: 'no answer in time: payment cancelled, any charge is given back' },
  'bad-code': { lamps: { green: OFF, red: blink(150), amber: OFF }, beeps: beeps(3, 80), meaning: 'that was not a payment code: nothing was sent' },
  'not-now': { lamps: { green: OFF, red: OFF, amber: blink(150) }, beeps: beeps(1, 80), meaning: 'scan ignored: choose an amount first, or wait' },
  offline: { lamps: { green: OFF, red: OFF, amber: ON }, beeps: [], meaning: 'payment platform unreachable: no payments' },
  fault: { lamps: { green: OFF, red: blink(1000), amber: OFF }, beeps: beeps(1, 300), meaning: 'device fault (scanner missing): technician needed' },
  'clock-fault': { lamps: { green: OFF, red: ON, amber: blink(1000) }, beeps: beeps(1, 300), meaning: 'system clock not set/synchronised: no payments' },
};

export interface ShowInfo {
  orderNo?: string;
}

/** show() never throws: a lamp that fails must not stop a payment. Events: 'pattern' ({pattern, orderNo?}). */
export interface Indicator extends EventEmitter {
  open(): Promise<void>;
  show(pattern: Pattern, info?: ShowInfo): void;
  readonly pattern: Pattern | null;
  close(): Promise<void>;
}

/**
 * Plays PATTERNS on a driver's lamps and buzzer. Lamps are set once per pattern (a blinking lamp blinks by
 * itself in the driver); beeps are sequenced here with injectable timers, and cut short by the next pattern.
 */
export abstract class PatternIndicator extends EventEmitter implements Indicator {
  private current: Pattern | null = null;
  private beepTimer: TimerHandle | null = null;
  private buzzing = false;
  protected readonly timers: Clock;

  constructor(timers?: Clock) {
    super();
    this.timers = timers ?? systemClock;
  }

  get pattern(): Pattern | null {
    return this.current;
  }

  abstract open(): Promise<void>;
  protected abstract setLamp(lamp: Lamp, state: LampState): void;
  protected abstract setBuzzer(on: boolean): void;
  protected abstract release(): Promise<void>;

  show(pattern: Pattern, info: ShowInfo = {}): void {
    const spec = PATTERNS[pattern];
    if (!spec) return void this.emit('warning', new RangeError(`unknown indicator pattern ${JSON.stringify(pattern)}`));
    this.current = pattern;
    this.stopBeeps();
    this.safely(() => {
      for (const lamp of LAMPS) this.setLamp(lamp, spec.lamps[lamp]);
    });
    this.playBeeps(spec.beeps, 0);
    this.emit('pattern', info.orderNo ? { pattern, orderNo: info.orderNo } : { pattern });
  }

  async close(): Promise<void> {
    this.stopBeeps();
    this.safely(() => {
      for (const lamp of LAMPS) this.setLamp(lamp, OFF);
    });
    await this.release();
  }

  private playBeeps(list: PatternSpec['beeps'], i: number): void {
    if (i >= list.length) return;
    this.buzz(true);
    this.beepTimer = this.timers.setTimeout(() => {
      this.buzz(false);
      this.beepTimer = this.timers.setTimeout(() => this.playBeeps(list, i + 1), list[i]!.gapMs);
    }, list[i]!.ms);
  }

  private stopBeeps(): void {
    if (this.beepTimer !== null) this.timers.clearTimeout(this.beepTimer);
    this.beepTimer = null;
    if (this.buzzing) this.buzz(false);
  }

  private buzz(on: boolean): void {
    this.buzzing = on;
    this.safely(() => this.setBuzzer(on));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.emit('warning', err);
    }
  }
}
