// Serial scanner on serialport@13 (/dev/serial0, /dev/ttyUSB0, /dev/ttyACM0 or a udev symlink).
// The device may vanish (USB unplug, EIO): report 'fault', retry with exponential backoff, 'connected' on return.
// Nothing here throws out of the driver: the daemon never exits for a scanner.
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { ScanParser, Scanner, ScannerParseOptions } from '../scanner.js';
import { scanLines } from '../scan-lines.js';
import { watchPresence } from './presence.js';
import { systemClock, type Clock, type TimerHandle } from '../../clock.js';
import { DEFAULTS } from '../../config/defaults.js';
import type { ModuleOptions } from '../modules/options.js';
import type { ModuleSession, ModuleStatus, SetupReport } from '../modules/session.js';

/** config `scanner` with driver 'serial'. */
export interface SerialScannerOptions extends ScannerParseOptions, ModuleOptions {
  path: string;
  /** Default: DEFAULTS.scanner (config/defaults.ts). */
  baudRate?: number;
  /** First retry after a fault, ms. */
  reopenMinMs?: number;
  /** Retry interval cap, ms. */
  reopenMaxMs?: number;
  /**
   * While connected, check every this many ms that the device node still exists and is the same device.
   * serialport on Linux does not always see a hangup (a pty whose master closed, some USB adapters), so
   * this is how an unplug is noticed. 0 turns it off. Default 1000 (0 when a custom binding is given).
   */
  presenceCheckMs?: number;
  /** serialport binding (tests: MockBinding from @serialport/binding-mock). Default: the native binding. */
  binding?: unknown;
  timers?: Clock;
  log?: Logger;
}

export class SerialScanner extends EventEmitter implements Scanner {
  readonly parser: ScanParser;
  private sp: SerialPort | null = null;
  private retry: TimerHandle | null = null;
  private presence: TimerHandle | null = null;
  private attempt = 0;
  private stopped = true;
  private faulted = false;
  private isConnected = false;
  private readonly timers: Clock;
  private readonly log: Logger;
  /** The module's command protocol on this port; null for a plain scanner (scanner.module "plain"). */
  readonly session: ModuleSession | null;
  private setupRetry: TimerHandle | null = null;
  private setupAttempt = 0;

  constructor(private readonly options: SerialScannerOptions) {
    super();
    this.timers = options.timers ?? systemClock;
    this.log = options.log ?? silentLogger;
    ({ parser: this.parser, session: this.session } = scanLines(this, options, {
      path: options.path,
      baudRate: options.baudRate ?? 9600,
      write: (bytes) => this.writePort(bytes),
      timers: this.timers,
      log: this.log,
    }));
  }

  get moduleStatus(): ModuleStatus | undefined {
    return this.session?.status;
  }

  arm(ready: boolean): void {
    this.session?.arm(ready);
  }

  async setupModule(mode: 'apply' | 'dry-run', timeoutMs: number): Promise<SetupReport> {
    if (!this.session) throw new Error('scanner.module is "plain": no command protocol');
    const port = this.sp;
    if (!port?.isOpen) throw new Error(`the scanner is not connected (${this.options.path})`);
    const report = await this.session.setupNow(mode, timeoutMs);
    // A module refused at connect (a fault, retried with backoff) is checked again now, not at the next retry.
    if (mode === 'apply' && this.setupRetry !== null && this.sp === port && !this.stopped) {
      this.timers.clearTimeout(this.setupRetry);
      this.setupRetry = null;
      void this.moduleSetup(port);
    }
    return report;
  }

  private writePort(bytes: Buffer): Promise<void> {
    const port = this.sp;
    if (!port?.isOpen) return Promise.reject(new Error('scanner port not open'));
    return new Promise((resolve, reject) => {
      port.write(bytes, (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve()))));
    });
  }

  /** The open port, if any (tests reach the mock binding through it). */
  get serialPort(): SerialPort | null {
    return this.sp;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** Resolves after the first attempt, whether the device is there or not (then it keeps retrying). */
  open(): Promise<void> {
    this.stopped = false;
    return new Promise((resolve) => this.tryOpen(resolve));
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retry !== null) this.timers.clearTimeout(this.retry);
    this.retry = null;
    if (this.setupRetry !== null) this.timers.clearTimeout(this.setupRetry);
    this.setupRetry = null;
    this.stopPresenceCheck();
    const port = this.sp;
    this.sp = null;
    this.isConnected = false;
    this.parser.reset();
    this.session?.close();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    port?.removeAllListeners();
  }

  private tryOpen(done?: () => void): void {
    this.retry = null;
    if (this.stopped) return done?.();
    let port: SerialPort;
    try {
      port = new SerialPort({
        path: this.options.path,
        baudRate: this.options.baudRate ?? DEFAULTS.scanner.baudRate,
        autoOpen: false,
        ...(this.options.binding ? { binding: this.options.binding } : {}),
      });
    } catch (err) {
      this.fail(err);
      return done?.();
    }
    this.sp = port;
    // Attached before open: a port error must never become an unhandled 'error' event.
    port.on('error', (err) => this.lost(port, err));
    port.on('close', (err?: Error) => this.lost(port, err ?? new Error('port closed')));
    port.on('data', (chunk: Buffer) => (this.session ? this.session.ingest(chunk) : this.parser.push(chunk)));
    port.open((err) => {
      if (err) {
        port.removeAllListeners();
        port.on('error', () => {});
        if (this.sp === port) this.sp = null;
        this.fail(err);
      } else if (this.stopped) {
        port.close(() => {});
      } else {
        this.attempt = 0;
        this.isConnected = true;
        this.startPresenceCheck(port);
        if (this.session) {
          // Identify and set up the module before the kiosk is told the scanner is there: a module that does
          // not match the profile (or does not answer when it must be triggered) is a fault, not a silent kiosk.
          this.setupAttempt = 0;
          void this.moduleSetup(port).then(() => done?.());
          return;
        }
        this.announce();
      }
      done?.();
    });
  }

  /**
   * Identify and set up the module on this port. Not usable (no answer in command mode, a mismatch, an error): a
   * fault, and another try later with backoff while the port stays open (a module still booting when the port
   * opened, a technician fixing a setting): the kiosk recovers without a replug.
   */
  private async moduleSetup(port: SerialPort): Promise<void> {
    const st = await this.session!.start();
    if (this.sp !== port || this.stopped) return;
    this.emit('module', st);
    const usable = st.state === 'ready' || (st.state === 'no-answer' && this.options.trigger !== 'command');
    if (usable) {
      if (st.error) this.log.warn({ scanner: 'module', path: this.options.path, reason: st.error }, st.error);
      this.announce();
      return;
    }
    this.report(st.error ?? `scanner module: ${st.state}`);
    const min = this.options.reopenMinMs ?? 500;
    const max = Math.max(this.options.reopenMaxMs ?? 10_000, 5_000);
    const delay = Math.min(max, Math.max(100, min) * 2 ** Math.min(this.setupAttempt++, 16));
    this.setupRetry = this.timers.setTimeout(() => {
      this.setupRetry = null;
      if (this.sp === port && !this.stopped) void this.moduleSetup(port);
    }, delay);
  }

  private announce(): void {
    this.faulted = false;
    this.log.info({ scanner: 'connected', path: this.options.path }, 'scanner connected');
    this.emit('connected', { path: this.options.path });
  }

  /** A fault while the port is open (module setup): reported once, the port stays open. */
  private report(reason: string): void {
    if (this.faulted) return;
    this.faulted = true;
    this.log.warn({ scanner: 'fault', path: this.options.path, reason }, 'scanner module fault');
    this.emit('fault', { reason, path: this.options.path });
  }

  private startPresenceCheck(port: SerialPort): void {
    const every = this.options.presenceCheckMs ?? (this.options.binding ? 0 : 1000);
    if (every <= 0) return;
    this.presence = watchPresence(this.options.path, every, this.timers, () => this.sp === port, (err) => this.lost(port, err));
  }

  private stopPresenceCheck(): void {
    if (this.presence !== null) this.timers.clearInterval(this.presence);
    this.presence = null;
  }

  private lost(port: SerialPort, err: Error): void {
    if (this.sp !== port || this.stopped) return;
    this.stopPresenceCheck();
    this.sp = null;
    this.isConnected = false;
    if (this.setupRetry !== null) this.timers.clearTimeout(this.setupRetry);
    this.setupRetry = null;
    this.session?.lost();
    port.removeAllListeners();
    port.on('error', () => {});
    if (port.isOpen) port.close(() => {});
    this.fail(err);
  }

  private fail(err: unknown): void {
    this.isConnected = false;
    this.parser.reset();
    const reason = describe(err);
    if (!this.faulted) {
      // One 'fault' per outage; the retries in between are only debug lines.
      this.faulted = true;
      this.log.warn({ scanner: 'fault', path: this.options.path, reason }, 'scanner lost');
      this.emit('fault', { reason, path: this.options.path });
    } else {
      this.log.debug({ scanner: 'retry', path: this.options.path, reason }, 'scanner still missing');
    }
    if (this.stopped) return;
    const min = this.options.reopenMinMs ?? DEFAULTS.scanner.reopenMinMs;
    const max = this.options.reopenMaxMs ?? DEFAULTS.scanner.reopenMaxMs;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    this.retry = this.timers.setTimeout(() => this.tryOpen(), delay);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
