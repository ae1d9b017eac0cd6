// docs/scanners.md's table of supported modules stays equal to the code's lists (one definition per fact).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MODULE_FAMILIES } from '../../src/hardware/modules/types.js';
import { GM_MODELS } from '../../src/hardware/modules/gm.js';

const DOC = fileURLToPath(new URL('../../../docs/scanners.md', import.meta.url));

describe('docs/scanners.md', () => {
  it('has a table row for every scanner.module value and names every GM model with a register map', () => {
    const text = readFileSync(DOC, 'utf8');
    const rows = text.split('\n').filter((l) => l.startsWith('| `'));
    const families = rows.map((r) => /^\| `([a-z]+)`/.exec(r)?.[1]).filter(Boolean);
    assert.deepEqual(families.sort(), [...MODULE_FAMILIES].sort());
    const gm = rows.find((r) => r.startsWith('| `gm`'))!;
    for (const m of GM_MODELS) assert.ok(gm.includes(m), `${m} in the gm row`);
  });
});
