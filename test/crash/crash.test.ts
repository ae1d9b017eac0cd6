import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startSandbox, testCode, type Behaviour, type Sandbox } from '../../src/sandbox/index.js';
import type { OrderType } from '../../src/umpay/types.js';
import { randomCode } from './codes.js';
import { checkInvariants, CRASH_TIMING, randomRun, recoverFully, runDriver } from './harness.js';

interface Scenario {
  steps: string[];
  behaviour: Behaviour;
  wallet: OrderType;
  /** Final journal state expected for the order. */
  expect: string[];
  deliverFails?: boolean;
  deliverSensed?: boolean;
  deliverApproved?: boolean;
}

/**
 * A paid answer reaches the steps after it only within the customer window; an answer after it is given back
 * (customer.ts). CRASH_TIMING's 300 ms window is shorter than a signed micropay takes on a loaded machine (the
 * suite runs in parallel), so the scenarios with a paid code get 5 s; a paid code never waits it out. The
 * pending-forever ones keep the short window: they do wait it out.
 */
const PAID_TIMING = { ...CRASH_TIMING, customerWindowMs: 5_000 };

const SCENARIOS: Scenario[] = [
  { steps: ['after-journal-before-send'], behaviour: 'paid', wallet: 'wechat', expect: ['reversed'] },
  { steps: ['after-send-before-answer-recorded'], behaviour: 'paid', wallet: 'wechat', expect: ['reversed'] },
  { steps: ['after-send-before-answer-recorded'], behaviour: 'paid', wallet: 'unionpay', expect: ['refunded'] },
  { steps: ['after-send-before-answer-recorded'], behaviour: 'pending-forever', wallet: 'alipay', expect: ['reversed'] },
  { steps: ['between-answer-and-approve'], behaviour: 'paid', wallet: 'alipay', expect: ['reversed'] },
  { steps: ['between-answer-and-approve'], behaviour: 'paid', wallet: 'unionpay', expect: ['refunded'] },
  { steps: ['after-approve-before-delivered'], behaviour: 'paid', wallet: 'unionpay', expect: ['refunded'] },
  // The vend sensor's drop was journaled before the kill: recovery delivers on that evidence, no refund.
  { steps: ['after-vend-sensed'], behaviour: 'paid', wallet: 'unionpay', expect: ['delivered'], deliverSensed: true },
  { steps: ['after-approve-before-delivered'], behaviour: 'paid', wallet: 'wechat', expect: ['delivered'], deliverSensed: true },
  // MDB: the approval was journaled, then the kill; no machine reports a vend at recovery: refunded (flagged).
  { steps: ['after-vend-approved'], behaviour: 'paid', wallet: 'unionpay', expect: ['refunded'], deliverApproved: true },
  { steps: ['mid-reversal'], behaviour: 'pending-forever', wallet: 'wechat', expect: ['reversed'] },
  { steps: ['mid-reversal'], behaviour: 'pending-forever', wallet: 'unionpay', expect: ['reversed'] },
  { steps: ['between-answer-and-approve', 'mid-refund'], behaviour: 'paid', wallet: 'unionpay', expect: ['refunded'] },
  { steps: ['between-answer-and-approve', 'mid-refund-query'], behaviour: 'paid', wallet: 'unionpay', expect: ['refunded'] },
  { steps: ['mid-refund'], behaviour: 'paid', wallet: 'unionpay', expect: ['refunded'], deliverFails: true },
  { steps: ['mid-reversal', 'mid-reversal:1'], behaviour: 'paid', wallet: 'wechat', expect: ['reversed'], deliverFails: true },
];

describe('crash harness (engine in a child process, SIGKILL, restart, sandbox ledger)', function () {
  // A bound for a hang, not a speed check: the random run starts 100+ node processes (CPU-bound), and under
  // `npm test` it shares two cores with another test file. Each child has its own 20-30 s guard (harness.ts).
  this.timeout(180_000);
  let sandbox: Sandbox;
  let dir: string;
  before(async () => {
    sandbox = await startSandbox();
    dir = mkdtempSync(join(tmpdir(), 'crash-'));
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  SCENARIOS.forEach((s, i) => {
    it(`killed at ${s.steps.join(' then ')} (${s.behaviour}, ${s.wallet}${s.deliverFails ? ', relay fails' : ''}${s.deliverSensed ? ', drop sensed' : ''}${s.deliverApproved ? ', MDB approved' : ''}) → ${s.expect.join('|')}`, async () => {
      const device = `S${i}x`;
      const db = join(dir, `${device}.db`);
      const code = testCode(s.behaviour, s.wallet, 7000 + i);
      for (const [n, step] of s.steps.entries()) {
        const run = await runDriver(sandbox, sandbox.merchantKeyPath!, { db, device, codes: n === 0 ? [code] : [], crashAt: step, deliverFails: s.deliverFails, deliverSensed: s.deliverSensed, deliverApproved: s.deliverApproved, timing: s.behaviour === 'paid' ? PAID_TIMING : undefined });
        assert.equal(run.signal, 'SIGKILL', `the crash at ${step} happened (exit ${run.code}): ${run.stdout}${run.stderr}`);
      }
      await recoverFully(sandbox, sandbox.merchantKeyPath!, db, device);
      const v = checkInvariants(db, sandbox.ledger(), device, { outbox: true });
      assert.deepEqual(v.problems, []);
      assert.equal(v.orders, 1);
      const j = new Database(db, { readonly: true });
      const state = (j.prepare('SELECT state FROM orders').get() as { state: string }).state;
      j.close();
      assert.ok(s.expect.includes(state), `final state ${state}`);
    });
  });

  it('the invariant check catches a charged order left without delivery or reversal', async () => {
    const device = 'Fail1x';
    const db = join(dir, `${device}.db`);
    const run = await runDriver(sandbox, sandbox.merchantKeyPath!, { db, device, codes: [testCode('paid', 'unionpay', 9901)], crashAt: 'between-answer-and-approve', timing: PAID_TIMING });
    assert.equal(run.signal, 'SIGKILL');
    const v = checkInvariants(db, sandbox.ledger(), device); // no recovery
    assert.ok(v.problems.some((p) => /left delivering/.test(p)));
    assert.ok(v.problems.some((p) => /charged, journal says delivering/.test(p)));
  });

  it(`random kill instants: ${Number(process.env.CRASH_KILLS ?? 100)} kills, then full recovery, invariants hold`, async () => {
    const kills = Number(process.env.CRASH_KILLS ?? 100);
    const res = await randomRun(sandbox, sandbox.merchantKeyPath!, { kills, seed: Number(process.env.CRASH_SEED ?? 1), dir, lanes: 2 }, randomCode);
    assert.equal(res.kills, kills);
    for (const v of res.verdicts) assert.deepEqual(v.problems, []);
    assert.ok(res.killedMidWork > kills / 2, `${res.killedMidWork} of ${kills} children were killed before finishing`);
  });
});
