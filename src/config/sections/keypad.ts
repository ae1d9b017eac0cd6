// keypad: a matrix or direct-wired keypad on GPIO (or simulated), for menu and keyed pricing.
import * as z from 'zod';
import { defineSection } from '../rules.js';
import { ALWAYS, bcm, bool, doc, int, ms, oneOf, section, str, typeName } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

const D = DEFAULTS.keypad;

export const KEYPAD_DRIVERS = ['gpio', 'sim', 'none'] as const;
export const KEYPAD_LAYOUTS = ['matrix', 'direct'] as const;
/** The labels a keypad can produce (issue 4: keys 0–9, `*`, `#`). */
export const KEY_LABELS = '0123456789*#';

const pinList = () =>
  z
    .array(bcm(), { error: (iss) => `must be an array of whole numbers, got ${typeName(iss.input)}` })
    .min(1, { error: 'must not be empty' });

const directPins = () =>
  z.record(z.string(), bcm(), { error: (iss) => `must be an object of key label → BCM pin, got ${typeName(iss.input)}` }).superRefine((pins, ctx) => {
    for (const label of Object.keys(pins)) {
      if (label.length !== 1 || !KEY_LABELS.includes(label)) ctx.addIssue({ code: 'custom', path: [label], message: `"${label}" is not a key: keys are 0-9, * and #` });
    }
  }, ALWAYS);

export const keypad = defineSection(
  section({
    driver: doc(oneOf(KEYPAD_DRIVERS).default(D.driver), '`gpio` (a real keypad), `sim`, or `none`. `menu` and `keyed` pricing need a keypad.'),
    layout: doc(oneOf(KEYPAD_LAYOUTS).default(D.layout), '`matrix` (rows × columns) or `direct` (one pin per key).'),
    rows: doc(pinList().default([...D.rows]), 'Matrix row pins.', { allowed: 'BCM 0–27' }),
    cols: doc(pinList().default([...D.cols]), 'Matrix column pins.', { allowed: 'BCM 0–27' }),
    keys: doc(str().default(D.keys), 'Matrix labels row by row, one character per key.', { allowed: 'exactly rows × cols of `0-9 * #`, no repeats' }),
    pins: doc(directPins().default({ ...D.pins }), 'Direct layout: `{"1": 5, "2": 6, …, "#": 26}`, key label → BCM pin.'),
    debounceMs: doc(ms(1, 1000).default(D.debounceMs), 'A key must be stable this long to count.'),
    activeLow: doc(bool().default(D.activeLow), 'A pressed key reads low (pull-ups, the usual wiring).'),
    gpioChipBase: doc(
      int(0, 4096).optional(),
      'Only if detection fails: the sysfs number of BCM 0 (0 on old kernels, 512 on a Pi 4 with Bookworm, 571 on a Pi 5). Leave it out normally.',
      { default: 'detected' },
    ),
  }).prefault({}),
  [
    {
      check(c) {
        if (c.str('keypad.driver') !== 'gpio') return;
        const layout = c.str('keypad.layout');
        if (layout === 'matrix') {
          const keys = c.str('keypad.keys');
          const rows = c.value('keypad.rows') as number[] | undefined;
          const cols = c.value('keypad.cols') as number[] | undefined;
          if (keys === undefined) return;
          if (rows && cols && keys.length !== rows.length * cols.length) {
            c.add('keypad.keys', `must have rows × cols = ${rows.length} × ${cols.length} = ${rows.length * cols.length} labels, one per key, row by row (has ${keys.length})`);
          }
          const bad = [...keys].filter((ch) => !KEY_LABELS.includes(ch));
          if (bad.length) c.add('keypad.keys', `contains ${bad.map((ch) => JSON.stringify(ch)).join(', ')}: labels are 0-9, * and #`);
          const dup = [...keys].filter((ch, i) => keys.indexOf(ch) !== i);
          if (dup.length) c.add('keypad.keys', `labels ${[...new Set(dup)].join(' ')} appear more than once`);
        } else if (layout === 'direct') {
          const pins = c.value('keypad.pins') as Record<string, number> | undefined;
          if (pins && Object.keys(pins).length === 0) c.add('keypad.pins', 'missing: layout "direct" needs one pin per key, e.g. {"1": 5, "2": 6, "#": 26}');
        }
      },
    },
  ],
);
