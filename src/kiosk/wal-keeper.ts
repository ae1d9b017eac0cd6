// When the daemon truncates the journal's WAL (journal.purgeWal): erased payment codes leave old page images in
// the WAL until it is truncated, and every sync the truncation costs must stay off the customer's path.
// - a few seconds after the last commit, when no customer payment is in progress (also while background work
//   goes on for hours: an order in attention never lets the engine be idle);
// - at once, at a commit outside a customer payment, when the WAL has grown past maxBytes under steady
//   background work (before SQLite's own checkpoint, every 1000 pages, could land in a customer's commit).
import { realTimers, type TimerHandle, type Timers } from '../hardware/timers.js';

export interface WalKeeperOptions {
  purge(): void;
  walBytes(): number;
  customerInProgress(): boolean;
  delayMs: number;
  maxBytes: number;
  timers?: Timers;
}

export class WalKeeper {
  private timer: TimerHandle | undefined;
  private readonly timers: Timers;
  private stopped = false;
  constructor(private readonly o: WalKeeperOptions) {
    this.timers = o.timers ?? realTimers;
  }

  /** A commit happened (an engine transition). */
  committed(): void {
    if (this.stopped) return;
    if (!this.o.customerInProgress() && this.o.walBytes() > this.o.maxBytes) {
      this.cancel();
      this.o.purge();
    } else this.soon();
  }

  /** The engine has nothing left to do. */
  idle(): void {
    if (!this.stopped) this.soon();
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  private soon(): void {
    this.cancel();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (this.o.customerInProgress()) this.soon();
      else this.o.purge();
    }, this.o.delayMs);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
