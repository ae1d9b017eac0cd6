// The config reference and example are the schema's, not copies that drift.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { approveConfirmSchema } from '../../src/config/approve-confirm.js';
import { CONFIRM_DEFAULTS, DEFAULTS, FLEET_DEFAULTS } from '../../src/config/defaults.js';
import { fleetSchema } from '../../src/config/fleet.js';
import { validateConfig } from '../../src/config/index.js';
import { configReference } from '../../src/config/reference.js';
import { ConfigSchema, SECTIONS } from '../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

type Def = { type: string; innerType?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType>; defaultValue?: unknown };

/** The defaults a schema applies, as one object: a field without a default and an optional section are absent. */
function defaultsOf(schema: z.core.$ZodType): unknown {
  const def = schema._zod.def as Def;
  if (def.type === 'default') return def.defaultValue;
  if (def.type === 'prefault' && def.innerType) return defaultsOf(def.innerType);
  if (def.type !== 'object' || !def.shape) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(def.shape)) {
    const d = defaultsOf(v);
    if (d !== undefined) out[k] = d;
  }
  return Object.keys(out).length ? out : undefined;
}

describe('config reference', () => {
  it('device/CONFIG.md is generated from the schema (run `npm run docs` after changing a section)', () => {
    assert.equal(readFileSync(ROOT + 'device/CONFIG.md', 'utf8'), configReference());
  });

  it('lists every field of every section', () => {
    const text = configReference();
    for (const key of Object.keys(SECTIONS)) assert.match(text, new RegExp(`^\\| \`${key}[.\`]`, 'm'), key);
    const example = JSON.parse(readFileSync(ROOT + 'device/config.example.json', 'utf8')) as Record<string, Record<string, unknown>>;
    for (const [section, fields] of Object.entries(example)) {
      if (typeof fields !== 'object') continue;
      for (const f of Object.keys(fields)) assert.ok(text.includes(`\`${section}.${f}`), `${section}.${f} documented`);
    }
  });

  it('device/config.example.json is valid by the schema', () => {
    const raw = JSON.parse(readFileSync(ROOT + 'device/config.example.json', 'utf8'));
    assert.deepEqual(validateConfig(raw, { file: 'config.example.json', baseDir: '/etc/kiosk', checkFiles: false }).problems, []);
  });

  it('every default of the schema is the one in defaults.ts (and nothing else is there)', () => {
    assert.deepEqual(defaultsOf(ConfigSchema.in), DEFAULTS);
    assert.deepEqual(defaultsOf(approveConfirmSchema), CONFIRM_DEFAULTS);
    assert.deepEqual(defaultsOf(fleetSchema), FLEET_DEFAULTS);
    // Spot checks, so that a walker that finds nothing on either side cannot pass.
    assert.equal(DEFAULTS.daemon.graceMs, 5000);
    assert.deepEqual(DEFAULTS.keypad.rows, [5, 6, 13, 19]);
    assert.equal(DEFAULTS.indicator.pins.green, 17);
  });
});
