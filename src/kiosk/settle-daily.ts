// The daemon's daily settlement run: once a day after `daemon.settleAt` (local time), the previous day's file is
// fetched and reconciled (src/payment/settle-day.ts) unless the journal already has that day. A day whose fetch
// fails stays due, past midnight too, until it is reconciled or older than `maxDaysBack` days (then it is given
// up, said once in the log and to the fleet); due days go oldest first, each reported in that order, and one
// failing day does not hold the later ones back. Retries back off (1, 2, 4 … 60 minutes). It waits for the link,
// and never works beside a customer: it starts only while the kiosk is free, and a payment that starts while it
// runs makes it stop at its next step (download chunk, file sync, parse slice, journal write) until the kiosk is
// free again (`whenFree`). A clean day is one log line. Times: the wall clock for the day and the time of day,
// monotonic timers for every wait (src/clock.ts).
import type { Logger } from '../log.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { localYmd, type SettleDayResult } from '../payment/settle-day.js';

export interface DailySettleOptions {
  /** "HH:MM" local time, or "off". */
  at: string;
  run(stlDate: string): Promise<SettleDayResult>;
  reconciled(stlDate: string): boolean;
  /**
   * The first day worth fetching (yyyyMMdd): the day before the journal was made (an order of its first morning may
   * have been scanned the evening before). Default: no bound but maxDaysBack.
   */
  firstDay?(): string | undefined;
  /** Whether the link to the platform is up (a fetch while offline would only fail). */
  online(): boolean;
  /** Resolves when the link is up again (the run waits for it instead of polling). */
  whenOnline(signal: AbortSignal): Promise<void>;
  /** A customer is being served: do not start. */
  busy(): boolean;
  /** Resolves when no customer is being served (at once when none is): the run waits on it before each step. */
  whenFree?(): Promise<void>;
  log: Logger;
  /** Wall clock for the day and the time of day, monotonic timers for the waits. Default: the system's. */
  clock?: Clock;
  /** Called with each result, in day order (the daemon sends a summary to the fleet: a journal write). */
  onResult?(r: SettleDayResult): void;
  timing?: Partial<DailySettleTiming>;
}

export interface DailySettleTiming {
  /** After the daemon starts: recovery and the first customers go first. */
  startDelayMs: number;
  /** Longest wait between checks: a wall clock that steps is noticed within it. */
  checkMs: number;
  /** While a customer is being served. */
  busyRetryMs: number;
  firstRetryMs: number;
  maxRetryMs: number;
  /**
   * A day not reconciled this many days after it is given up (the platform keeps its files for a while, not for
   * ever; a kiosk switched off for a month fetches the last week). The day itself is day 1: 7 = yesterday and the
   * six days before it.
   */
  maxDaysBack: number;
}

export const DEFAULT_DAILY_SETTLE_TIMING: DailySettleTiming = {
  startDelayMs: 60_000,
  checkMs: 15 * 60_000,
  busyRetryMs: 5_000,
  firstRetryMs: 60_000,
  maxRetryMs: 60 * 60_000,
  maxDaysBack: 7,
};

export class DailySettlement {
  private timer: TimerHandle | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  /** Rounds in a row with a failed day (the backoff). */
  private failures = 0;
  /** Days that failed and are not reconciled yet: said once when they leave the window. */
  private readonly failing = new Set<string>();
  private readonly timing: DailySettleTiming;
  private readonly clock: Clock;
  private stopped = false;
  /** The last result, for `kiosk status`. */
  last: SettleDayResult | undefined;

  constructor(private readonly o: DailySettleOptions) {
    this.timing = { ...DEFAULT_DAILY_SETTLE_TIMING, ...o.timing };
    this.clock = o.clock ?? systemClock;
  }

  start(): void {
    if (this.o.at === 'off') return;
    this.schedule(this.timing.startDelayMs);
  }

  /** Checks now (tests; a technician's `kiosk reconcile`). Resolves when that check is over. */
  async kick(): Promise<void> {
    this.clock.clearTimeout(this.timer);
    await this.running;
    await this.check();
  }

  /** Stops scheduling. A fetch under way is not waited for (a download may take a minute: shutdown must not). */
  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    this.abort.abort();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => void this.check(), Math.min(ms, this.timing.checkMs));
  }

  /** Milliseconds from `now` until today's `at` (0 when past it). */
  private untilDue(now: Date): number {
    const [h, m] = this.o.at.split(':').map(Number) as [number, number];
    const due = new Date(now.getFullYear(), now.getMonth(), now.getDate(), h, m);
    return Math.max(0, due.getTime() - now.getTime());
  }

  /**
   * The days to fetch now, oldest first: from maxDaysBack days back (and not before firstDay) to yesterday, or to
   * the day before yesterday while today's `at` has not come (the platform has not published yesterday's file).
   */
  private window(now: Date): string[] {
    const today = (back: number) => localYmd(new Date(now.getFullYear(), now.getMonth(), now.getDate() - back));
    const first = this.o.firstDay?.();
    const days: string[] = [];
    for (let back = this.timing.maxDaysBack; back >= (this.untilDue(now) > 0 ? 2 : 1); back--) {
      const day = today(back);
      if (first !== undefined && day < first) continue;
      if (!this.o.reconciled(day)) days.push(day);
    }
    return days;
  }

  private check(): Promise<void> {
    if (this.stopped || this.o.at === 'off') return Promise.resolve();
    this.running ??= this.once().finally(() => (this.running = undefined));
    return this.running;
  }

  private async once(): Promise<void> {
    const now = new Date(this.clock.wall());
    const days = this.window(now);
    await this.giveUp(days);
    if (this.stopped) return;
    if (days.length === 0) {
      this.failures = 0;
      // Next: today's `at` (checked within checkMs anyway: the wall clock may step, midnight comes).
      return this.schedule(this.untilDue(now) || this.timing.checkMs);
    }
    if (!this.o.online()) {
      this.o.log.info({ event: 'settlement-wait', stlDate: days[0], why: 'link down' }, `settlement ${days[0]}: waiting for the link`);
      try {
        await this.o.whenOnline(this.abort.signal);
      } catch {
        return; // stopping
      }
    }
    let failed = 0;
    for (const day of days) {
      // Never started beside a customer; a customer who comes while a day runs makes it wait at its next step.
      if (this.o.busy()) return this.schedule(this.timing.busyRetryMs);
      let r: SettleDayResult;
      try {
        r = await this.o.run(day);
      } catch (err) {
        r = { kind: 'failed', stlDate: day, cause: `internal error: ${(err as Error).message}` };
      }
      if (this.stopped) return;
      await this.o.whenFree?.();
      if (this.stopped) return;
      this.report(r);
      if (r.kind === 'reconciled') this.failing.delete(day);
      else {
        this.failing.add(day);
        failed++;
      }
    }
    if (failed === 0) {
      this.failures = 0;
      return this.schedule(this.timing.checkMs);
    }
    const retryMs = Math.min(this.timing.firstRetryMs * 2 ** this.failures, this.timing.maxRetryMs);
    this.failures++;
    this.o.log.warn({ event: 'settlement-retry', days: [...this.failing].sort(), attempt: this.failures, retryMs }, `settlement: ${failed} day(s) not reconciled; retry in ${Math.round(retryMs / 1000)} s`);
    this.schedule(retryMs);
  }

  private report(r: SettleDayResult): void {
    this.last = r;
    this.o.onResult?.(r);
    const day = r.stlDate;
    if (r.kind === 'reconciled') {
      if (r.ok) {
        this.o.log.info({ event: 'settlement', stlDate: day, ok: true, rows: r.rows, file: r.file }, `settlement ${day}: all matched (${r.rows} rows)`);
      } else {
        this.o.log.warn({ event: 'settlement', stlDate: day, ok: false, rows: r.rows, mismatches: r.mismatches.length, file: r.file }, `settlement ${day}: ${r.mismatches.length} order(s) do not match; see kiosk report`);
      }
      return;
    }
    this.o.log.warn({ event: 'settlement-failed', stlDate: day, kind: r.kind, cause: r.cause }, `settlement ${day}: ${r.cause}`);
  }

  /** A failing day that left the window: no more tries. Said once (this process only: a restart forgets). */
  private async giveUp(due: readonly string[]): Promise<void> {
    for (const day of [...this.failing].sort()) {
      if (due.includes(day)) continue;
      await this.o.whenFree?.(); // the fleet event is a journal write
      this.failing.delete(day);
      if (this.o.reconciled(day)) continue; // by hand (kiosk settle --fetch)
      const cause = `not reconciled within ${this.timing.maxDaysBack} days: given up (kiosk settle --fetch --date ${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6)} tries again)`;
      this.o.log.error({ event: 'settlement-gave-up', stlDate: day, maxDaysBack: this.timing.maxDaysBack }, `settlement ${day}: ${cause}`);
      this.last = { kind: 'failed', stlDate: day, cause };
      this.o.onResult?.(this.last);
    }
  }
}
