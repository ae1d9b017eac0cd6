// device/CONFIG.md, generated from the schema: `npm run docs` writes it, test/config/reference.test.ts
// fails when the file and the schema differ.
import type { z } from 'zod';
import { allowedText, fieldDocs } from './fields.js';
import { RULES, SECTIONS } from './schema.js';

type Def = { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType>; defaultValue?: unknown };
const def = (s: z.core.$ZodType) => s._zod.def as Def;

interface Row {
  field: string;
  default: string;
  allowed: string;
  meaning: string;
}

function shown(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === '') return '`""`';
  if (typeof v === 'string') return `\`${v}\``;
  return `\`${JSON.stringify(v)}\``;
}

/** The schema under defaults/optionals/pipes, and what wrapped it. */
function unwrap(s: z.core.$ZodType): { base: z.core.$ZodType; defaultValue?: unknown; optional: boolean } {
  let defaultValue: unknown;
  let optional = false;
  for (;;) {
    const d = def(s);
    if (d.type === 'default') {
      defaultValue = d.defaultValue;
      optional = true;
      s = d.innerType!;
    } else if (d.type === 'prefault' || d.type === 'optional') {
      optional = true;
      s = d.innerType!;
    } else if (d.type === 'pipe') s = d.in!;
    else return { base: s, defaultValue, optional };
  }
}

function rows(path: string, schema: z.core.$ZodType, out: Row[]): void {
  const { base, defaultValue, optional } = unwrap(schema);
  const d = def(base);
  if (d.type === 'object' && d.shape) {
    for (const [key, field] of Object.entries(d.shape)) rows(path ? `${path}.${key}` : key, field, out);
    return;
  }
  const meta = fieldDocs.get(schema as z.ZodType);
  if (!meta) throw new Error(`config field ${path} has no doc(): say what it means for device/CONFIG.md`);
  out.push({
    field: `\`${path}\``,
    default: meta.required ?? meta.default ?? (defaultValue !== undefined ? shown(defaultValue) : optional ? '—' : '**R**'),
    allowed: meta.allowed ?? allowedText.get(base as z.ZodType) ?? '',
    meaning: meta.doc,
  });
}

const HEAD = `# The kiosk config (\`/etc/kiosk/config.json\`)

<!-- Generated from the config schema (src/config/schema.ts and its sections) by \`npm run docs\`; edit the schema, not this file. -->

JSON, one object. \`device/config.example.json\` has every field; this table says what each means.
\`kiosk run\` and every \`kiosk\` command check the whole file first and refuse to start with **every**
problem listed, one per line: \`FILE: field: what is wrong (got VALUE)\`; the daemon then exits 78 and
neither pm2 nor systemd restarts it until the file is fixed. Unknown keys are errors (a typo would
otherwise silently fall back to a default); the message suggests the nearest known key.

Relative paths resolve against the folder of the config file. "BCM" means the Broadcom GPIO number
(\`GPIO17\`), not the header pin; device/WIRING.md has both. Money is in fen (1 yuan = 100 fen).
Required fields are marked **R**; "R if …" means required in that case. Merchant fields and goods
texts are checked with the platform's own field rules, so a config that passes cannot make every
payment call fail later.
`;

/** The whole text of device/CONFIG.md. */
export function configReference(): string {
  const out: Row[] = [];
  for (const [key, section] of Object.entries(SECTIONS)) rows(key, section.schema, out);
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const table = ['| field | default | allowed | meaning |', '|---|---|---|---|', ...out.map((r) => `| ${cell(r.field)} | ${cell(r.default)} | ${cell(r.allowed)} | ${cell(r.meaning)} |`)];
  const also = RULES.flatMap((r) => (r.doc ? [`- ${r.doc}`] : []));
  return [
    HEAD,
    table.join('\n'),
    '',
    'Also checked across fields:',
    ...also,
    '- The key and certificate can be read and parsed; the journal\'s folder exists.',
    '',
  ].join('\n');
}
