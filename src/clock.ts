// Time for the whole product, one interface (tests pass test/fake-clock.ts). Two clocks, never mixed:
// - mono(): monotonic milliseconds (CLOCK_MONOTONIC: since boot). Every duration and deadline (customer window,
//   code validity, query pace, backoff, rate-limit pause, result display, keypad entry timeout, link
//   probes, debounce) is measured on it: a Pi has no RTC, and NTP or fake-hwclock steps the wall clock
//   by hours. Timers (sleep/setTimeout/setInterval) are monotonic too (libuv's timers are).
// - wall(): milliseconds since the epoch, only for what goes on the wire (orderTime, refund orderTime,
//   the platform's day) and for timestamps people read (journal `at`, logs, status).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Rejection of a sleep whose signal aborted (the engine or the link monitor is stopping). */
export class Halted extends Error {
  constructor() {
    super('payment engine stopped');
    this.name = 'Halted';
  }
}

/** What setTimeout/setInterval return, only for clearing: Node's Timeout object, a fake clock's number. */
export type TimerHandle = object | number;

export interface Clock {
  /** Monotonic ms: for every duration and deadline. */
  mono(): number;
  /**
   * Which monotonic timeline mono() is on: two readings with the same bootId are comparable, even from two
   * processes (a deadline journaled by a process that was killed can be checked by the next one).
   */
  readonly bootId: string;
  /** Wall-clock ms since the epoch: only for the wire (orderTime) and timestamps people read. */
  wall(): number;
  /** Resolves after `ms` of monotonic time; rejects with Halted as soon as `signal` aborts. Keeps the process alive. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Unref'd: a pending timer never keeps a stopping process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Like Node's: nothing to clear (undefined, null) is fine. */
  clearTimeout(handle: TimerHandle | null | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | null | undefined): void;
}

/** Linux's id of this boot; elsewhere an id of this process (readings of other processes never compare). */
function readBootId(): string {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    if (id) return id;
  } catch {
    // not Linux: fall through
  }
  return `process-${randomUUID()}`;
}

export const systemClock: Clock = {
  // process.hrtime is CLOCK_MONOTONIC on Linux: one timeline since boot for every process, never stepped.
  mono: () => Number(process.hrtime.bigint()) / 1e6,
  bootId: readBootId(),
  wall: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new Halted());
      const onAbort = (): void => {
        clearTimeout(t);
        reject(new Halted());
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout | undefined),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout | undefined),
};

/** An ISO timestamp of the wall clock (journal `at`, status lines). */
export const isoNow = (clock: Clock): string => new Date(clock.wall()).toISOString();
