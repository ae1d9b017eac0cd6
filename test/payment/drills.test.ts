// Fault drills: the engine in-process with the real HTTP client against the sandbox, every fault it
// offers alone and then mixed; afterwards the same invariants as the crash harness.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { openJournal } from '../../src/journal/journal.js';
import { PaymentEngine } from '../../src/payment/engine.js';
import { FAULT_KINDS, startSandbox, testCode, type Behaviour, type Fault, type Sandbox } from '../../src/sandbox/index.js';
import type { OrderType } from '../../src/umpay/types.js';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { checkInvariants, CRASH_TIMING } from '../crash/harness.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const TIMING = { ...CRASH_TIMING, customerWindowMs: 150, queryIntervalMs: 25 };
const CASES: Array<[Behaviour, OrderType]> = [
  ['paid', 'wechat'],
  ['pending-then-paid', 'unionpay'],
  ['pending-forever', 'alipay'],
  ['answer-lost', 'unionpay'],
  ['insufficient-balance', 'wechat'],
];

describe('fault drills (real client, sandbox faults, invariants)', function () {
  this.timeout(30_000);
  let sandbox: Sandbox;
  let dir: string;
  before(async () => {
    sandbox = await startSandbox({ rateLimit: { perSecond: 200, burst: 20 } });
    dir = mkdtempSync(join(tmpdir(), 'drills-'));
  });
  after(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function drill(device: string, faults: Fault[], baseUrl = sandbox.baseUrl): Promise<Record<string, number>> {
    const db = join(dir, `${device}.db`);
    const journal = openJournal(db);
    const gateway = new HttpGateway({ baseUrl, merchant, privateKey: loadPrivateKey(sandbox.merchantKeyPath!), platformKey: sandbox.platformPublicKey, connectTimeoutMs: 200, timeoutMs: 150 });
    const engine = new PaymentEngine({ journal, gateway, merchant, deviceId: device, goods: { goodsId: 'G1', goodsInfo: 'drill' }, timing: TIMING, clockCheck: () => null });
    try {
      await engine.start();
      sandbox.setFaults(faults, 7);
      let n = 0;
      for (const [b, w] of CASES) {
        await engine.pay({ authCode: testCode(b, w, `${device.length}${n++}${Date.now() % 100000}`), amountFen: 100 }, { deliver: async () => undefined });
      }
      sandbox.setFaults([]);
      await engine.whenIdle();
    } finally {
      await engine.stop(0);
      gateway.close();
      journal.close();
    }
    const v = checkInvariants(db, sandbox.ledger(), device);
    assert.deepEqual(v.problems, []);
    return v.byState;
  }

  for (const kind of FAULT_KINDS) {
    it(`${kind} on half the requests`, async () => {
      const fault: Fault = { kind, count: Infinity, probability: 0.5, ...(kind === 'latency' ? { ms: 200 } : {}) };
      const states = await drill(`D${kind.replace(/[^a-z0-9]/gi, '')}`, [fault]);
      assert.ok(Object.keys(states).length > 0);
    });
  }

  it('every fault at once', async () => {
    const faults: Fault[] = FAULT_KINDS.map((kind) => ({ kind, count: Infinity, probability: 0.15, ...(kind === 'latency' ? { ms: 200, after: true } : {}) }));
    await drill('Dmixed', faults);
  });

  it('issue 10 §1: a second kiosk with the same deviceId and an empty journal never reuses a paid order number', async () => {
    const key = loadPrivateKey(sandbox.merchantKeyPath!);
    const kiosk = (name: string) => {
      const journal = openJournal(join(dir, `${name}.db`));
      const gateway = new HttpGateway({ baseUrl: sandbox.baseUrl, merchant, privateKey: key, platformKey: sandbox.platformPublicKey, connectTimeoutMs: 200, timeoutMs: 150 });
      const engine = new PaymentEngine({ journal, gateway, merchant, deviceId: 'TWIN01', goods: { goodsId: 'G1', goodsInfo: 'twin' }, timing: TIMING, clockCheck: () => null });
      return { journal, gateway, engine, close: async () => (await engine.stop(0), gateway.close(), journal.close()) };
    };
    const a = kiosk('twin-a');
    const b = kiosk('twin-b');
    const deliveredB: string[] = [];
    try {
      const paid = await a.engine.pay({ authCode: testCode('paid', 'wechat', `twinA${Date.now() % 100000}`), amountFen: 150 }, { deliver: async () => undefined });
      assert.equal(paid.kind, 'approved');
      const r = await b.engine.pay({ authCode: testCode('insufficient-balance', 'wechat', `twinB${Date.now() % 100000}`), amountFen: 150 }, { deliver: async (o) => void deliveredB.push(o) });
      assert.equal(r.kind, 'declined', `B's customer was never charged: ${JSON.stringify(r)}`);
      assert.equal((r as { code: string }).code, '15');
      assert.deepEqual(deliveredB, []);
      assert.notEqual((r as { orderNo: string }).orderNo, (paid as { orderNo: string }).orderNo);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('gateway down before the scan: failed-not-sent, never reversed, nothing at the platform', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const db = join(dir, 'Ddown.db');
    const journal = openJournal(db);
    const gateway = new HttpGateway({ baseUrl: `http://127.0.0.1:${port}`, merchant, privateKey: loadPrivateKey(sandbox.merchantKeyPath!), platformKey: sandbox.platformPublicKey, connectTimeoutMs: 200, timeoutMs: 150 });
    // The code stays valid long enough for re-sends even on a loaded machine (a signed send and a refused connect
    // took over 230 ms under a mutation run, so the 250 ms of TIMING left room for one send only).
    const timing = { ...TIMING, codeValidityMs: 800 };
    const engine = new PaymentEngine({ journal, gateway, merchant, deviceId: 'Ddown', goods: { goodsId: 'G1', goodsInfo: 'drill' }, timing, clockCheck: () => null });
    const progress: string[] = [];
    const r = await engine.pay({ authCode: testCode('paid', 'wechat'), amountFen: 100 }, { deliver: async () => undefined, progress: (p) => void progress.push(p) });
    await engine.whenIdle();
    const o = journal.list()[0]!;
    gateway.close();
    journal.close();
    assert.equal(r.kind === 'refused' && r.reason, 'offline');
    assert.equal(o.state, 'failed-not-sent');
    assert.ok(o.sendAttempts > 1 && o.sendAttempts === o.notSent);
    assert.ok(progress.includes('offline'));
    assert.equal(engine.stats.requests, o.sendAttempts, 'only micropay re-sends, no reversal');
  });
});
