// Config section `display` (the character display) as a zod schema: driver, geometry, I2C address and bus, and
// the operator's text overrides (ASCII and ¥ only, each fitting the display). device/CONFIG.md and
// docs/display.md describe the fields.
import * as z from 'zod';
import { fill, PLACEHOLDER_SAMPLES, TEXT_KEYS, textProblem, type TextKey } from '../kiosk/texts.js';
import { doc, ms, PARSE_ONCE } from './fields.js';
import { defineSection } from './rules.js';
import type { ConfigProblem } from './problem.js';
import { DEFAULTS } from './defaults.js';

const D = DEFAULTS.display;

export const DISPLAY_DRIVERS = ['none', 'lcd', 'log', 'sim'] as const;

/** "0x27", "39" or 39 → 39: backpack addresses are printed in hex on the board and in i2cdetect. */
const address = z.union([
  z.number().int(),
  z
    .string()
    .regex(/^(0x[0-9a-fA-F]{1,2}|[0-9]{1,3})$/, 'must be an I2C address such as "0x27" or 39')
    .transform((s) => Number(s)),
]).pipe(z.number().int().min(0x08, 'must be a 7-bit I2C address, 0x08–0x77').max(0x77, 'must be a 7-bit I2C address, 0x08–0x77'));

/** Keys from the texts table; what ROM A00 can show. Checked per field, so they are reported with the rest. */
const texts = z.record(z.string(), z.string()).superRefine((t, ctx) => {
  for (const [key, text] of Object.entries(t)) {
    if (!(TEXT_KEYS as string[]).includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: `unknown text key (keys: ${TEXT_KEYS.join(', ')})` });
    else {
      const bad = textProblem(text);
      if (bad) ctx.addIssue({ code: 'custom', path: [key], message: bad });
    }
  }
});

export const displaySchema = z
  .strictObject({
    driver: doc(
      z.enum(DISPLAY_DRIVERS).default(D.driver),
      '`lcd` (HD44780 on a PCF8574 I2C backpack), `log` (each screen as a JSON log line), `sim` (demo panel) or `none`. docs/display.md shows the screens.',
      { allowed: DISPLAY_DRIVERS.map((d) => `\`${d}\``).join(', ') },
    ),
    cols: doc(z.number().int().min(8).max(40).default(D.cols), 'The module\'s width in characters (16 or 20).', { allowed: '8–40' }),
    rows: doc(z.number().int().min(1).max(4).default(D.rows), 'The module\'s lines (2 or 4).', { allowed: '1–4' }),
    address: doc(address.default(D.address), 'The backpack\'s I2C address, number or hex string (`i2cdetect -y 1`; 0x3F for a PCF8574AT).', { allowed: '0x08–0x77', default: '`"0x27"`' }),
    i2cBus: doc(z.number().int().min(0).max(31).default(D.i2cBus), '`/dev/i2c-<n>`; 1 is GPIO 2/3 (then BCM 2 and 3 are taken).', { allowed: '0–31' }),
    resultMs: doc(
      ms(100, 60_000).default(D.resultMs),
      'How long a customer\'s result (paid, declined, not charged, offline, fault) stays on the display and the indicator before the kiosk is ready for the next customer.',
    ),
    texts: doc(
      texts.default({ ...D.texts }),
      'Overrides of the customer texts by key (docs/display.md lists keys and defaults): printable ASCII or `¥`, no `\\` or `~`, fitting `cols`.',
    ),
  })
  // The width depends on cols: checked once the rest is valid.
  .superRefine((d, ctx) => {
    for (const [key, text] of Object.entries(d.texts)) {
      const widest = fill(text, PLACEHOLDER_SAMPLES);
      if ([...widest].length > d.cols) ctx.addIssue({ code: 'custom', path: ['texts', key], message: `too long for a ${d.cols}-column display (${[...widest].length} characters as shown, e.g. "${widest}")` });
    }
  });

/** The section as the config composes it: absent means the defaults (no display). */
export const display = defineSection(displaySchema.prefault({}));

export type DisplayConfig = Omit<z.output<typeof displaySchema>, 'texts'> & { texts: Partial<Record<TextKey, string>> };

/** Parses `display` (absent → defaults); problems carry the dotted field and the value found. */
export function parseDisplay(raw: unknown, file: string): { display: DisplayConfig; problems: ConfigProblem[] } {
  const res = displaySchema.safeParse(raw ?? {}, PARSE_ONCE);
  if (res.success) return { display: res.data, problems: [] };
  const problems = res.error.issues.map((i) => {
    const field = ['display', ...i.path.map(String)].join('.');
    let value: unknown = raw;
    for (const k of i.path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k] : undefined;
    const message = i.code === 'unrecognized_keys' ? `unknown key(s) ${(i as { keys: string[] }).keys.join(', ')}` : i.message;
    return { file, field, value, problem: message };
  });
  return { display: displaySchema.parse({}, PARSE_ONCE), problems };
}
