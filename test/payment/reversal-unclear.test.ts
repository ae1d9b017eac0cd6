// Issue 24's left-over: a close or cancel that keeps answering unclearly (a signed `99`, an HTTP 500) is not
// retried blind for ever: the order is queried (everything unclear is queried until final), and the money the
// platform holds for it is refunded, a reversal that did arrive is taken as done. The engine in-process with the
// real HTTP client against the sandbox, its faults making every reversal unclear.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { PaymentEngine } from '../../src/payment/engine.js';
import { startSandbox, testCode, type Fault, type Sandbox } from '../../src/sandbox/index.js';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { CRASH_TIMING } from '../crash/harness.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const TIMING = { ...CRASH_TIMING, customerWindowMs: 150, queryIntervalMs: 25 };
/** Far more than the engine needs here (tens of ms a step); a stuck order fails the test instead of hanging it. */
const BOUND_MS = 8_000;

describe('payment engine: a reversal answered unclearly for ever is queried until final (issue 24 left-over)', function () {
  this.timeout(30_000);
  let sandbox: Sandbox;
  let dir: string;
  let journal: Journal;
  let gateway: HttpGateway;
  let engine: PaymentEngine;
  before(async () => {
    sandbox = await startSandbox({});
  });
  after(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reversal-unclear-'));
    journal = openJournal(join(dir, 'j.db'));
    const privateKey = loadPrivateKey(sandbox.merchantKeyPath!);
    gateway = new HttpGateway({ baseUrl: sandbox.baseUrl, merchant, privateKey, platformKey: sandbox.platformPublicKey, connectTimeoutMs: 500, timeoutMs: 500 });
    engine = new PaymentEngine({ journal, gateway, merchant, deviceId: 'RU01', goods: { goodsId: 'G1', goodsInfo: 'drink' }, timing: TIMING, clockCheck: () => null });
  });
  afterEach(async () => {
    sandbox.setFaults([]);
    await engine.stop(0);
    gateway.close();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Both reversals answer with `fault` on every request. */
  const reversalsUnclear = (fault: Omit<Fault, 'path' | 'count'>): Fault[] => ['cancelOrder', 'closeOrder'].map((path) => ({ ...fault, path, count: Infinity }));

  /** Resolves with the order's state once it is final (after each transition), or when BOUND_MS has passed. */
  function settled(orderNo: string): Promise<string> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        engine.off('transition', check);
        resolve(journal.get(orderNo)!.state);
      };
      const check = (): void => {
        if (journal.get(orderNo)!.final) finish();
      };
      const timer = setTimeout(finish, BOUND_MS);
      engine.on('transition', check);
      check();
    });
  }

  for (const [name, fault] of [['a signed 99', { kind: 'answer-99' }], ['an HTTP 500', { kind: 'http-500' }]] as const) {
    it(`charged, the answers lost, every cancel/close answered with ${name}: the order is queried and refunded`, async () => {
      // The customer's window sees only unclear query answers (the charge's answer is lost too): no product.
      sandbox.setFaults([{ kind: 'answer-99', path: 'queryOrder', count: Infinity }, ...reversalsUnclear(fault)]);
      engine.on('transition', (t: { to: string }) => {
        if (t.to === 'reversing') sandbox.setFaults(reversalsUnclear(fault));
      });
      const r = await engine.pay({ authCode: testCode('answer-lost', 'wechat'), amountFen: 150 }, { deliver: () => Promise.reject(new Error('no product may be released')) });
      assert.equal(r.kind, 'not-charged', JSON.stringify(r));
      const orderNo = (r as { orderNo: string }).orderNo;
      assert.equal(await settled(orderNo), 'refunded', JSON.stringify(journal.events(orderNo).map((e) => e.cause)));
      const there = sandbox.ledger().orders.find((o) => o.orderNo === orderNo)!;
      assert.deepEqual([there.charged, there.refundedFen, there.netFen], [1, 150, 0], 'charged once, all of it given back');
      assert.ok(sandbox.stats().faultsApplied[fault.kind]! >= 1, 'the reversal was answered unclearly');
    });
  }

  it('a cancel that arrives but whose answer is always lost (HTTP 500 after processing): the query says so, reversed', async () => {
    sandbox.setFaults(reversalsUnclear({ kind: 'http-500', charge: true }));
    const r = await engine.pay({ authCode: testCode('pending-forever', 'alipay'), amountFen: 120 }, { deliver: () => Promise.reject(new Error('no product may be released')) });
    assert.equal(r.kind, 'not-charged', JSON.stringify(r));
    const orderNo = (r as { orderNo: string }).orderNo;
    assert.equal(await settled(orderNo), 'reversed', JSON.stringify(journal.events(orderNo).map((e) => e.cause)));
    const there = sandbox.ledger().orders.find((o) => o.orderNo === orderNo)!;
    assert.deepEqual([there.state, there.charged, there.netFen], ['cancelled', 0, 0]);
  });
});
