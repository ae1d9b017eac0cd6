// Whether a serial device node is still the one a driver opened. serialport on Linux does not always see a hangup (a
// pty whose master closed, some USB adapters), so the serial drivers (serial-scanner.ts, mdb-hat.ts) poll the node:
// gone, or another device behind the same path (a replugged adapter, a new pty behind a symlink), is a loss.
import { stat } from 'node:fs';
import type { Clock, TimerHandle } from '../../clock.js';

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
