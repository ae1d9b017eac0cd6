// Rules that look at more than one field (gateway.timeoutMs < payment.customerWindowMs, one GPIO line per
// device, …). Each section module lists its own; the root schema runs them all after the fields are parsed,
// even when some fields are wrong, so an operator sees every problem at once. A rule only ever sees values
// that passed their own field's check (others read as undefined), so it never repeats a field's problem.
import type { z } from 'zod';

export type Path = ReadonlyArray<string | number>;

export interface RuleContext {
  /** The value at a dotted path, if present and valid. */
  value(path: string | Path): unknown;
  /** Whether the input has anything at `path` (valid or not). */
  present(path: string | Path): boolean;
  int(path: string | Path): number | undefined;
  str(path: string | Path): string | undefined;
  /** Records a problem at `path` (the operator sees the value found there). */
  add(path: string | Path, message: string): void;
}

export interface Rule {
  /** For device/CONFIG.md's "also checked" list; omit for rules the field docs already state. */
  doc?: string;
  check(c: RuleContext): void;
}

export interface Section<S extends z.ZodType = z.ZodType> {
  schema: S;
  rules?: readonly Rule[];
}

export const defineSection = <S extends z.ZodType>(schema: S, rules: readonly Rule[] = []): Section<S> => ({ schema, rules });

const split = (path: string | Path): Path => (typeof path === 'string' ? path.split('.') : path);

/** Runs `rules` against a root value as parsed so far; `issues` are the field problems found already. */
export function runRules(rules: readonly Rule[], root: unknown, issues: ReadonlyArray<{ readonly code: string; readonly path?: PropertyKey[] }>, add: (path: Path, message: string) => void): void {
  // An unknown key is dropped from the value; it does not make its section's other fields unreadable.
  const bad = issues.filter((i) => i.code !== 'unrecognized_keys').map((i) => (i.path ?? []).map(String).join('\u0000'));
  const valid = (p: Path) => {
    const key = p.map(String).join('\u0000');
    return !bad.some((b) => b === key || b.startsWith(key + '\u0000') || key.startsWith(b + '\u0000'));
  };
  const at = (p: Path): unknown => {
    let v: unknown = root;
    for (const k of p) {
      if (typeof v !== 'object' || v === null) return undefined;
      v = (v as Record<string | number, unknown>)[k];
    }
    return v;
  };
  const c: RuleContext = {
    value(path) {
      const p = split(path);
      return valid(p) ? at(p) : undefined;
    },
    present: (path) => at(split(path)) !== undefined,
    int(path) {
      const v = c.value(path);
      return typeof v === 'number' && Number.isInteger(v) ? v : undefined;
    },
    str(path) {
      const v = c.value(path);
      return typeof v === 'string' ? v : undefined;
    },
    add: (path, message) => add(split(path), message),
  };
  for (const rule of rules) rule.check(c);
}
