// Indicator on johnny-five: three Leds and a buzzer (Piezo, or an active buzzer driven as a Led), over either
// the Pi's own GPIO (OnoffIO) or a Firmata board on a serial port. johnny-five is loaded only when this
// driver is used: it is heavy and the daemon's cold start matters.
import { createRequire } from 'node:module';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { GpioOptions } from '../gpio.js';
import { PatternIndicator, type Lamp, type LampState } from '../indicator.js';
import type { Clock } from '../../clock.js';
import { OnoffIO } from './onoff-io.js';

/** config `indicator` with driver 'johnny-five'. */
export interface J5IndicatorOptions extends GpioOptions {
  /** 'gpio': the Pi's header through onoff (BCM pins). 'firmata': a Firmata board (its own pin numbers). */
  io?: 'gpio' | 'firmata';
  /** Serial device of the Firmata board. */
  firmataPort?: string;
  /** Default 57600 (StandardFirmata). */
  firmataBaudRate?: number;
  pins: { green: number; red: number; amber: number; buzzer: number };
  /** 'active': a buzzer that sounds when powered (a plain output). 'piezo': a passive piezo toned by johnny-five. */
  buzzer?: 'piezo' | 'active';
  /** Piezo tone, Hz. Default 2000. */
  toneHz?: number;
  /** A ready-made IO instance (tests: mock-firmata); overrides io. */
  ioInstance?: unknown;
  /** Give up waiting for the board after this long, ms. Default 10000. */
  readyTimeoutMs?: number;
  timers?: Clock;
  log?: Logger;
}

/* The johnny-five surface used here (the package ships no types). */
interface J5Led { on(): void; off(): void; blink(ms: number): void; stop(): void }
interface J5Piezo { frequency(hz: number, ms: number): void; noTone(): void }
interface J5 {
  Board: new (o: object) => { on(e: string, f: (...a: unknown[]) => void): void; once(e: string, f: (...a: unknown[]) => void): void; io: unknown };
  Led: new (o: object) => J5Led;
  Piezo: new (o: object) => J5Piezo;
}

export class J5Indicator extends PatternIndicator {
  leds: Record<Lamp, J5Led> | null = null;
  buzzerLed: J5Led | null = null;
  piezo: J5Piezo | null = null;
  private io: { close?(): void; transport?: { close?(cb?: () => void): void; isOpen?: boolean } } | null = null;
  private readonly log: Logger;

  constructor(private readonly options: J5IndicatorOptions) {
    super(options.timers);
    this.log = options.log ?? silentLogger;
  }

  async open(): Promise<void> {
    const name = 'johnny-five'; // a variable: the package ships no types, and this keeps tsc from asking for them
    const five = ((await import(name)) as { default: J5 }).default;
    const io = (this.options.ioInstance ?? (await this.makeIO())) as NonNullable<typeof this.io>;
    this.io = io;
    const board = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: 1e9 });
    await new Promise<void>((resolve, reject) => {
      const limit = this.options.readyTimeoutMs ?? 10_000;
      const timer = setTimeout(() => reject(new Error(`indicator board did not become ready within ${limit} ms (${this.where()})`)), limit);
      board.once('ready', () => (clearTimeout(timer), resolve()));
      board.once('error', (err) => (clearTimeout(timer), reject(err instanceof Error ? err : new Error(String((err as { message?: string })?.message ?? err)))));
    });
    const { pins } = this.options;
    this.leds = { green: new five.Led({ pin: pins.green, board }), red: new five.Led({ pin: pins.red, board }), amber: new five.Led({ pin: pins.amber, board }) };
    if ((this.options.buzzer ?? 'active') === 'piezo') this.piezo = new five.Piezo({ pin: pins.buzzer, board });
    else this.buzzerLed = new five.Led({ pin: pins.buzzer, board });
    this.setBuzzer(false);
    this.log.info({ indicator: 'open', io: this.where() }, 'indicator ready');
  }

  protected setLamp(lamp: Lamp, state: LampState): void {
    const led = this.leds?.[lamp];
    if (!led) return;
    led.stop(); // cancels a running blink
    if (state.mode === 'on') led.on();
    else if (state.mode === 'off') led.off();
    else led.blink(state.periodMs);
  }

  protected setBuzzer(on: boolean): void {
    if (this.piezo) {
      if (on) this.piezo.frequency(this.options.toneHz ?? 2000, 60_000); // the beep's end is timed by PatternIndicator
      else this.piezo.noTone();
    } else if (this.buzzerLed) {
      if (on) this.buzzerLed.on();
      else this.buzzerLed.off();
    }
  }

  protected async release(): Promise<void> {
    const io = this.io;
    this.io = null;
    if (io instanceof OnoffIO) io.close();
    else if (io?.transport?.isOpen && !this.options.ioInstance) await new Promise<void>((r) => io.transport!.close!(() => r()));
  }

  private where(): string {
    return this.options.ioInstance ? 'injected IO' : (this.options.io ?? 'gpio') === 'firmata' ? `firmata on ${this.options.firmataPort}` : 'Pi GPIO (onoff)';
  }

  private async makeIO(): Promise<unknown> {
    if ((this.options.io ?? 'gpio') === 'gpio') return new OnoffIO(this.options).init();
    if (!this.options.firmataPort) throw new Error('indicator.firmataPort is required when indicator.io is "firmata"');
    // firmata-io is johnny-five's own Firmata client; it is handed a serialport@13 port as its transport.
    // Resolved from johnny-five's own folder: firmata-io comes with it, it is not a direct dependency.
    const fromHere = createRequire(import.meta.url);
    const require = createRequire(fromHere.resolve('johnny-five'));
    const bindTransport = require('firmata-io') as (t: unknown) => new (port: unknown, opts?: object) => unknown;
    const { SerialPort } = await import('serialport');
    const Firmata = bindTransport(SerialPort);
    const port = new SerialPort({ path: this.options.firmataPort, baudRate: this.options.firmataBaudRate ?? 57600 });
    port.on('error', (err) => this.log.warn({ indicator: 'firmata-error', path: this.options.firmataPort, reason: err.message }, 'firmata port error'));
    return new Firmata(port, { reportVersionTimeout: 5000 });
  }
}
