import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { MUTANTS, structureProblems } from '../../scripts/mutants.js';

// dist/test/mutation/ → the repository
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

// The mutation run itself (npm run mutate, ~75 s here) is not part of npm test; this only keeps its list usable.
describe('mutation run: the mutant list (scripts/mutants.ts)', () => {
  it('is well-formed: unique ids, existing source and test files, a one-line bug for each', () => {
    assert.deepEqual(structureProblems(MUTANTS, ROOT), []);
    assert.ok(MUTANTS.length >= 15);
  });

  it('the check finds a broken entry', () => {
    const good = MUTANTS[0]!;
    const bad = [good, { ...good }, { ...good, id: 'x-1', file: 'src/nope.ts', replace: good.find, tests: ['test/nope.test.ts'], bug: 'a\nb' }];
    const problems = structureProblems(bad, ROOT).join('\n');
    for (const want of ['id used twice', 'src/nope.ts does not exist', 'must be non-empty and differ', 'test test/nope.test.ts does not exist', 'one non-empty line']) {
      assert.ok(problems.includes(want), `${want} in:\n${problems}`);
    }
  });
});
