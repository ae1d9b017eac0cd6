// `kiosk status` (the real command, over the control socket) agrees with the link monitor during an outage
// and after it: the link line, the waiting count and since when, text and --json.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { acquireLock } from '../../src/kiosk/lock.js';
import { join } from 'node:path';
import { run as status } from '../../src/cli/status.js';
import { startControlServer } from '../../src/kiosk/control.js';
import { testCode } from '../../src/sandbox/index.js';
import { tempKiosk, type TempKiosk } from '../cli/fixtures.js';
import { World } from './world.js';

describe('offline: kiosk status agrees with the link', function () {
  this.timeout(20_000);
  let w: World;
  let k: TempKiosk;
  after(async () => {
    k?.cleanup();
    await w?.close();
  });

  it('offline with a reversal waiting, then online with nothing waiting', async () => {
    w = await World.create({ device: 'DRILLS' });
    await w.clock.advance(0);
    await w.setLink('drop-after-request');
    const rec = await w.scan(testCode('paid', 'alipay', 77));
    assert.equal(rec.result.kind, 'not-charged');
    await w.setLink('refuse');
    await w.clock.advance(5 * 60_000);
    assert.equal(w.state, 'offline');

    // A kiosk config whose journal is the drill's; the daemon's status answer is what Daemon.status() spreads.
    k = tempKiosk({ baseUrl: w.proxy.baseUrl, privateKey: w.sandbox.merchantKeyPath!, platformCert: w.sandbox.platformCertPath, extra: (raw) => (raw.journal.path = w.journal.file) });
    // Lock and control socket default to beside the journal.
    const lock = acquireLock(join(w.dir, 'kiosk.lock'));
    const server = await startControlServer(join(w.dir, 'kiosk.sock'), { status: () => ({ pid: process.pid, ...w.status() }), reconcile: () => ({ started: 0, remaining: 0 }) });
    const roots = { dev: join(k.dir, 'r/dev'), sys: join(k.dir, 'r/sys'), run: join(k.dir, 'r/run'), etc: join(k.dir, 'r/etc') };
    for (const d of Object.values(roots)) mkdirSync(d, { recursive: true });
    try {
      const order = w.journal.list()[0]!;
      let io = k.io();
      await status(['--no-gateway'], io, { roots });
      assert.match(io.stdout(), new RegExp(`^link:\\s+offline since ${w.status().link.since.replace(/\./g, '\\.')}; 1 order\\(s\\) waiting since ${order.createdAt.replace(/\./g, '\\.')}$`, 'm'));
      io = k.io();
      await status(['--no-gateway', '--json'], io, { roots });
      const r = JSON.parse(io.stdout());
      assert.deepEqual(r.waitingForLink, { count: 1, since: order.createdAt, link: 'offline', linkSince: w.status().link.since });
      assert.equal(r.daemon.live.waiting.heldCalls, 1);

      await w.setLink('pass');
      await w.settle();
      await w.clock.advance(10_000);
      assert.equal(w.state, 'online');
      io = k.io();
      await status(['--no-gateway'], io, { roots });
      assert.match(io.stdout(), /^link:\s+online since .*; nothing waiting$/m);
      assert.equal(w.journal.get(order.orderNo)!.state, 'reversed');
    } finally {
      await server.close();
      lock.release();
    }
  });
});
