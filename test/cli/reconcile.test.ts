// kiosk reconcile: foreground recovery against the sandbox, the daemon's control socket, and the refusal.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { run as reconcile } from '../../src/cli/reconcile.js';
import { startControlServer } from '../../src/kiosk/control.js';
import { acquireLock, lockState } from '../../src/kiosk/lock.js';
import { testCode, type Sandbox } from '../../src/sandbox/index.js';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey, loadPublicKey } from '../../src/umpay/keys.js';
import { sandboxKiosk, seedOrder, tempKiosk, type TempKiosk } from './fixtures.js';

describe('kiosk reconcile', function () {
  this.timeout(10000);
  let sandbox: Sandbox;
  let k: TempKiosk;
  const rig = sandboxKiosk();
  before(() => ({ sandbox, k } = rig));

  it('without a daemon: finishes every unfinished order in the foreground; the customer charged for nothing gets it back', async () => {
    // A crash left two orders: one charged at the platform whose answer was never recorded, one never sent.
    const j = k.journal();
    const code = testCode('paid', 'wechat');
    const charged = seedOrder(j, { state: 'created', amountFen: 150, authCode: code, at: new Date(Date.now() - 120_000) });
    seedOrder(j, { state: 'created', amountFen: 300, authCode: testCode('paid', 'alipay'), at: new Date(Date.now() - 120_000) });
    j.close();
    const gateway = new HttpGateway({
      baseUrl: sandbox.baseUrl,
      merchant: { acqSpId: 'Y471790403', acqMerId: '41509208' },
      privateKey: loadPrivateKey(sandbox.merchantKeyPath!),
      platformKey: loadPublicKey(sandbox.platformCertPath),
      connectTimeoutMs: 500,
      timeoutMs: 1000,
    });
    const sent = await gateway.micropay({ orderTime: charged.orderTime, orderNo: charged.orderNo, txnAmt: '150', orderType: 'wechat', authCode: code, goodsId: 'VEND', goodsInfo: 'Vending' });
    gateway.close();
    assert.equal(sent.outcome.kind, 'PAID');

    const io = k.io();
    const exit = await reconcile(['--json'], io);
    assert.ok(io.stdout(), io.stderr());
    const r = JSON.parse(io.stdout());
    assert.equal(exit, 0, io.stdout() + io.stderr());
    assert.deepEqual({ via: r.via, started: r.started, finished: r.finished, remaining: r.remaining }, { via: 'foreground', started: 2, finished: 2, remaining: [] });
    const after = k.journal();
    const states = after.countsByState();
    after.close();
    assert.equal(Object.values(states).reduce((a, b) => a + b, 0), 2);
    assert.ok(!states.delivered, 'nothing delivered to a customer who left');
    const ledger = sandbox.ledger();
    assert.equal(ledger.orders.reduce((s, o) => s + o.netFen, 0), 0, 'no customer is out of pocket');
    assert.equal(lockState(join(k.dir, 'data/kiosk.lock')).held, false, 'lock released');

    const again = k.io();
    assert.equal(await reconcile([], again), 0);
    assert.match(again.stdout(), /no unfinished orders: nothing to do/);
  });

  it('with a daemon: asks it over the control socket', async () => {
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock'));
    const server = await startControlServer(join(k.dir, 'data/kiosk.sock'), { status: () => ({ pid: process.pid }), reconcile: () => ({ started: 3, remaining: 1 }) });
    try {
      const io = k.io();
      assert.equal(await reconcile([], io), 1);
      assert.match(io.stdout(), new RegExp(`asked the daemon \\(pid ${process.pid}\\): 3 unfinished order\\(s\\) resumed, 1 still unfinished`));
    } finally {
      await server.close();
      lock.release();
    }
  });

  it('with a daemon: says at once that it asked, shows progress while the daemon works, and that the platform is unreachable', async () => {
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock'));
    let unfinished = 2;
    const server = await startControlServer(join(k.dir, 'data/kiosk.sock'), {
      status: () => ({ pid: process.pid, journal: { path: k.journalPath, problem: null, unfinished }, link: { state: 'offline', since: '2026-12-05T03:00:00.000Z' } }),
      reconcile: () => new Promise((r) => setTimeout(() => r({ started: 2, remaining: (unfinished = 1) }), 1600)),
    });
    try {
      const io = k.io();
      assert.equal(await reconcile([], io), 1);
      assert.match(io.stderr(), new RegExp(`^asked the daemon \\(pid ${process.pid}\\) to resume the unfinished orders; waiting for it \\(up to 120 s\\)…\n  \\d+ s: 2 unfinished, link offline\n`));
      assert.match(io.stdout(), /1 still unfinished/);
      assert.match(io.stdout(), /the platform is unreachable from the kiosk \(link offline since 2026-12-05T03:00:00\.000Z\): the orders wait for it/);
    } finally {
      await server.close();
      lock.release();
    }
  });

  it('without a daemon and the platform down: says it was unreachable, not only "no verdict before the customer left"', async () => {
    const down = tempKiosk(); // gateway.baseUrl 127.0.0.1:9: nothing listens
    try {
      const j = down.journal();
      seedOrder(j, { state: 'created', amountFen: 150, authCode: testCode('paid', 'wechat'), at: new Date(Date.now() - 120_000) });
      j.close();
      const io = down.io();
      assert.equal(await reconcile(['--timeout', '2'], io), 1);
      assert.match(io.stdout(), /1 still unfinished/);
      assert.match(io.stdout(), /the platform was unreachable: http:\/\/127\.0\.0\.1:9\S* unreachable \(.+\): none of \d+ call\(s\) answered; these orders wait for it/);
      const asJson = down.io();
      assert.equal(await reconcile(['--timeout', '1', '--json'], asJson), 1);
      assert.match(JSON.parse(asJson.stdout()).gateway.unreachable, /127\.0\.0\.1:9/);
    } finally {
      down.cleanup();
    }
  });

  it('refuses (exit 3) when a daemon holds the journal but does not answer, and touches nothing', async () => {
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock'));
    const j = k.journal();
    seedOrder(j, { state: 'unknown', amountFen: 100 });
    j.close();
    const io = k.io();
    try {
      assert.equal(await reconcile([], io), 3);
    } finally {
      lock.release();
    }
    assert.match(io.stderr(), /holds the journal .*no daemon is listening.*Not working the journal beside it/);
    const after = k.journal();
    assert.equal(after.unfinished().length, 1);
    after.close();
  });

  it('rejects a bad --timeout with exit 2', async () => {
    const io = k.io();
    assert.equal(await reconcile(['--timeout', '0'], io), 2);
  });
});
