// daemon: stopping, the control socket and the single-instance lock.
import { defineSection } from '../rules.js';
import { doc, ms, section, str } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

const D = DEFAULTS.daemon;

/** Linux sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

export const daemon = defineSection(
  section({
    graceMs: doc(
      ms(100, 60000).default(D.graceMs),
      'On stop, time allowed for the in-flight step to finish and journal. pm2\'s kill_timeout (10 s) and systemd\'s TimeoutStopSec (10 s) are above it; raise those too if you raise this.',
    ),
    // '' = beside the journal (validate.ts derives the path once journal.path is known).
    controlSocket: doc(str().default(D.controlSocket), 'Local socket `kiosk reconcile`/`status` use to reach the daemon (≤ 107 bytes).', { default: '`<journal folder>/kiosk.sock`' }),
    lockFile: doc(
      str().default(D.lockFile),
      'A kernel lock (`flock`) the running daemon holds: a second instance refuses to start; released by the kernel when the daemon dies. Never deleted; a file that is not a lock file is refused untouched. Not the journal (or its -wal/-shm), the config, a key or the certificate, and in a folder the kiosk user owns; the same for controlSocket.',
      { default: '`<journal folder>/kiosk.lock`' },
    ),
    settleAt: doc(
      str({ pattern: /^(off|([01][0-9]|2[0-3]):[0-5][0-9])$/, patternText: '"HH:MM" (24 h, local time) or "off"' }).default(D.settleAt),
      'Local time after which the daemon fetches the previous day\'s settlement file (the platform publishes it at 08:00) and reconciles it with the journal; `off` to disable. Retried with backoff, only while the link is up and no customer is paying.',
    ),
    // '' = beside the journal, like controlSocket.
    settleDir: doc(str().default(D.settleDir), 'Folder the downloaded settlement files are kept in (0700); never in a kernel pseudo filesystem (/proc, /sys, /dev).', { default: '`<journal folder>/settlement`' }),
  }).prefault({}),
);
