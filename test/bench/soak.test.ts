// A small soak in CI: 30 customers through the daemon (child process, real pty scanner, sandbox), with
// gateway faults and daemon kills, then the crash harness's invariants. `npm run soak` runs the same code
// with thousands of customers.
import assert from 'node:assert/strict';
import { soak } from '../../bench/soak.js';

describe('soak (30 customers, faults and daemon kills)', function () {
  this.timeout(60_000);

  it('keeps every invariant: no double charge, every charge delivered/reversed/refunded, all final', async () => {
    const s = await soak({ payments: 30, faults: true, seed: 7, killChance: 0.1, faultChance: 0.3 });
    assert.deepEqual(s.verdict.problems, []);
    const customers = Object.values(s.outcomes).reduce((a, n) => a + n, 0);
    assert.equal(customers, 30);
    assert.ok(s.kills >= 1, `the seed should kill the daemon at least once (kills ${s.kills})`);
    assert.ok(s.faultsArmed >= 1, 'the seed should arm at least one gateway fault');
    // Every customer that reached the engine has one journal order (refusals never journal).
    const refused = s.outcomes.refused ?? 0;
    assert.ok(s.journalOrders >= 30 - refused - s.kills, `journal orders ${s.journalOrders}`);
    assert.ok(s.verdict.byState.delivered! > 0, 'some customers were served');
    assert.ok(s.rss.every((x) => x.rssMB > 0), 'RSS was sampled');
  });
});
