// The config reference and example are the schema's, not copies that drift.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULTS, validateConfig } from '../../src/config/index.js';
import { configReference } from '../../src/config/reference.js';
import { SECTIONS } from '../../src/config/schema.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

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

  it('DEFAULTS are read from the schema', () => {
    assert.equal(DEFAULTS.daemon.graceMs, 5000);
    assert.equal(DEFAULTS.gateway.timeoutMs, 10000);
    assert.deepEqual(DEFAULTS.keypad.rows, [5, 6, 13, 19]);
    assert.equal(DEFAULTS.indicator.pins?.green, 17);
  });
});
