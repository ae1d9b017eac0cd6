// The Qibixx MDB Pi HAT (/dev/serial0) or MDB-USB (/dev/ttyACM0) on serialport, 115200 8N1: lines in, lines out
// (src/hardware/mdb.ts). This module (and serialport with it) is loaded only when an `mdb` section is configured (a
// kiosk without one never pays for it at start). The port may vanish (USB unplug, EIO): 'fault', retried with
// backoff, 'connected' on return (reconnecting-port.ts, shared with the serial scanner: a hangup is seen at once, the
// device node checked every PRESENCE_CHECK_MS as the fallback); every open sends `C,1`
// (enable the cashless peripheral). Nothing here throws out of the driver.
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { systemClock, type Clock } from '../../clock.js';
import { LineSplitter, parseMdbLine, type MdbCommand, type MdbDevice } from '../mdb.js';
import { ReconnectingPort } from './reconnecting-port.js';

export interface MdbHatOptions {
  path: string;
  baudRate: number;
  reopenMinMs?: number;
  reopenMaxMs?: number;
  /** Checks the device node is still the one opened (a pty or USB adapter gone without a hangup; a hangup itself is
   *  seen by the port at once). 0: off. Default PRESENCE_CHECK_MS (presence.ts), 0 with a binding given. */
  presenceCheckMs?: number;
  /** serialport binding (tests: MockBinding). Default: the native binding. */
  binding?: unknown;
  timers?: Clock;
  log?: Logger;
}

export class MdbHat extends ReconnectingPort implements MdbDevice {
  private readonly lines = new LineSplitter();
  private readonly log: Logger;

  constructor(o: MdbHatOptions) {
    const log = o.log ?? silentLogger;
    super({
      path: o.path,
      baudRate: o.baudRate,
      reopenMinMs: o.reopenMinMs ?? 500,
      reopenMaxMs: o.reopenMaxMs ?? 10_000,
      presenceCheckMs: o.presenceCheckMs,
      binding: o.binding,
      timers: o.timers ?? systemClock,
      log,
    });
    this.log = log;
  }

  get path(): string {
    return this.settings.path;
  }

  /** Resolves after the first attempt, whether the HAT is there or not (then it keeps retrying). */
  open(): Promise<void> {
    return this.openPort();
  }

  send(command: MdbCommand): boolean {
    const port = this.sp;
    if (!port?.isOpen || !this.isConnected) {
      this.log.warn({ event: 'mdb-not-sent', line: command, path: this.path }, `MDB: ${command} not sent: the HAT is not connected`);
      return false;
    }
    port.write(`${command}\n`, (err) => err && this.log.warn({ event: 'mdb-write-failed', line: command, err }, `MDB: writing ${command} failed`));
    this.emit('line', { dir: 'out', line: command });
    return true;
  }

  close(): Promise<void> {
    return this.closePort();
  }

  protected opened(_port: unknown, done: () => void): void {
    this.lines.reset();
    this.faulted = false;
    this.log.info({ event: 'mdb-connected', path: this.path }, 'MDB HAT connected');
    this.send('C,1');
    this.emit('connected', { path: this.path });
    done();
  }

  protected data(chunk: Buffer): void {
    for (const line of this.lines.push(chunk)) {
      const msg = parseMdbLine(line);
      this.emit('line', { dir: 'in', line: msg.kind === 'garbage' ? msg.line : line.trim() });
      this.emit('message', msg);
    }
  }

  protected resetInput(): void {
    this.lines.reset();
  }

  protected logFault(reason: string, first: boolean): void {
    if (first) this.log.warn({ event: 'mdb-fault', path: this.path, reason }, 'MDB HAT lost');
  }
}
