// Whether the wall clock can be trusted for orderTime: a Pi without RTC boots in 1970 or at its last save.
import { existsSync } from 'node:fs';

/** A clock before this instant is certainly wrong. */
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
