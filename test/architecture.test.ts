// docs/ARCHITECTURE.md's module table, enforced: dependency-cruiser with the repo's rules (.dependency-cruiser.cjs)
// over src/ finds no violation, and every rule fires on a deliberate violation (a fixture tree in a temp folder:
// each offending import next to an allowed one), so a rule that can never fire is caught too.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

// dist/test/architecture.test.js → the repo root.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIG = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as IConfiguration;
const RULES = (CONFIG.forbidden ?? []).map((r) => r.name!);

/** Cruises `src` under `baseDir` with the repo's rules; the violations as `rule: from → to`. */
async function violations(baseDir: string): Promise<string[]> {
  const tsConfig = extractTSConfig(join(baseDir, 'tsconfig.json'));
  const res = await cruise(
    ['src'],
    { ...CONFIG.options, baseDir, validate: true, ruleSet: { forbidden: CONFIG.forbidden }, outputType: 'json', tsConfig: { fileName: join(baseDir, 'tsconfig.json') } },
    undefined,
    { tsConfig },
  );
  const result = (typeof res.output === 'string' ? JSON.parse(res.output) : res.output) as ICruiseResult;
  // node_modules is a symlink in the fixture: its resolved path is outside the base folder.
  return (result.summary.violations ?? []).map((v) => `${v.rule.name}: ${v.from} → ${v.to.replace(/^.*\/node_modules\//, 'node_modules/')}`).sort();
}

describe('architecture (dependency-cruiser, docs/ARCHITECTURE.md)', function () {
  this.timeout(60_000);

  it('src/ obeys the module table: no violation', async () => {
    const found = await violations(ROOT);
    assert.deepEqual(found, [], `fix the import or the table (docs/ARCHITECTURE.md and .dependency-cruiser.cjs):\n${found.join('\n')}`);
  });

  describe('every rule fires on a deliberate violation', () => {
    let dir: string;
    /** file → source; every file imported below exists, so only the intended rule fires. */
    const files: Record<string, string> = {
      // The breaks issue 11 found, as they were.
      'src/kiosk/daemon.ts': `import { startControlServer } from '../cli/tech/control.js';\nimport { serve } from '../sandbox/server.js';\nexport const x = [startControlServer, serve];\n`,
      'src/cli/tech/control.ts': `export const startControlServer = 1;\n`,
      'src/hardware/scanner.ts': `import { classifyAuthCode } from '../umpay/authcode.js';\nexport const x = classifyAuthCode;\n`,
      'src/umpay/authcode.ts': `export const classifyAuthCode = 1;\n`,
      // A driver may read the defaults and the config's types, not the schema; the defaults import nothing.
      'src/hardware/scanner-driver.ts':
        `import type { Config } from '../config/types.js';\nimport { DEFAULTS } from '../config/defaults.js';\nimport { SECTIONS } from '../config/schema.js';\n` +
        `export const x: [Config?, unknown, unknown] = [undefined, DEFAULTS, SECTIONS];\n`,
      'src/config/types.ts': `export interface Config { deviceId: string }\n`,
      'src/config/schema.ts': `export const SECTIONS = 1;\n`,
      'src/config/defaults.ts': `import { join } from 'node:path';\nexport const DEFAULTS = join('a', 'b');\n`,
      'src/config/display.ts': `import { TEXT_KEYS } from '../kiosk/texts.js';\nimport { renderScreen } from '../kiosk/screens.js';\nexport const x = [TEXT_KEYS, renderScreen];\n`,
      'src/kiosk/texts.ts': `import { renderScreen } from './screens.js';\nexport const TEXT_KEYS = [renderScreen];\n`,
      'src/kiosk/screens.ts': `export const renderScreen = 1;\n`,
      // One per remaining row.
      'src/umpay/client.ts': `import { openJournal } from '../journal/journal.js';\nexport const x = openJournal;\n`,
      'src/journal/journal.ts': `import { request } from 'node:http';\nexport const openJournal = request;\n`,
      'src/journal/outbox.ts': `export class Outbox {}\n`,
      'src/sandbox/server.ts': `import { PaymentEngine } from '../payment/engine.js';\nexport const serve = PaymentEngine;\n`,
      'src/payment/engine.ts': `import { createHardware } from '../hardware/index.js';\nexport const PaymentEngine = createHardware;\n`,
      'src/hardware/index.ts': `export const createHardware = 1;\n`,
      'src/kiosk/interaction.ts': `import { buildMicropay } from '../umpay/messages.js';\nexport const x = buildMicropay;\n`,
      'src/umpay/messages.ts': `export const buildMicropay = 1;\n`,
      'src/fleet/client.ts':
        `import type { Outbox } from '../journal/outbox.js';\nimport type { Journal } from '../journal/types.js';\n` +
        `import { Outbox as O } from '../journal/outbox.js';\nimport { PaymentEngine } from '../payment/engine.js';\n` +
        `export type T = Outbox | Journal;\nexport const x = [O, PaymentEngine];\n`,
      'src/journal/types.ts': `export interface Journal { file: string }\n`,
      'src/clock.ts': `import { log } from './log.js';\nexport const x = log;\n`,
      'src/log.ts': `export const log = 1;\n`,
      'src/payment/a.ts': `import { b } from './b.js';\nexport const a = () => b;\n`,
      'src/payment/b.ts': `import { a } from './a.js';\nexport const b = () => a;\n`,
      'src/kiosk/fixture.ts': `import { FakeClock } from '../../test/fake-clock.js';\nimport Mocha from 'mocha';\nimport { gone } from './missing.js';\nexport const x = [FakeClock, Mocha, gone];\n`,
      'test/fake-clock.ts': `export class FakeClock {}\n`,
    };

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'kiosk-arch-'));
      for (const [file, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), text);
      }
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src/**/*.ts', 'test/**/*.ts'] }));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module', dependencies: {}, devDependencies: { mocha: '*' } }));
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('each offending import is reported under its rule, the allowed ones are not', async () => {
      const found = await violations(dir);
      const expected = [
        'only-cli-imports-cli: src/kiosk/daemon.ts → src/cli/tech/control.ts',
        'sandbox-is-not-production: src/kiosk/daemon.ts → src/sandbox/server.ts',
        'hardware-knows-nothing-of-payments: src/hardware/scanner.ts → src/umpay/authcode.ts',
        // config → kiosk/texts.ts is allowed (a leaf table), config → kiosk/screens.ts is not...
        'config-knows-nothing-of-everything-else: src/config/display.ts → src/kiosk/screens.ts',
        // ...and the leaf must stay a leaf.
        'tables-config-reads-are-leaves: src/kiosk/texts.ts → src/kiosk/screens.ts',
        'umpay-knows-nothing-of-sqlite-or-hardware: src/umpay/client.ts → src/journal/journal.ts',
        'journal-knows-nothing-of-http: src/journal/journal.ts → http',
        'sandbox-knows-nothing-of-journal-or-engine: src/sandbox/server.ts → src/payment/engine.ts',
        'payment-knows-nothing-of-hardware-or-sql: src/payment/engine.ts → src/hardware/index.ts',
        'kiosk-knows-nothing-of-sql-or-wire-fields: src/kiosk/interaction.ts → src/umpay/messages.ts',
        // The outbox's type is allowed; another journal module or the outbox's code is not.
        'fleet-knows-only-the-outbox-type: src/fleet/client.ts → src/journal/types.ts',
        'fleet-loads-no-journal-code: src/fleet/client.ts → src/journal/outbox.ts',
        'fleet-knows-nothing-of-sql-engine-hardware: src/fleet/client.ts → src/payment/engine.ts',
        'clock-release-days-know-nothing: src/clock.ts → src/log.ts',
        'hardware-loads-no-config-schema: src/hardware/scanner-driver.ts → src/config/schema.ts',
        'config-defaults-import-nothing: src/config/defaults.ts → path',
        'no-circular: src/payment/a.ts → src/payment/b.ts',
        'src-not-to-tests: src/kiosk/fixture.ts → test/fake-clock.ts',
        'src-not-to-dev-dependencies: src/kiosk/fixture.ts → node_modules/mocha/index.js',
        'not-to-unresolvable: src/kiosk/fixture.ts → ./missing.js',
      ].sort();
      assert.deepEqual(found, expected);
      const fired = new Set(found.map((f) => f.slice(0, f.indexOf(':'))));
      assert.deepEqual(RULES.filter((r) => !fired.has(r)), [], 'a rule without a deliberate violation here');
    });
  });
});
