// scanner: the barcode scanner on a serial line (or simulated).
import { MODULE_FAMILIES, SETUP_MODES, TRIGGER_MODES } from '../../hardware/modules/types.js';
import { defineSection } from '../rules.js';
import { bool, devicePath, doc, int, ms, oneOf, section, str } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

const D = DEFAULTS.scanner;

export const SCANNER_DRIVERS = ['serial', 'sim', 'hid'] as const;
export { MODULE_FAMILIES, SETUP_MODES, TRIGGER_MODES };
export const TERMINATORS = ['CR', 'LF', 'CRLF'] as const;
const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];

export const scanner = defineSection(
  section({
    driver: doc(
      oneOf(SCANNER_DRIVERS),
      '`serial` (a real scanner), `hid` (a USB keyboard-mode scanner read from its input device, grabbed exclusively; docs/scanners.md) or `sim` (simulated, for the demo and tests).',
    ),
    path: doc(
      devicePath('/dev/kiosk-scanner, /dev/serial0 or /dev/ttyACM0').default(D.path),
      'Absolute device path: `/dev/kiosk-scanner` (udev rule), `/dev/serial0`, `/dev/ttyACM0`. It may be absent at start: the kiosk shows a fault and keeps trying.',
      { required: 'R if `serial` or `hid`' },
    ),
    baudRate: doc(int(1, 4_000_000).default(D.baudRate), 'The scanner\'s manual says which; most use 9600 or 115200.', { allowed: `a standard rate (${BAUD_RATES[0]}…${BAUD_RATES.at(-1)})` }),
    terminator: doc(oneOf(TERMINATORS).default(D.terminator), 'What ends one code.'),
    prefix: doc(str({ max: 16 }).default(D.prefix), 'Characters the scanner adds before each code, stripped.'),
    suffix: doc(str({ max: 16 }).default(D.suffix), 'Characters the scanner adds after each code, stripped.'),
    maxLineLength: doc(int(16, 1024).default(D.maxLineLength), 'Longer lines are dropped as noise.'),
    reopenMinMs: doc(ms(50, 60000).default(D.reopenMinMs), 'Shortest pause before reopening a vanished scanner (≤ `reopenMaxMs`).'),
    reopenMaxMs: doc(ms(100, 600000).default(D.reopenMaxMs), 'Longest pause between attempts to reopen a vanished scanner (the backoff doubles up to it).'),
    module: doc(oneOf(MODULE_FAMILIES).default(D.module), 'The module\'s command protocol: `plain` (no command ever sent), `gm`, `newland`, `honeywell`. See docs/scanners.md.'),
    model: doc(str({ max: 32 }).default(D.model), 'The model printed on the module (`GM65`, `GM805`, `GM812`, `GM861`): GM modules cannot tell it, and without it nothing is written.'),
    setup: doc(
      oneOf(SETUP_MODES).default(D.setup),
      '`apply` (read, write only differences, read back, save to flash only when changed), `verify` (never write; a difference is a fault), `off`.',
    ),
    trigger: doc(oneOf(TRIGGER_MODES).default(D.trigger), '`command`: the kiosk starts each read window only while a payment can be taken (needs `scanner.module`).'),
    // Module read windows go in 100 ms steps up to 25.5 s (GM); 0 would mean "until a read", never re-armed.
    readWindowMs: doc(ms(500, 25500).default(D.readWindowMs), 'The module\'s read window in command mode.'),
    reReadDelayMs: doc(ms(0, 12700).default(D.reReadDelayMs), 'The module\'s same-code re-read delay.'),
    moduleBeep: doc(bool().default(D.moduleBeep), 'The module\'s own beep (off: the kiosk\'s buzzer speaks).'),
  }),
  [
    {
      check(c) {
        const driver = c.str('scanner.driver');
        if ((driver === 'serial' || driver === 'hid') && c.value('scanner.path') === '') c.add('scanner.path', `missing (required with driver "${driver}")`);
        const module = c.str('scanner.module');
        if (module !== undefined && module !== 'plain' && driver === 'hid') c.add('scanner.module', 'needs a serial scanner: a USB keyboard (hid) scanner takes no commands');
        if (c.str('scanner.trigger') === 'command' && module === 'plain') c.add('scanner.trigger', 'needs scanner.module (gm, newland or honeywell): a plain scanner cannot be triggered');
        const baud = c.int('scanner.baudRate');
        if (baud !== undefined && !BAUD_RATES.includes(baud)) c.add('scanner.baudRate', `is not a standard rate (${BAUD_RATES.join(', ')}); most scanners use 9600 or 115200`);
        const min = c.int('scanner.reopenMinMs');
        const max = c.int('scanner.reopenMaxMs');
        if (min !== undefined && max !== undefined && min > max) c.add('scanner.reopenMinMs', `must not exceed scanner.reopenMaxMs (${max})`);
      },
    },
  ],
);
