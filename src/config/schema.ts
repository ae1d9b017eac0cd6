// The kiosk config as ONE zod schema: the source of the TypeScript types (Config), the defaults, the
// validation and device/CONFIG.md (src/config/reference.ts). Each section is its own module under
// sections/; adding a section is one line in SECTIONS (and its module).
import * as z from 'zod';
import { approve } from './sections/approve.js';
import { daemon } from './sections/daemon.js';
import { deviceId } from './sections/device.js';
import { display } from './display.js';
import { fleet } from './fleet.js';
import { gateway } from './sections/gateway.js';
import { indicator } from './sections/indicator.js';
import { journal } from './sections/journal.js';
import { keypad } from './sections/keypad.js';
import { log } from './sections/log.js';
import { mdb } from './sections/mdb.js';
import { merchant } from './sections/merchant.js';
import { payment } from './sections/payment.js';
import { pricing } from './sections/pricing.js';
import { scanner } from './sections/scanner.js';
import { ALWAYS } from './fields.js';
import { runRules, type Path, type Rule, type Section } from './rules.js';

/** The top-level keys in the order device/CONFIG.md lists them. */
export const SECTIONS = {
  deviceId,
  merchant,
  gateway,
  payment,
  journal,
  scanner,
  keypad,
  indicator,
  approve,
  display,
  pricing,
  mdb,
  daemon,
  log,
  fleet,
} satisfies Record<string, Section>;

type Shape = { [K in keyof typeof SECTIONS]: (typeof SECTIONS)[K]['schema'] };
const shape = Object.fromEntries(Object.entries(SECTIONS).map(([k, s]) => [k, s.schema])) as Shape;

/** Rules across sections (each section's own rules live in its module). */
export const CROSS_RULES: readonly Rule[] = [
  {
    doc: '`menu` and `keyed` pricing need a keypad (`keypad.driver` not `none`).',
    check(c) {
      const mode = c.str('pricing.mode');
      if ((mode === 'menu' || mode === 'keyed') && c.str('keypad.driver') === 'none') {
        c.add('keypad.driver', `pricing.mode "${mode}" needs a keypad: set keypad.driver to "gpio" (or "sim")`);
      }
    },
  },
  {
    doc: 'Each GPIO line is used by one thing only (keypad, LEDs, buzzer, relay, the display\'s I2C bus 1 on BCM 2/3); BCM 14/15 are not used when the scanner is on the header UART (`/dev/serial0`, `ttyAMA0`, `ttyS0`).',
    check(c) {
      const used: Array<[Path, number, string?]> = [];
      const take = (path: Path) => {
        const p = c.int(path);
        if (p !== undefined) used.push([path, p]);
      };
      // /dev/i2c-1 is GPIO 2 (SDA) and GPIO 3 (SCL) on the header.
      if (c.str('display.driver') === 'lcd' && c.int('display.i2cBus') === 1) used.push([['display', 'i2cBus'], 2, 'display (I2C SDA)'], [['display', 'i2cBus'], 3, 'display (I2C SCL)']);
      if (c.str('keypad.driver') === 'gpio') {
        if (c.str('keypad.layout') === 'matrix') {
          for (const side of ['rows', 'cols']) {
            const list = c.value(['keypad', side]);
            if (Array.isArray(list)) list.forEach((_, n) => take(['keypad', side, n]));
          }
        } else for (const label of Object.keys((c.value('keypad.pins') as object | undefined) ?? {})) take(['keypad', 'pins', label]);
      }
      if (c.str('indicator.driver') === 'johnny-five' && c.str('indicator.io') === 'gpio') {
        for (const name of ['green', 'red', 'amber', 'buzzer']) take(['indicator', 'pins', name]);
      }
      if (c.str('approve.driver') === 'gpio') {
        take(['approve', 'pin']);
        if (c.present('approve.confirm')) take(['approve', 'confirm', 'pin']);
      }
      const first = new Map<number, string>();
      for (const [path, pin, label] of used) {
        const other = first.get(pin);
        if (other) c.add(path, `BCM ${pin} is already used by ${other}: each GPIO line can drive one thing`);
        else first.set(pin, label ?? formatPath(path));
      }
      // /dev/serial0 and ttyAMA0/ttyS0 are the header UART on BCM 14 (TX) and 15 (RX).
      const scannerPath = c.str('scanner.path') ?? '';
      if (c.str('scanner.driver') === 'serial' && /^\/dev\/(serial0|ttyAMA0|ttyS0)$/.test(scannerPath)) {
        for (const [path, pin] of used) {
          if (pin === 14 || pin === 15) c.add(path, `BCM ${pin} is the UART (${pin === 14 ? 'TX' : 'RX'}) the scanner uses on ${scannerPath}`);
        }
      }
    },
  },
];

/** Every rule: the sections' own, then those across sections. */
export const RULES: readonly Rule[] = [...Object.values(SECTIONS).flatMap((s: Section) => s.rules ?? []), ...CROSS_RULES];

/** Marks issues raised by rules (not by a field's own schema). */
export const RULE_ISSUE = 'kiosk-config-rule';

export const ConfigSchema = z
  .strictObject(shape, { error: (iss) => (iss.code === 'unrecognized_keys' ? 'unknown key' : `the config must be a JSON object, got ${typeof iss.input}`) })
  // `when`: the rules also run when some fields failed, so every problem is listed at once.
  .superRefine(
    (value, ctx) => {
      const found = [...ctx.issues];
      runRules(RULES, value, found, (path, message) => ctx.addIssue({ code: 'custom', path: [...path], message, params: { [RULE_ISSUE]: true } }));
    },
    ALWAYS,
  )
  .transform((c) => ({
    ...c,
    pricing: { ...c.pricing, maxAmountFen: c.pricing.maxAmountFen ?? c.payment.maxAmountFen },
  }));

/** `keypad.rows[2]`, `pricing.items.12.amountFen`. */
export function formatPath(path: Path): string {
  return path.reduce<string>((out, k) => (typeof k === 'number' ? `${out}[${k}]` : out ? `${out}.${k}` : k), '');
}

/** The config as the program sees it: every field present, defaults filled in, file paths absolute. */
export type Config = z.output<typeof ConfigSchema>;
