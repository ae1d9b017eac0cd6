// The building blocks every config section is written with: zod schemas whose error messages speak to an
// operator ("must be between 100 and 60000 ms", "missing (required)"), and the field docs that
// device/CONFIG.md is generated from (src/config/reference.ts). zod 4 rather than TypeBox: the config needs
// transforms (trailing "/" of a URL), defaults applied while parsing and refinements that see the whole
// value; zod does all three in one declaration and infers the output type, TypeBox would need a separate
// Value.Default/Convert pass and hand-written cross checks outside the schema.
import { isAbsolute } from 'node:path';
import * as z from 'zod';
import { wireFieldProblem } from '../umpay/messages.js';
import type { CallName } from '../umpay/types.js';

/** What device/CONFIG.md says about a field; registered on the field's outermost schema. */
export interface FieldDoc {
  /** One or two sentences for an operator. */
  doc: string;
  /** Shown instead of the schema's default, e.g. "`<journal folder>/kiosk.sock`" for a derived default. */
  default?: string;
  /** Shown instead of "**R**" / the default for conditionally required fields, e.g. "R if `serial`". */
  required?: string;
  /** Shown instead of the range/choices the schema implies. */
  allowed?: string;
}

export const fieldDocs = z.registry<FieldDoc>();
/** Range and choice text of a base schema (set by the helpers below, read by the reference). */
export const allowedText = new WeakMap<z.ZodType, string>();

/** Attaches the operator's description of a field (the last wrapper: after .default()). */
export function doc<T extends z.ZodType>(schema: T, text: string, extra: Omit<FieldDoc, 'doc'> = {}): T {
  fieldDocs.add(schema, { doc: text, ...extra });
  return schema;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** For refinements that must also run when some of the value failed (they see the value as far as it parsed). */
/**
 * Options for every parse of a config. A config is parsed once per process (kiosk run, status), and zod's fast
 * path for an object schema is source it generates and compiles with `new Function` on that schema's first
 * parse: for one parse that costs more than it saves (docs/performance.md, cold start).
 */
export const PARSE_ONCE = { jitless: true } as const;

export const ALWAYS = { when: () => true } as const;

const missing = (input: unknown, otherwise: string): string => (input === undefined ? 'missing (required)' : otherwise);

/** A whole number in [min, max]; `unit` is said in every message ("ms", "fen", "(BCM GPIO number)"). */
export function int(min: number, max: number, unit?: string) {
  const u = unit ? ` ${unit}` : '';
  const range = `must be between ${min} and ${max}${u}`;
  const s = z
    .number({ error: (iss) => missing(iss.input, `must be a whole number${unit ? ` (${unit})` : ''}, got ${typeName(iss.input)}`) })
    .int({ error: `must be a whole number${unit ? ` (${unit})` : ''}, got a fraction` })
    .min(min, { error: range })
    .max(max, { error: range });
  allowedText.set(s, `${min}–${max}${u}`);
  return s;
}

export const ms = (min: number, max: number) => int(min, max, 'ms');
/** txnAmt is at most 13 digits. */
export const MAX_FEN = 9_999_999_999_999;
/** An amount of money: at least 1 fen (the ceiling is payment.maxAmountFen, a cross-field rule). */
export function fen() {
  const s = z
    .number({ error: (iss) => missing(iss.input, `must be a whole number (fen), got ${typeName(iss.input)}`) })
    .int({ error: 'must be a whole number (fen), got a fraction' })
    .min(1, { error: 'must be at least 1 fen' })
    .max(MAX_FEN, { error: `must be at most ${MAX_FEN} fen` });
  allowedText.set(s, '1 fen …');
  return s;
}
export const bcm = () => int(0, 27, '(BCM GPIO number)');

export interface StrRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** What the pattern means, for the operator: "must be <patternText>". */
  patternText?: string;
}

export function str(rule: StrRule = {}) {
  let s = z.string({ error: (iss) => missing(iss.input, `must be a string, got ${typeName(iss.input)}`) });
  if (rule.min) s = s.min(rule.min, { error: rule.min === 1 ? 'must not be empty' : `must be at least ${rule.min} characters` });
  if (rule.max !== undefined) s = s.max(rule.max, { error: (iss) => `must be at most ${rule.max} characters (has ${String((iss.input as string).length)})` });
  if (rule.pattern) s = s.regex(rule.pattern, { error: `must be ${rule.patternText ?? `like ${String(rule.pattern)}`}` });
  const parts = [rule.patternText, rule.max !== undefined ? `≤ ${rule.max} characters` : undefined].filter(Boolean);
  if (parts.length) allowedText.set(s, parts.join(', '));
  return s;
}

/** An absolute device path, or '' for "none". */
export function devicePath(example: string) {
  return str().refine((v) => v === '' || isAbsolute(v), { error: `must be an absolute device path, e.g. ${example}` });
}

/** A file path; relative ones resolve against the config file's folder (validate.ts does that). */
export const filePath = () => str({ min: 1 });

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const list = values.map((o) => JSON.stringify(o)).join(', ');
  const s = z.enum(values, {
    error: (iss) => missing(iss.input, typeof iss.input === 'string' ? `must be one of ${list}` : `must be a string, got ${typeName(iss.input)}`),
  });
  allowedText.set(s, values.map((o) => `\`${o}\``).join(', '));
  return s;
}

export function bool() {
  const s = z.boolean({ error: (iss) => missing(iss.input, `must be true or false, got ${typeName(iss.input)}`) });
  allowedText.set(s, '`true`, `false`');
  return s;
}

/**
 * A field the platform receives as is: checked by the protocol's own rules (src/umpay/messages.ts), so a
 * config that passes here cannot make every call fail later.
 */
export function wire(call: CallName, field: string) {
  const s = z.string({ error: (iss) => missing(iss.input, `must be a string, got ${typeName(iss.input)}`) }).superRefine((v, ctx) => {
    const problem = wireFieldProblem(call, field, v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem === 'is missing' ? 'must not be empty' : problem });
  });
  return s;
}

/**
 * A section of the config: unknown keys are errors (a typo would otherwise silently fall back to a
 * default; the message suggests the nearest key). An optional section is filled with its defaults.
 */
export function section<S extends z.ZodRawShape>(shape: S, what = 'section') {
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? 'unknown key'
        : iss.input === undefined
          ? `missing (required ${what}, see device/CONFIG.md)`
          : `must be an object, got ${typeName(iss.input)}`,
  });
}
