// Simulated scanner modules at their real boundary: bytes in (commands), bytes out (answers and scan data).
// Shared behaviour: a code held in front of the module, the working mode (manual: nothing without the button;
// continuous: read at once; command: read only inside a read window opened by a trigger command, which ends by
// itself after the read window), the baud rate it talks at (bytes at another rate are garbage both ways),
// optional garbage between frames, and counters tests assert on (writes, flash saves, triggers).
import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type TimerHandle } from '../../clock.js';

export interface ModuleSimOptions {
  timers?: Clock;
  /** Noise bytes sent before every answer (the "garbage between frames" drill). */
  garbage?: boolean;
  /** Never answers anything: a plain scanner without a command protocol (it still sends scans). */
  mute?: boolean;
  /** Every answer arrives garbled (a loose wire, a baud rate drifting): bytes, but never a frame. */
  corrupt?: boolean;
}

export type SimMode = 'manual' | 'command' | 'continuous' | 'sensing';

/** Events: 'output' (Buffer) — bytes the module sends; 'window' (open: boolean). */
export abstract class ModuleSim extends EventEmitter {
  protected readonly timers: Clock;
  private presented: string | null = null;
  /** The open read window's timer, `true` while open without an end, null while closed. */
  private window: TimerHandle | true | null = null;
  readonly counters = { commands: 0, writes: 0, saves: 0, triggers: 0, scans: 0, badCrc: 0 };

  constructor(protected readonly opts: ModuleSimOptions = {}) {
    super();
    this.timers = opts.timers ?? systemClock;
  }

  abstract get mode(): SimMode;
  abstract get baudRate(): number;
  /** Line end the module appends to scan data, as bytes. */
  protected abstract tailBytes(): Buffer;
  /** Read window length in command mode, ms (0 = until a code is read). */
  protected abstract readWindowMs(): number;
  /** Protocol bytes from the host, at the module's baud. */
  protected abstract handle(bytes: Buffer): void;
  /** Back to the saved settings (power cycle). */
  abstract powerCycle(): void;

  /** Answers nothing (true) or answers again (false): a module still booting, a cable with RX only. */
  set mute(value: boolean) {
    this.opts.mute = value;
  }

  /** Garbles every answer (true) or answers cleanly again (false). */
  set corrupt(value: boolean) {
    this.opts.corrupt = value;
  }

  get windowOpen(): boolean {
    return this.window !== null;
  }

  /** Bytes from the host at `baud` (undefined: a pty, where the rate does not matter). */
  receive(bytes: Buffer, baud?: number): void {
    if (this.opts.mute) return;
    if (baud !== undefined && baud !== this.baudRate) return; // framing errors: the module sees garbage
    this.handle(bytes);
  }

  /** A customer holds a code in front of the module. */
  present(code: string): void {
    this.presented = code;
    this.tryRead();
  }

  /** The customer took the phone away. */
  remove(): void {
    this.presented = null;
  }

  /** What the host receives at `baud`: garbage when the rates differ. */
  protected send(bytes: Buffer): void {
    this.emit('output', bytes);
  }

  protected answer(bytes: Buffer): void {
    if (this.opts.garbage) this.send(Buffer.from([0xff, 0x02, 0x13, 0x00, 0x02, 0x00, 0x01]));
    this.send(this.opts.corrupt ? ModuleSim.garble(bytes) : bytes);
  }

  protected openWindow(): void {
    this.counters.triggers++;
    this.closeWindow();
    const ms = this.readWindowMs();
    this.window = ms > 0 ? this.timers.setTimeout(() => this.endWindow(), ms) : true;
    this.emit('window', true);
    this.tryRead();
  }

  protected closeWindow(): void {
    if (this.window === null) return;
    if (this.window !== true) this.timers.clearTimeout(this.window);
    this.window = null;
  }

  private endWindow(): void {
    this.window = null;
    this.emit('window', false);
  }

  /** Called after a mode change: continuous mode reads what is already presented. */
  protected tryRead(): void {
    if (this.presented === null) return;
    const m = this.mode;
    if (m === 'manual') return;
    if (m === 'command' && this.window === null) return;
    const code = this.presented;
    this.presented = null;
    if (m === 'command') {
      this.closeWindow();
      this.emit('window', false);
    }
    this.counters.scans++;
    this.send(Buffer.concat([Buffer.from(code, 'latin1'), this.tailBytes()]));
  }

  /** Garbled bytes as a host at the wrong baud would see them (tests). */
  static garble(bytes: Buffer): Buffer {
    return Buffer.from([...bytes].map((b) => (b ^ 0x5a) | 0x80));
  }
}
