// One serial device that may vanish and come back (a USB unplug, EIO, a pty gone): its port opened and reopened with
// exponential backoff, watched by its own error and close and by a slower device-node check, one 'fault' per outage
// and 'connected' on return. The serial scanner (serial-scanner.ts) and the MDB HAT (mdb-hat.ts) are this plus what
// each does with the open port. A hangup (0 bytes read: a USB adapter unplugged, a pty's other end closed) closes
// the port at once through the binding (hangup-binding.ts): the device-node check is only the fallback for a node
// gone without one. Nothing here throws out of a driver: the daemon never exits for a device.
import { EventEmitter } from 'node:events';
import { SerialPort } from 'serialport';
import type { Logger } from '../../log.js';
import type { Clock, TimerHandle } from '../../clock.js';
import { PRESENCE_CHECK_MS, watchPresence } from './presence.js';
import { hangupAware } from './hangup-binding.js';

export interface PortSettings {
  path: string;
  baudRate: number;
  /** First retry after a fault, ms (doubling up to reopenMaxMs). */
  reopenMinMs: number;
  reopenMaxMs: number;
  /** While open, the device node is checked this often (presence.ts); 0: off. Default PRESENCE_CHECK_MS, 0 with a
   *  binding given (a mock has no device node). */
  presenceCheckMs?: number;
  /** serialport binding (tests: MockBinding). Absent: the native binding. Either way read through hangupAware. */
  binding?: unknown;
  timers: Clock;
  log: Logger;
}

export abstract class ReconnectingPort extends EventEmitter {
  protected sp: SerialPort | null = null;
  protected stopped = true;
  /** A 'fault' was emitted for the trouble under way: the next one only after the device is back. */
  protected faulted = false;
  protected isConnected = false;
  private retry: TimerHandle | null = null;
  private presence: TimerHandle | null = null;
  private attempt = 0;
  private readonly binding: unknown;
  private readonly presenceCheckMs: number;

  constructor(protected readonly settings: PortSettings) {
    super();
    this.binding = hangupAware(settings.binding ?? SerialPort.binding);
    this.presenceCheckMs = settings.presenceCheckMs ?? (settings.binding ? 0 : PRESENCE_CHECK_MS);
  }

  get connected(): boolean {
    return this.isConnected;
  }

  /** What the device does with the bytes it reads. */
  protected abstract data(chunk: Buffer): void;
  /** The port is open and watched: the device starts on it, and calls `done` once its first open is settled. */
  protected abstract opened(port: SerialPort, done: () => void): void;
  /** The port is gone, or did not open: what was half read is dropped. */
  protected abstract resetInput(): void;
  /** The outage in the log: at its start (`first`, just before the 'fault'), then at each failed retry. */
  protected abstract logFault(reason: string, first: boolean): void;
  /** The open port was lost (before the reopen is scheduled): the device stops what it was doing on it. */
  protected portLost(): void {}

  /** Resolves after the first attempt (and the device's start on it), whether the device is there or not. */
  protected openPort(): Promise<void> {
    this.stopped = false;
    return new Promise((resolve) => this.tryOpen(resolve));
  }

  protected async closePort(): Promise<void> {
    this.stopped = true;
    if (this.retry !== null) this.settings.timers.clearTimeout(this.retry);
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

  private tryOpen(done?: () => void): void {
    this.retry = null;
    if (this.stopped) return done?.();
    const { path, baudRate } = this.settings;
    let port: SerialPort;
    try {
      port = new SerialPort({ path, baudRate, autoOpen: false, ...{ binding: this.binding } });
    } catch (err) {
      this.fail(err);
      return done?.();
    }
    this.sp = port;
    // Attached before open: a port error must never become an unhandled 'error' event.
    port.on('error', (err) => this.lost(port, err));
    port.on('close', (err?: Error) => this.lost(port, err ?? new Error('port closed')));
    port.on('data', (chunk: Buffer) => this.data(chunk));
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
        this.startPresence(port);
        return this.opened(port, () => done?.());
      }
      done?.();
    });
  }

  private startPresence(port: SerialPort): void {
    const every = this.presenceCheckMs;
    if (every > 0) this.presence = watchPresence(this.settings.path, every, this.settings.timers, () => this.sp === port, (err) => this.lost(port, err));
  }

  private stopPresence(): void {
    if (this.presence !== null) this.settings.timers.clearInterval(this.presence);
    this.presence = null;
  }

  protected lost(port: SerialPort, err: Error): void {
    if (this.sp !== port || this.stopped) return;
    this.stopPresence();
    this.sp = null;
    this.isConnected = false;
    this.portLost();
    port.removeAllListeners();
    port.on('error', () => {});
    if (port.isOpen) port.close(() => {});
    this.fail(err);
  }

  private fail(err: unknown): void {
    this.isConnected = false;
    this.resetInput();
    const reason = describeError(err);
    const first = !this.faulted;
    this.faulted = true;
    this.logFault(reason, first);
    // One 'fault' per outage; the retries in between are only log lines.
    if (first) this.emit('fault', { reason, path: this.settings.path });
    if (this.stopped) return;
    const { reopenMinMs: min, reopenMaxMs: max } = this.settings;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    this.retry = this.settings.timers.setTimeout(() => this.tryOpen(), delay);
  }
}

/** An error as one line: its message, and its code when the message does not say it. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}
