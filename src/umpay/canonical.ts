// The two canonical strings the platform signs. PROTOCOL.md, "Signing a request" and "Verifying a response".

/** A field value as it may appear in a request or an answer. */
export type WireValue = string | number | boolean | null | undefined | { [key: string]: WireValue } | WireValue[];

/**
 * A field's value as text, for lookups and messages: what String() gives for a scalar, JSON for an object or array
 * (a hostile or broken answer must not turn into "[object Object]").
 */
export function wireText(value: unknown): string {
  // Stryker disable next-line ConditionalExpression: without `value !== null`, null goes to JSON.stringify: "null" too
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '';
}

/**
 * The two rules the vendor's demos use to build a request's plaintext (PROTOCOL.md, "Signing a request"):
 * `doc` — the documentation and the PHP demo: empty fields skipped, values as they are;
 * `java` — the Java demo kit: `TreeMap.toString()` with `", "` → `&` and `{`/`}` removed, so an empty value is
 * signed as `k=`, a null as `k=null`, and text containing `", "`, `{` or `}` changes.
 * What the kiosk sends gives the same bytes under both (no empty fields, no such text: see `signingHazard`).
 */
export type RequestRule = 'doc' | 'java';
export const REQUEST_RULES: readonly RequestRule[] = ['doc', 'java'];

/** Text the Java rule changes: `", "` (becomes `&`), `{` and `}` (removed). */
const JAVA_RULE_CHANGES = /, |[{}]/;

/**
 * Why `text` would sign differently under the two rules, or undefined when it is safe. For free text from
 * config or menus (goodsInfo, goodsId, merPriv…): the production server's rule is not documented.
 */
export function signingHazard(text: string): string | undefined {
  const m = JAVA_RULE_CHANGES.exec(text);
  if (!m) return undefined;
  return `contains ${JSON.stringify(m[0])}, which the platform's Java demo signs differently from its documented rule (TreeMap.toString(): ", " becomes "&", braces vanish); use other punctuation`;
}

/** The plaintext under `rule` (default the documented one). */
export function requestPlaintextBy(rule: RequestRule, fields: Readonly<Record<string, WireValue>>): string {
  return rule === 'java' ? javaRequestPlaintext(fields) : requestPlaintext(fields);
}

/**
 * `TreeMap<String,Object>.toString().replace(", ", "&").replace("{", "").replace("}", "")` over every field but
 * `signature`.
 */
export function javaRequestPlaintext(fields: Readonly<Record<string, WireValue>>): string {
  const rest: Record<string, WireValue> = {};
  for (const key of Object.keys(fields)) if (key !== 'signature') rest[key] = fields[key];
  return javaToString(rest).split(', ').join('&').replace(/[{}]/g, '');
}

// java.lang.String.valueOf of what fastjson hands a TreeMap: null → "null", maps as {k=v, k=v} (keys sorted: a
// TreeMap), lists as [a, b], numbers and booleans as their text.
function javaToString(value: WireValue): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(javaToString).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.keys(value).sort().map((k) => `${k}=${javaToString(value[k])}`).join(', ')}}`;
  return String(value);
}

/** `k1=v1&k2=v2…` over every non-empty field but `signature`, keys in code-unit order, values as-is. */
export function requestPlaintext(fields: Readonly<Record<string, WireValue>>): string {
  const parts: string[] = [];
  for (const key of Object.keys(fields).sort()) {
    if (key === 'signature') continue;
    const value = fields[key];
    if (isBlank(value)) continue;
    parts.push(`${key}=${scalarText(value)}`);
  }
  return parts.join('&');
}

/** Values only, joined by `|`, keys sorted, blanks skipped, nested objects flattened in place. */
export function responsePlaintext(fields: Readonly<Record<string, WireValue>>): string {
  const values: string[] = [];
  collectValues(fields, values, true);
  return values.join('|');
}

function collectValues(obj: Readonly<Record<string, WireValue>>, out: string[], top: boolean): void {
  for (const key of Object.keys(obj).sort()) {
    if (top && key === 'signature') continue;
    const value = obj[key];
    if (isBlank(value)) continue;
    if (typeof value === 'object' && !Array.isArray(value)) {
      collectValues(value as Record<string, WireValue>, out, false);
    } else {
      out.push(scalarText(value));
    }
  }
}

// Numbers as their text: an answer parsed by parseWireJson (json.ts) holds every number whose text a JS number
// would change as that exact text (a string), so `1.50` stays "1.50". Arrays as JSON (the platform sends none).
function scalarText(value: WireValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The answer plaintext as the vendor's PHP demo builds it (`sortRespFields`): PHP's json_decode turns `1.50` into
 * the float 1.5, loose `== null` also skips 0 and false, and every `"` is removed from a value. Only for telling
 * the operator which rule an answer verified under; the platform (Java) signs the exact text.
 */
export function phpResponsePlaintext(fields: Readonly<Record<string, WireValue>>): string {
  const values: string[] = [];
  const walk = (obj: Readonly<Record<string, WireValue>>, top: boolean): void => {
    for (const key of Object.keys(obj).sort()) {
      if (top && key === 'signature') continue;
      const value = obj[key];
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        walk(value, false);
        continue;
      }
      let text: string;
      const numeric = typeof value === 'string' && /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(value);
      // Stryker disable next-line Regex: `numeric` already holds the whole value to a number: ^ and $ change nothing
      if (numeric && /[.eE]|^-?[0-9]{19,}$/.test(value)) {
        text = String(Number(value)); // a number parseWireJson kept as text: PHP has it as a float
      } else if (value === null || value === undefined || value === '' || value === 0 || value === false) {
        continue;
      } else {
        text = scalarText(value);
      }
      values.push(text.replace(/"/g, ''));
    }
  };
  walk(fields, true);
  return values.join('|');
}
