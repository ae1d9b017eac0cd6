// One UART shared by command answers and scan data: commands go out one at a time, the protocol's framer picks
// the answer out of the incoming bytes, everything else goes to the scan line parser. Answers are accepted only
// while a command waits (a stray frame is never taken for an answer); a command that gets no answer within its
// timeout fails with TIMEOUT and the bytes held for it go on as data (the parser drops them as noise).
import { systemClock, type Clock, type TimerHandle } from '../../clock.js';
import { ModuleError, type AnswerFramer, type CommandPort } from './types.js';

export interface LinkOptions {
  framer: AnswerFramer;
  write(bytes: Buffer): Promise<void>;
  onData(bytes: Buffer): void;
  onNoise?(bytes: number, reason: string): void;
  timers?: Clock;
  /**
   * Default answer timeout, ms. Default 500 (a GM answer is 7 bytes: 7 ms at 9600 baud; modules answer within ~50 ms).
   */
  timeoutMs?: number;
}

interface Pending {
  resolve(frame: Buffer): void;
  reject(err: Error): void;
  timer: TimerHandle;
}

export class ModuleLink implements CommandPort {
  private readonly timers: Clock;
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Commands sent, answers received, commands that timed out: for `kiosk scanner show` and tests. */
  readonly stats = { sent: 0, answered: 0, timeouts: 0, noise: 0 };

  constructor(private readonly o: LinkOptions) {
    this.timers = o.timers ?? systemClock;
  }

  /** Every byte from the port goes through here. */
  ingest(chunk: Buffer): void {
    for (const out of this.o.framer.push(chunk)) {
      if (out.kind === 'data') this.o.onData(out.bytes);
      else if (out.kind === 'noise') {
        this.stats.noise++;
        this.o.onNoise?.(out.bytes, out.reason);
      } else {
        const p = this.pending;
        if (!p) {
          this.stats.noise++;
          this.o.onNoise?.(out.frame.length, 'answer with no command waiting');
          continue;
        }
        this.pending = null;
        this.timers.clearTimeout(p.timer);
        this.stats.answered++;
        p.resolve(out.frame);
      }
    }
  }

  request(command: Buffer, opts: { timeoutMs?: number } = {}): Promise<Buffer> {
    const run = () =>
      new Promise<Buffer>((resolve, reject) => {
        if (this.closed) return reject(new ModuleError('the scanner port is closed', 'CLOSED'));
        const timeoutMs = opts.timeoutMs ?? this.o.timeoutMs ?? 500;
        const timer = this.timers.setTimeout(() => {
          if (this.pending?.timer !== timer) return;
          this.pending = null;
          this.stats.timeouts++;
          for (const out of this.o.framer.flush()) if (out.kind === 'data') this.o.onData(out.bytes);
          reject(new ModuleError(`no answer within ${timeoutMs} ms`, 'TIMEOUT'));
        }, timeoutMs);
        this.pending = { resolve, reject, timer };
        this.o.framer.expect(command);
        this.stats.sent++;
        this.o.write(command).catch((err: unknown) => {
          if (this.pending?.timer !== timer) return;
          this.pending = null;
          this.timers.clearTimeout(timer);
          this.o.framer.expect(null);
          reject(new ModuleError(`writing to the scanner failed: ${(err as Error)?.message ?? String(err)}`, 'CLOSED'));
        });
      });
    // One command at a time: answers carry no request id.
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  send(command: Buffer): Promise<void> {
    const run = async () => {
      if (this.closed) throw new ModuleError('the scanner port is closed', 'CLOSED');
      this.stats.sent++;
      await this.o.write(command);
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Drops the bytes the framer holds (a conversation ended: they belong to none of its answers). */
  drop(): void {
    if (this.pending) return; // a command still waits: its answer may be among them
    const held = this.o.framer.flush().reduce((n, out) => n + (out.kind === 'data' ? out.bytes.length : out.kind === 'noise' ? out.bytes : out.frame.length), 0);
    if (held > 0) {
      this.stats.noise++;
      this.o.onNoise?.(held, 'left over when a module conversation ended');
    }
  }

  /** Fails the waiting command (port lost); later requests fail at once. */
  close(): void {
    this.closed = true;
    this.reset();
  }

  /** Fails the waiting command and drops held bytes (port lost; the link is used again after a reconnect). */
  reset(): void {
    const p = this.pending;
    this.pending = null;
    if (p) {
      this.timers.clearTimeout(p.timer);
      p.reject(new ModuleError('the scanner port closed', 'CLOSED'));
    }
    this.o.framer.flush();
  }
}
