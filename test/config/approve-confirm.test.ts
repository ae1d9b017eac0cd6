// Config `approve.confirm`: absent = no sensor; defaults; each problem with its field.
import assert from 'node:assert/strict';
import { parseApproveConfirm } from '../../src/config/approve-confirm.js';

describe('config approve.confirm', () => {
  it('absent: no sensor; {}: the defaults', () => {
    assert.deepEqual(parseApproveConfirm(undefined, 'c.json'), { confirm: undefined, problems: [] });
    assert.deepEqual(parseApproveConfirm({}, 'c.json').confirm, { pin: 24, activeLow: true, debounceMs: 5, confirmWithinMs: 3000, retry: false, brokenAfter: 3, stuckAfterMs: 5000, simMiss: [] });
  });
  it('bad values name the field and the value', () => {
    const { problems } = parseApproveConfirm({ pin: 40, retry: 'yes', confirmWithinMs: 10, colour: 1 }, 'c.json');
    const by = Object.fromEntries(problems.map((p) => [p.field, p]));
    assert.equal(by['approve.confirm.pin']!.value, 40);
    assert.ok(by['approve.confirm.retry']);
    assert.ok(by['approve.confirm.confirmWithinMs']);
    assert.match(by['approve.confirm']!.problem, /colour/);
  });
});
