// scanner: the barcode scanner on a serial line (or simulated).
import { defineSection } from '../rules.js';
import { devicePath, doc, int, ms, oneOf, section, str } from '../fields.js';

export const SCANNER_DRIVERS = ['serial', 'sim'] as const;
export const TERMINATORS = ['CR', 'LF', 'CRLF'] as const;
const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];

export const scanner = defineSection(
  section({
    driver: doc(oneOf(SCANNER_DRIVERS), '`serial` (a real scanner) or `sim` (simulated, for the demo and tests).'),
    path: doc(
      devicePath('/dev/kiosk-scanner, /dev/serial0 or /dev/ttyACM0').default(''),
      'Absolute device path: `/dev/kiosk-scanner` (udev rule), `/dev/serial0`, `/dev/ttyACM0`. It may be absent at start: the kiosk shows a fault and keeps trying.',
      { required: 'R if `serial`' },
    ),
    baudRate: doc(int(1, 4_000_000).default(9600), 'The scanner\'s manual says which; most use 9600 or 115200.', { allowed: `a standard rate (${BAUD_RATES[0]}…${BAUD_RATES.at(-1)})` }),
    terminator: doc(oneOf(TERMINATORS).default('CR'), 'What ends one code.'),
    prefix: doc(str({ max: 16 }).default(''), 'Characters the scanner adds before each code, stripped.'),
    suffix: doc(str({ max: 16 }).default(''), 'Characters the scanner adds after each code, stripped.'),
    maxLineLength: doc(int(16, 1024).default(64), 'Longer lines are dropped as noise.'),
    reopenMinMs: doc(ms(50, 60000).default(500), 'Shortest pause before reopening a vanished scanner (≤ `reopenMaxMs`).'),
    reopenMaxMs: doc(ms(100, 600000).default(30000), 'Longest pause between attempts to reopen a vanished scanner (the backoff doubles up to it).'),
  }),
  [
    {
      check(c) {
        if (c.str('scanner.driver') === 'serial' && c.value('scanner.path') === '') c.add('scanner.path', 'missing (required with driver "serial")');
        const baud = c.int('scanner.baudRate');
        if (baud !== undefined && !BAUD_RATES.includes(baud)) c.add('scanner.baudRate', `is not a standard rate (${BAUD_RATES.join(', ')}); most scanners use 9600 or 115200`);
        const min = c.int('scanner.reopenMinMs');
        const max = c.int('scanner.reopenMaxMs');
        if (min !== undefined && max !== undefined && min > max) c.add('scanner.reopenMinMs', `must not exceed scanner.reopenMaxMs (${max})`);
      },
    },
  ],
);
