// Serial scanner on serialport@13 (/dev/serial0, /dev/ttyUSB0, /dev/ttyACM0 or a udev symlink).
// The device may vanish (USB unplug, EIO): report 'fault', retry with exponential backoff, 'connected' on return
// (reconnecting-port.ts, shared with the MDB HAT). Nothing here throws out of the driver: the daemon never exits for
// a scanner.
import type { SerialPort } from 'serialport';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import type { ScanParser, Scanner, ScannerParseOptions } from '../scanner.js';
import { scanLines } from '../scan-lines.js';
import { ReconnectingPort } from './reconnecting-port.js';
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
   * While connected, check every this many ms that the device node still exists and is the same device. An
   * unplug is seen at once from the port itself (a hangup reads end of file: hangup-binding.ts; or a read error
   * or close: EIO, ENXIO, EBADF); this slower check catches what the port cannot say: a replugged adapter or a
   * new pty behind the same symlink (the open fd is stale) and a node gone without a hangup. 0 turns it off.
   * Default PRESENCE_CHECK_MS (presence.ts; 0 when a custom binding is given). Idle means asleep: each check is a
   * wakeup (a stat in libuv's thread pool), so it is never more often than every 5 s by default.
   */
  presenceCheckMs?: number;
  /** serialport binding (tests: MockBinding from @serialport/binding-mock). Default: the native binding. */
  binding?: unknown;
  timers?: Clock;
  log?: Logger;
}


export class SerialScanner extends ReconnectingPort implements Scanner {
  readonly parser: ScanParser;
  private readonly timers: Clock;
  private readonly log: Logger;
  /** The module's command protocol on this port; null for a plain scanner (scanner.module "plain"). */
  readonly session: ModuleSession | null;
  private setupRetry: TimerHandle | null = null;
  private setupAttempt = 0;

  constructor(private readonly options: SerialScannerOptions) {
    const timers = options.timers ?? systemClock;
    const log = options.log ?? silentLogger;
    super({
      path: options.path,
      baudRate: options.baudRate ?? DEFAULTS.scanner.baudRate,
      reopenMinMs: options.reopenMinMs ?? DEFAULTS.scanner.reopenMinMs,
      reopenMaxMs: options.reopenMaxMs ?? DEFAULTS.scanner.reopenMaxMs,
      presenceCheckMs: options.presenceCheckMs,
      binding: options.binding,
      timers,
      log,
    });
    this.timers = timers;
    this.log = log;
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

  /** Resolves after the first attempt, whether the device is there or not (then it keeps retrying). */
  open(): Promise<void> {
    return this.openPort();
  }

  async close(): Promise<void> {
    if (this.setupRetry !== null) this.timers.clearTimeout(this.setupRetry);
    this.setupRetry = null;
    this.parser.reset();
    this.session?.close();
    await this.closePort();
  }

  protected data(chunk: Buffer): void {
    if (this.session) this.session.ingest(chunk);
    else this.parser.push(chunk);
  }

  protected opened(port: SerialPort, done: () => void): void {
    if (this.session) {
      // Identify and set up the module before the kiosk is told the scanner is there: a module that does not match
      // the profile (or does not answer when it must be triggered) is a fault, not a silent kiosk.
      this.setupAttempt = 0;
      void this.moduleSetup(port).then(done);
      return;
    }
    this.announce();
    done();
  }

  protected resetInput(): void {
    this.parser.reset();
  }

  protected override portLost(): void {
    if (this.setupRetry !== null) this.timers.clearTimeout(this.setupRetry);
    this.setupRetry = null;
    this.session?.lost();
  }

  protected logFault(reason: string, first: boolean): void {
    if (first) this.log.warn({ scanner: 'fault', path: this.options.path, reason }, 'scanner lost');
    else this.log.debug({ scanner: 'retry', path: this.options.path, reason }, 'scanner still missing');
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
}
