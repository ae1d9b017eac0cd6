// Whether a serial device node is still the one a driver opened. A hangup (a USB adapter unplugged, a pty whose
// master closed) is seen by the port itself (hangup-binding.ts); this slower check, under both serial drivers
// (reconnecting-port.ts), is for what the port cannot tell: the node gone without a hangup, or another device behind
// the same path (a replugged adapter, a new pty behind a symlink: the open fd is stale).
import { stat } from 'node:fs';
import type { Clock, TimerHandle } from '../../clock.js';

/**
 * The default pace of the check while the port is open. Idle means asleep (issue 20 §5): each check is a wakeup (a
 * stat in libuv's thread pool), so never more often than every 5 s.
 */
export const PRESENCE_CHECK_MS = 10_000;

/** Polls `path` every `everyMs`; calls `lost` (once per problem seen) while `current()` holds. Returns the timer. */
export function watchPresence(path: string, everyMs: number, timers: Clock, current: () => boolean, lost: (err: Error) => void): TimerHandle {
  let device: number | null = null;
  let busy = false;
  return timers.setInterval(() => {
    if (busy) return;
    busy = true;
    stat(path, (err, st) => {
      busy = false;
      if (!current()) return;
      if (err) return lost(err);
      device ??= st.rdev;
      // A replugged adapter or a new pty behind the same symlink: the open fd is stale.
      if (st.rdev !== device) lost(new Error(`device behind ${path} was replaced`));
    });
  }, everyMs);
}
