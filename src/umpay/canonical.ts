// The two canonical strings the platform signs. PROTOCOL.md, "Signing a request" and "Verifying a response".

/** A field value as it may appear in a request or an answer. */
export type WireValue = string | number | boolean | null | undefined | { [key: string]: WireValue } | WireValue[];

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || value === '';
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

// Numbers as JSON prints them (1 → "1", 1.5 → "1.5"); arrays as JSON (the platform sends none we know of).
function scalarText(value: WireValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return JSON.stringify(value);
}
