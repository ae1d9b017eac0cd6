// Config `approve.confirm` (the vend sensor) as a zod schema, part of the approve section (sections/approve.ts):
// absent = no sensor, the order is delivered when the relay pulse ends. docs/hardware.md describes the sensor;
// device/CONFIG.md is generated from the docs here.
import * as z from 'zod';
import { bcm, bool, doc, int, ms, PARSE_ONCE, section, typeName } from './fields.js';
import type { ConfigProblem } from './problem.js';
import { CONFIRM_DEFAULTS as D } from './defaults.js';

export const approveConfirmSchema = section(
  {
    pin: doc(bcm().default(D.pin), 'BCM input of the vend sensor\'s output (needs a pull-up).'),
    // Active = electrically low: NPN/open-collector sensors with a pull-up, the usual.
    activeLow: doc(bool().default(D.activeLow), 'The sensor pulls the line low when it sees a product.'),
    debounceMs: doc(ms(0, 1000).default(D.debounceMs), 'The sensor\'s signal must be stable this long.'),
    confirmWithinMs: doc(ms(100, 60_000).default(D.confirmWithinMs), 'After the pulse ends, how long to wait for the drop.'),
    // Off by default: a second pulse may release a second product.
    retry: doc(bool().default(D.retry), 'One more pulse when the first saw nothing (a second product may fall: off by default).'),
    brokenAfter: doc(int(1, 100).default(D.brokenAfter), 'No drop in this many vends in a row: sensor fault F04, no payments until it works.'),
    stuckAfterMs: doc(ms(100, 600_000).default(D.stuckAfterMs), 'Active this long outside a vend (a blocked beam, a shorted line): sensor fault F04.'),
    simMiss: doc(
      z.array(int(1, 1_000_000), { error: (iss) => `must be an array of pulse numbers, got ${typeName(iss.input)}` }).default([...D.simMiss]),
      '`approve.driver` `sim` only: pulses (1 = first since start) after which the simulated sensor sees nothing.',
    ),
  },
  'object',
);

export type ApproveConfirmConfig = z.output<typeof approveConfirmSchema>;

/** Parses `approve.confirm` (absent → undefined: no sensor); problems carry the dotted field and the value found. */
export function parseApproveConfirm(raw: unknown, file: string): { confirm: ApproveConfirmConfig | undefined; problems: ConfigProblem[] } {
  if (raw === undefined) return { confirm: undefined, problems: [] };
  const res = approveConfirmSchema.safeParse(raw, PARSE_ONCE);
  if (res.success) return { confirm: res.data, problems: [] };
  const problems = res.error.issues.map((i) => {
    let value: unknown = raw;
    for (const k of i.path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k] : undefined;
    const problem = i.code === 'unrecognized_keys' ? `unknown key(s) ${(i as { keys: string[] }).keys.join(', ')}` : i.message;
    return { file, field: ['approve.confirm', ...i.path.map(String)].join('.'), value, problem };
  });
  return { confirm: undefined, problems };
}
