// The crash harness's switch (src/payment/crash.ts), in-process with a kill that only counts: which step, which
// time it is reached, what a malformed KIOSK_CRASH_AT means, and that it is read once. test/crash uses it for real.
import assert from 'node:assert/strict';
import { CRASH_STEPS, crashPoints } from '../../src/payment/crash.js';

describe('crash points (KIOSK_CRASH_AT)', () => {
  function run(spec: string | undefined, steps: Array<(typeof CRASH_STEPS)[number]>): number[] {
    const killed: number[] = [];
    let i = 0;
    const point = crashPoints(() => spec, () => void killed.push(i));
    for (const s of steps) {
      i++;
      point(s);
    }
    return killed;
  }

  it('unset or empty: never', () => {
    assert.deepEqual(run(undefined, [...CRASH_STEPS, ...CRASH_STEPS]), []);
    assert.deepEqual(run('', [...CRASH_STEPS]), []);
  });

  it('<step>: the first time that step is reached, not another step', () => {
    assert.deepEqual(run('mid-refund', ['mid-reversal', 'mid-refund-query', 'mid-refund', 'mid-refund']), [3]);
  });

  it('<step>:<n>: the n-th time, counting only that step', () => {
    assert.deepEqual(run('mid-refund:3', ['mid-refund', 'mid-reversal', 'mid-refund', 'mid-reversal', 'mid-refund', 'mid-refund']), [5]);
  });

  it('an n that is not a whole number ≥ 1 means the first time', () => {
    for (const spec of ['mid-refund:0', 'mid-refund:x', 'mid-refund:-2', 'mid-refund:']) assert.deepEqual(run(spec, ['mid-reversal', 'mid-refund', 'mid-refund']), [2], spec);
  });

  it('read once, at the first crash point reached', () => {
    let reads = 0;
    let spec: string | undefined = 'mid-reversal';
    const killed: string[] = [];
    const point = crashPoints(() => (reads++, spec), () => void killed.push('x'));
    assert.equal(reads, 0);
    point('mid-refund');
    spec = undefined;
    point('mid-reversal');
    assert.deepEqual([reads, killed], [1, ['x']]);
  });

  it('names the steps the engine reaches', () => {
    assert.deepEqual([...CRASH_STEPS], ['after-journal-before-send', 'after-send-before-answer-recorded', 'between-answer-and-approve', 'after-approve-before-delivered', 'after-vend-sensed', 'after-vend-approved', 'mid-reversal', 'mid-refund', 'mid-refund-query']);
  });
});
