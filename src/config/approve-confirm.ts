// Config `approve.confirm` (the vend sensor) as a zod schema: absent = no sensor, the order is delivered when the
// relay pulse ends (the behaviour without it). docs/hardware.md and device/CONFIG.md describe the fields.
import { z } from 'zod';
import type { ConfigProblem } from './types.js';

export const approveConfirmSchema = z.strictObject({
  /** BCM pin of the sensor's output (approve.driver gpio). */
  pin: z.number().int().min(0).max(27).default(24),
  /** Active = electrically low: NPN/open-collector sensors with a pull-up, the usual. */
  activeLow: z.boolean().default(true),
  debounceMs: z.number().int().min(0).max(1000).default(5),
  /** After the pulse ends, wait this long for the drop. */
  confirmWithinMs: z.number().int().min(100).max(60_000).default(3000),
  /** One more pulse when the first saw no drop (off by default: a second pulse may release a second product). */
  retry: z.boolean().default(false),
  /** No drop in this many vends in a row: the sensor is taken to be broken and the kiosk is out of service. */
  brokenAfter: z.number().int().min(1).max(100).default(3),
  /** Active this long with no vend going on: stuck (a blocked beam, a shorted line). */
  stuckAfterMs: z.number().int().min(100).max(600_000).default(5000),
  /** approve.driver sim only: the pulses (1 = the first since start) after which the simulated sensor sees nothing. */
  simMiss: z.array(z.number().int().min(1)).default([]),
});

export type ApproveConfirmConfig = z.output<typeof approveConfirmSchema>;

/** Parses `approve.confirm` (absent → undefined: no sensor); problems carry the dotted field and the value found. */
export function parseApproveConfirm(raw: unknown, file: string): { confirm: ApproveConfirmConfig | undefined; problems: ConfigProblem[] } {
  if (raw === undefined) return { confirm: undefined, problems: [] };
  const res = approveConfirmSchema.safeParse(raw);
  if (res.success) return { confirm: res.data, problems: [] };
  const problems = res.error.issues.map((i) => {
    let value: unknown = raw;
    for (const k of i.path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined;
    const problem = i.code === 'unrecognized_keys' ? `unknown key(s) ${(i as { keys: string[] }).keys.join(', ')}` : i.message;
    return { file, field: ['approve.confirm', ...i.path.map(String)].join('.'), value, problem };
  });
  return { confirm: undefined, problems };
}
