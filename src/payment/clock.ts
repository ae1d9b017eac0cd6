// Time as the engine sees it: one tiny interface so unit tests run on a fake clock (no real sleeps).
import { existsSync } from 'node:fs';

export class Halted extends Error {
  constructor() {
    super('payment engine stopped');
    this.name = 'Halted';
  }
}

export interface Clock {
  /** Milliseconds since the epoch (wall clock: orderTime and journal times come from it). */
  now(): number;
  /** Resolves after `ms`; rejects with Halted as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
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
};

/** A clock before this instant is certainly wrong (a Pi without RTC boots in 1970 or at its last save). */
export const BUILD_DATE_MS = Date.UTC(2026, 0, 1);

const TIMESYNC_DIR = '/run/systemd/timesync';

/**
 * Why the clock cannot be trusted for orderTime, or null when it can. systemd-timesyncd creates
 * /run/systemd/timesync/synchronized once synchronised; where that folder does not exist (other time
 * daemons, containers) synchronisation cannot be read and only the build-date floor applies.
 */
export function defaultClockCheck(now: number, exists: (p: string) => boolean = existsSync): string | null {
  if (now < BUILD_DATE_MS) {
    return `clock reads ${new Date(now).toISOString()}, before this build (${new Date(BUILD_DATE_MS).toISOString().slice(0, 10)}): not set yet`;
  }
  if (exists(TIMESYNC_DIR) && !exists(`${TIMESYNC_DIR}/synchronized`)) return 'clock not yet synchronised (systemd-timesyncd has not confirmed the time)';
  return null;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** yyyyMMddHHmmss in local time, as the platform expects orderTime. */
export function wireTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`;
}
