// The Qibixx MDB Pi HAT (/dev/serial0) or MDB-USB (/dev/ttyACM0) on serialport, 115200 8N1: lines in, lines out
// (src/hardware/mdb.ts). serialport is loaded only when an `mdb` section is configured (a kiosk without one never
// pays for it at start). The port may vanish (USB unplug, EIO): 'fault', retried with backoff, 'connected' on
// return; every open sends `C,1` (enable the cashless peripheral). Nothing here throws out of the driver.
import { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { systemClock, type Clock, type TimerHandle } from '../../clock.js';
import { LineSplitter, parseMdbLine, type MdbCommand, type MdbDevice } from '../mdb.js';
import { watchPresence } from './presence.js';

export interface MdbHatOptions {
  path: string;
  baudRate: number;
  reopenMinMs?: number;
  reopenMaxMs?: number;
  /** Checks the device node is still the one opened (a pty or USB adapter gone without a hangup). 0: off. */
  presenceCheckMs?: number;
  /** serialport binding (tests: MockBinding). Default: the native binding. */
  binding?: unknown;
  timers?: Clock;
  log?: Logger;
}

export class MdbHat extends EventEmitter implements MdbDevice {
  private sp: SerialPort | null = null;
  private retry: TimerHandle | null = null;
  private presence: TimerHandle | null = null;
  private attempt = 0;
  private stopped = true;
  private faulted = false;
  private isConnected = false;
  private readonly lines = new LineSplitter();
  private readonly timers: Clock;
  private readonly log: Logger;

  constructor(private readonly o: MdbHatOptions) {
    super();
    this.timers = o.timers ?? systemClock;
    this.log = o.log ?? silentLogger;
  }

  get connected(): boolean {
    return this.isConnected;
  }

  get path(): string {
    return this.o.path;
  }

  /** Resolves after the first attempt, whether the HAT is there or not (then it keeps retrying). */
  async open(): Promise<void> {
    this.stopped = false;
    const { SerialPort } = await import('serialport');
    await new Promise<void>((resolve) => this.tryOpen(SerialPort, resolve));
  }

  send(command: MdbCommand): boolean {
    const port = this.sp;
    if (!port?.isOpen || !this.isConnected) {
      this.log.warn({ event: 'mdb-not-sent', line: command, path: this.o.path }, `MDB: ${command} not sent: the HAT is not connected`);
      return false;
    }
    port.write(`${command}\n`, (err) => err && this.log.warn({ event: 'mdb-write-failed', line: command, err }, `MDB: writing ${command} failed`));
    this.emit('line', { dir: 'out', line: command });
    return true;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retry !== null) this.timers.clearTimeout(this.retry);
    this.retry = null;
    this.stopPresence();
    const port = this.sp;
    this.sp = null;
    this.isConnected = false;
    port?.removeAllListeners();
    // A write still under way fails once the port is closed: nobody is listening for it any more.
    port?.on('error', () => {});
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private tryOpen(Ctor: typeof SerialPort, done?: () => void): void {
    this.retry = null;
    if (this.stopped) return done?.();
    let port: SerialPort;
    try {
      port = new Ctor({ path: this.o.path, baudRate: this.o.baudRate, autoOpen: false, ...(this.o.binding ? { binding: this.o.binding } : {}) });
    } catch (err) {
      this.fail(Ctor, err);
      return done?.();
    }
    this.sp = port;
    port.on('error', (err) => this.lost(Ctor, port, err));
    port.on('close', (err?: Error) => this.lost(Ctor, port, err ?? new Error('port closed')));
    port.on('data', (chunk: Buffer) => this.ingest(chunk));
    port.open((err) => {
      if (err) {
        port.removeAllListeners();
        port.on('error', () => {});
        if (this.sp === port) this.sp = null;
        this.fail(Ctor, err);
      } else if (this.stopped) {
        port.close(() => {});
      } else {
        this.attempt = 0;
        this.isConnected = true;
        this.lines.reset();
        this.startPresence(Ctor, port);
        this.faulted = false;
        this.log.info({ event: 'mdb-connected', path: this.o.path }, 'MDB HAT connected');
        this.send('C,1');
        this.emit('connected', { path: this.o.path });
      }
      done?.();
    });
  }

  private ingest(chunk: Buffer): void {
    for (const line of this.lines.push(chunk)) this.emitLine(line);
  }

  private emitLine(line: string): void {
    const msg = parseMdbLine(line);
    this.emit('line', { dir: 'in', line: msg.kind === 'garbage' ? msg.line : line.trim() });
    this.emit('message', msg);
  }

  private startPresence(Ctor: typeof SerialPort, port: SerialPort): void {
    const every = this.o.presenceCheckMs ?? (this.o.binding ? 0 : 1000);
    if (every > 0) this.presence = watchPresence(this.o.path, every, this.timers, () => this.sp === port, (err) => this.lost(Ctor, port, err));
  }

  private stopPresence(): void {
    if (this.presence !== null) this.timers.clearInterval(this.presence);
    this.presence = null;
  }

  private lost(Ctor: typeof SerialPort, port: SerialPort, err: Error): void {
    if (this.sp !== port || this.stopped) return;
    this.stopPresence();
    this.sp = null;
    this.isConnected = false;
    port.removeAllListeners();
    port.on('error', () => {});
    if (port.isOpen) port.close(() => {});
    this.fail(Ctor, err);
  }

  private fail(Ctor: typeof SerialPort, err: unknown): void {
    this.isConnected = false;
    this.lines.reset();
    const reason = err instanceof Error ? err.message : String(err);
    if (!this.faulted) {
      this.faulted = true;
      this.log.warn({ event: 'mdb-fault', path: this.o.path, reason }, 'MDB HAT lost');
      this.emit('fault', { reason, path: this.o.path });
    }
    if (this.stopped) return;
    const min = this.o.reopenMinMs ?? 500;
    const max = this.o.reopenMaxMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempt++, 30));
    this.retry = this.timers.setTimeout(() => this.tryOpen(Ctor), delay);
  }
}
