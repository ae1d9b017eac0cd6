// daemon: stopping, the control socket and the single-instance lock.
import { defineSection } from '../rules.js';
import { doc, ms, section, str } from '../fields.js';

/** Linux sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

export const daemon = defineSection(
  section({
    graceMs: doc(
      ms(100, 60000).default(5000),
      'On stop, time allowed for the in-flight step to finish and journal. pm2\'s kill_timeout (10 s) and systemd\'s TimeoutStopSec (10 s) are above it; raise those too if you raise this.',
    ),
    // '' = beside the journal (validate.ts derives the path once journal.path is known).
    controlSocket: doc(str().default(''), 'Local socket `kiosk reconcile`/`status` use to reach the daemon (≤ 107 bytes).', { default: '`<journal folder>/kiosk.sock`' }),
    lockFile: doc(str().default(''), 'Held by the running daemon: a second instance refuses to start.', { default: '`<journal folder>/kiosk.lock`' }),
  }).prefault({}),
);
