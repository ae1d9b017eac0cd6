// The daemon's daily settlement run: once a day after `daemon.settleAt` (local time), the previous day's file is
// fetched and reconciled (src/payment/settle-day.ts) unless the journal already has that day. It waits for the link
// and for the kiosk to be free (never during a customer's payment), and retries a failed fetch with backoff
// (1, 2, 4 … 60 minutes) until the day is done; the next day starts over. A clean day is one log line.
import type { Logger } from '../log.js';
import { previousDay, type SettleDayResult } from '../payment/settle-day.js';

export interface DailySettleOptions {
  /** "HH:MM" local time, or "off". */
  at: string;
  run(stlDate: string): Promise<SettleDayResult>;
  reconciled(stlDate: string): boolean;
  /** Whether the link to the platform is up (a fetch while offline would only fail). */
  online(): boolean;
  /** Resolves when the link is up again (the run waits for it instead of polling). */
  whenOnline(signal: AbortSignal): Promise<void>;
  /** A customer is being served: wait. */
  busy(): boolean;
  log: Logger;
  /** Wall clock for the time of day and the day (tests move it). */
  now?: () => Date;
  /** Called with each result (the daemon sends a summary to the fleet). */
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
}

export const DEFAULT_DAILY_SETTLE_TIMING: DailySettleTiming = { startDelayMs: 60_000, checkMs: 15 * 60_000, busyRetryMs: 5_000, firstRetryMs: 60_000, maxRetryMs: 60 * 60_000 };

export class DailySettlement {
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private failures = 0;
  private failedDay: string | undefined;
  private readonly timing: DailySettleTiming;
  private readonly now: () => Date;
  private stopped = false;
  /** The last result, for `kiosk status`. */
  last: SettleDayResult | undefined;

  constructor(private readonly o: DailySettleOptions) {
    this.timing = { ...DEFAULT_DAILY_SETTLE_TIMING, ...o.timing };
    this.now = o.now ?? (() => new Date());
  }

  start(): void {
    if (this.o.at === 'off') return;
    this.schedule(this.timing.startDelayMs);
  }

  /** Checks now (tests; a technician's `kiosk reconcile`). Resolves when that check is over. */
  async kick(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
    await this.check();
  }

  /** Stops scheduling. A fetch under way is not waited for (a download may take a minute: shutdown must not). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), Math.min(ms, this.timing.checkMs));
    this.timer.unref();
  }

  /** Milliseconds from `now` until today's `at` (0 when past it). */
  private untilDue(now: Date): number {
    const [h, m] = this.o.at.split(':').map(Number) as [number, number];
    const due = new Date(now.getFullYear(), now.getMonth(), now.getDate(), h, m);
    return Math.max(0, due.getTime() - now.getTime());
  }

  private check(): Promise<void> {
    if (this.stopped || this.o.at === 'off') return Promise.resolve();
    this.running ??= this.once().finally(() => (this.running = undefined));
    return this.running;
  }

  private async once(): Promise<void> {
    const now = this.now();
    const wait = this.untilDue(now);
    if (wait > 0) return this.schedule(wait);
    const day = previousDay(now);
    if (this.o.reconciled(day)) return this.schedule(this.untilDue(new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 0, 0)) || this.timing.checkMs);
    if (!this.o.online()) {
      this.o.log.info({ event: 'settlement-wait', stlDate: day, why: 'link down' }, `settlement ${day}: waiting for the link`);
      try {
        await this.o.whenOnline(this.abort.signal);
      } catch {
        return; // stopping
      }
    }
    if (this.o.busy()) return this.schedule(this.timing.busyRetryMs);
    let r: SettleDayResult;
    try {
      r = await this.o.run(day);
    } catch (err) {
      r = { kind: 'failed', stlDate: day, cause: `internal error: ${(err as Error).message}` };
    }
    if (this.stopped) return;
    this.last = r;
    this.o.onResult?.(r);
    if (r.kind === 'reconciled') {
      this.failures = 0;
      if (r.ok) {
        this.o.log.info({ event: 'settlement', stlDate: day, ok: true, rows: r.rows, file: r.file }, `settlement ${day}: all matched (${r.rows} rows)`);
      } else {
        this.o.log.warn({ event: 'settlement', stlDate: day, ok: false, rows: r.rows, mismatches: r.mismatches.length, file: r.file }, `settlement ${day}: ${r.mismatches.length} order(s) do not match; see kiosk report`);
      }
      return this.schedule(this.timing.checkMs);
    }
    if (this.failedDay !== day) this.failures = 0;
    this.failedDay = day;
    const retryMs = Math.min(this.timing.firstRetryMs * 2 ** this.failures, this.timing.maxRetryMs);
    this.failures++;
    this.o.log.warn({ event: 'settlement-retry', stlDate: day, kind: r.kind, cause: r.cause, attempt: this.failures, retryMs }, `settlement ${day}: ${r.cause}; retry in ${Math.round(retryMs / 1000)} s`);
    this.schedule(retryMs);
  }
}
