// kiosk status and kiosk doctor against a temp kiosk, the sandbox on 127.0.0.1 and a fake /dev, /sys, /run, /etc.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import { acquireLock } from '../../src/kiosk/lock.js';
import { join } from 'node:path';
import { run as status } from '../../src/cli/status.js';
import { run as doctor } from '../../src/cli/doctor.js';
import { startControlServer } from '../../src/kiosk/control.js';
import type { Roots } from '../../src/cli/tech/probe.js';
import { testCode, type Sandbox } from '../../src/sandbox/index.js';
import { sandboxKiosk, seedOrder, SHARED, tempKiosk, type TempKiosk } from './fixtures.js';
import { PtyPair } from '../hardware/pty.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const KIOSK = fileURLToPath(new URL('../../src/cli/kiosk.js', import.meta.url));

/**
 * A fake system tree: a scanner node (a symlink to /dev/null, a real character device), a Pi GPIO chip, timesyncd's
 * flag.
 */
function fakeRoots(base: string, opts: { synced?: boolean; gpio?: boolean; scannerGroup?: string } = {}): Roots {
  const roots = { dev: join(base, 'dev'), sys: join(base, 'sys'), run: join(base, 'run'), etc: join(base, 'etc') };
  mkdirSync(roots.dev, { recursive: true });
  mkdirSync(join(roots.run, 'systemd/timesync'), { recursive: true });
  mkdirSync(roots.etc, { recursive: true });
  symlinkSync('/dev/null', join(roots.dev, 'kiosk-scanner'));
  // /dev/null is gid 0, mode 0666: name gid 0 as the group the test wants.
  writeFileSync(join(roots.etc, 'group'), `${opts.scannerGroup ?? 'dialout'}:x:0:\nusers:x:100:\n`);
  if (opts.synced !== false) writeFileSync(join(roots.run, 'systemd/timesync/synchronized'), '');
  if (opts.gpio !== false) {
    const chip = join(roots.sys, 'class/gpio/gpiochip512');
    mkdirSync(chip, { recursive: true });
    writeFileSync(join(chip, 'label'), 'pinctrl-bcm2711\n');
    writeFileSync(join(chip, 'base'), '512\n');
    writeFileSync(join(roots.dev, 'gpiochip0'), '');
  }
  return roots;
}

const serialAndGpio = (raw: Record<string, any>) => {
  raw.scanner = { driver: 'serial', path: '/dev/kiosk-scanner' };
  raw.approve = { driver: 'gpio', pin: 23 };
};

describe('kiosk doctor', function () {
  this.timeout(10000);
  let sandbox: Sandbox;
  let k: TempKiosk;
  const rig = sandboxKiosk({ extra: serialAndGpio });
  before(() => ({ sandbox, k } = rig));

  it('passes every check on a healthy kiosk: ✓ lines, exit 0', async () => {
    const io = k.io();
    const code = await doctor([], io, { roots: fakeRoots(join(k.dir, 'ok')) });
    const out = io.stdout();
    assert.equal(code, 0, out);
    for (const name of ['config', 'merchant key', 'certificate', 'journal', 'scanner', 'gpio', 'clock', 'gateway']) assert.match(out, new RegExp(`^✓ ${name}`, 'm'));
    assert.match(out, /✓ journal\s+.*integrity ok, 0 orders/);
    assert.match(out, /✓ scanner\s+\/dev\/kiosk-scanner present, group dialout/);
    assert.match(out, /✓ gpio\s+for approve: sysfs base 512, \/dev\/gpiochip0/);
    assert.match(out, /✓ gateway\s+signed round trip .*queryOrder K1PROBE: 17/);
    assert.match(out, /all checks passed/);
    // No daemon here: said as a fact, never as a passed check.
    assert.match(out, /^· daemon\s+not running$/m);
    assert.doesNotMatch(out, /✓ daemon/);
  });

  it('says what is wrong and how to fix it: key mode, device group, no GPIO, clock, gateway; exit 1', async () => {
    const key = join(k.dir, 'keys/merchant.key.p8');
    chmodSync(key, 0o644);
    const port = new URL(sandbox.baseUrl).port;
    k.rewrite((raw) => (raw.gateway.baseUrl = 'http://127.0.0.1:9/entry-provider-plat-client'));
    try {
      const io = k.io();
      const code = await doctor(['--json'], io, { roots: fakeRoots(join(k.dir, 'bad'), { synced: false, gpio: false, scannerGroup: 'root' }) });
      assert.equal(code, 1);
      const r = JSON.parse(io.stdout());
      const by = Object.fromEntries(r.checks.map((c: { name: string }) => [c.name, c]));
      // kiosk run refuses a key others can read: the config check says so, as run does.
      assert.equal(by.config.ok, false);
      assert.match(by.config.detail, /merchant\.privateKey/);
      assert.match(by['merchant key'].detail, /mode 0644 lets group\/others read it/);
      assert.match(by['merchant key'].fix, /chmod 600/);
      assert.equal(by.certificate.ok, true);
      assert.match(by.scanner.detail, /group root/);
      assert.match(by.scanner.fix, /dialout/);
      assert.match(by.gpio.detail, /no gpiochip|cannot read/);
      assert.match(by.clock.detail, /not yet synchronised/);
      assert.equal(by.gateway.ok, false);
      assert.match(by.gateway.detail, /unreachable/);
      assert.ok(port);
    } finally {
      chmodSync(key, 0o600);
      k.rewrite((raw) => (raw.gateway.baseUrl = sandbox.baseUrl));
    }
  });

  it('catches a key the platform does not know (11) and a certificate that does not verify its answers', async () => {
    const gatewayCheck = async (opts: { privateKey?: string; platformCert?: string }) => {
      const other = tempKiosk({ baseUrl: sandbox.baseUrl, ...opts }); // the shared test key / certificate are not this sandbox's
      try {
        const io = other.io();
        assert.equal(await doctor(['--json'], io, { roots: fakeRoots(join(other.dir, 'r')) }), 1);
        return JSON.parse(io.stdout()).checks.find((c: { name: string }) => c.name === 'gateway');
      } finally {
        other.cleanup();
      }
    };
    const wrongKey = await gatewayCheck({ platformCert: sandbox.platformCertPath });
    assert.match(wrongKey.detail, /the platform rejected our signature \(11 /);
    assert.match(wrongKey.fix, /merchant.privateKey does not match/);
    const wrongCert = await gatewayCheck({ privateKey: sandbox.merchantKeyPath! });
    assert.match(wrongCert.detail, /signature does not verify/);
  });

  it('a merchant id the platform would refuse is a config problem, not a stack trace at the gateway check', async () => {
    k.rewrite((raw) => (raw.merchant.acqSpId = 'X471790403'));
    try {
      const io = k.io();
      assert.equal(await doctor([], io, { roots: fakeRoots(join(k.dir, 'x')) }), 1);
      assert.match(io.stdout(), /✗ config\s+.*merchant\.acqSpId: must be 10 letters\/digits starting with Y \(got "X471790403"\)/);
      assert.doesNotMatch(io.stdout() + io.stderr(), /\n\s+at /);
    } finally {
      k.rewrite((raw) => (raw.merchant.acqSpId = 'Y471790403'));
    }
  });

  it('reports a broken config as one ✗ with every problem and skips the rest', async () => {
    const bad = join(k.dir, 'broken.json');
    writeFileSync(bad, '{"deviceId": "K1",}');
    const io = k.io();
    assert.equal(await doctor(['--config', bad], io, { roots: fakeRoots(join(k.dir, 'c')) }), 1);
    assert.match(io.stdout(), /✗ config\s+.*broken\.json: invalid JSON at line 1/);
    assert.match(io.stdout(), /^- gateway\s+not checked: the config could not be read/m);
    // One problem (the JSON); the checks that could not run are skipped, not problems.
    assert.match(io.stdout(), /\n1 problem; 7 checks skipped \(they need a readable config\)\n$/);
  });

  it('lists and counts the problems kiosk run refuses to start with (key mode, a missing fleet.operatorKeys file): one check for both', async () => {
    const t = tempKiosk({ extra: (raw) => ((raw.fleet = { url: 'mqtt://127.0.0.1:9', operatorKeys: 'keys/operators.pub.pem' }), serialAndGpio(raw)) });
    try {
      chmodSync(join(t.dir, 'keys/merchant.key.p8'), 0o644);
      const run = spawnSync(process.execPath, [KIOSK, 'run', '--config', t.configFile], { encoding: 'utf8' });
      assert.equal(run.status, 78, run.stderr);
      const refused = run.stderr.split('\n').filter((l) => l.startsWith('  '));
      assert.match(run.stderr, new RegExp(`refusing to start: ${refused.length} problems`));
      const io = t.io();
      assert.equal(await doctor(['--json', '--no-gateway'], io, { roots: fakeRoots(join(t.dir, 'r')) }), 1);
      const r = JSON.parse(io.stdout());
      const config = r.checks.find((c: { name: string }) => c.name === 'config');
      assert.deepEqual(config.detail.split('\n').map((l: string) => l.trim()), refused.map((l) => l.trim()));
      assert.match(config.detail, /operators\.pub\.pem/);
      // The key's own check says more, and is not counted again; the broker (port 9) is one more problem.
      const failed = r.checks.filter((c: { ok: boolean; name: string }) => !c.ok).map((c: { name: string }) => c.name);
      assert.deepEqual(failed, ['config', 'merchant key', 'fleet broker']);
      assert.equal(r.problems, refused.length + 1);
      assert.deepEqual(r.skipped, []);
    } finally {
      t.cleanup();
    }
  });

  it('a kiosk dev rig: the scanner is a pty, not a udev device; no group/mode problem', async () => {
    const pty = new PtyPair();
    await pty.start();
    const t = tempKiosk({ extra: (raw) => (raw.scanner = { driver: 'serial', path: pty.device }) });
    try {
      const io = t.io();
      await doctor(['--json', '--no-gateway'], io, { roots: fakeRoots(join(t.dir, 'r')) });
      const scanner = JSON.parse(io.stdout()).checks.find((c: { name: string }) => c.name === 'scanner');
      assert.equal(scanner.ok, true, scanner.detail);
      assert.match(scanner.detail, /a pseudo-terminal \(\/dev\/pts\/\d+, a kiosk dev rig's or a test's scanner\), readable and writable by this user/);
    } finally {
      t.cleanup();
      await pty.dispose();
    }
  });

  it('issue 10 §4: a running daemon whose journal is no longer at journal.path (replaced, deleted) is a ✗', async () => {
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock'));
    try {
      const j = k.journal(); // a run opened by this process: the daemon's own journal
      j.close();
      let io = k.io();
      await doctor(['--no-gateway'], io, { roots: fakeRoots(join(k.dir, 'g1')) });
      assert.match(io.stdout(), /^✓ journal/m);
      // Another file at the path (a restored backup): its last run was not opened by the running daemon.
      const other = k.journal();
      other.db.prepare('UPDATE runs SET pid = 999999').run();
      other.close();
      io = k.io();
      assert.equal(await doctor(['--no-gateway'], io, { roots: fakeRoots(join(k.dir, 'g2')) }), 1);
      assert.match(io.stdout(), /^✗ journal\s+.*is not the journal the running daemon \(pid \d+\) opened/m);
      for (const side of ['', '-wal', '-shm']) rmSync(k.journalPath + side, { force: true });
      io = k.io();
      assert.equal(await doctor(['--no-gateway'], io, { roots: fakeRoots(join(k.dir, 'g3')) }), 1);
      assert.match(io.stdout(), /^✗ journal\s+the daemon \(pid \d+\) runs, but there is no journal at .*: the journal it writes was deleted/m);
    } finally {
      lock.release();
    }
  });

  it('issue 10 §1: warns when another journal makes numbers with this deviceId (the platform knows our next number; 16 answers)', async () => {
    const j = k.journal();
    const seq = Number((j.db.prepare(`SELECT value FROM meta WHERE key = 'seq'`).get() as { value: string } | undefined)?.value ?? 0);
    j.close();
    // A kiosk of the old version (or a copy of this journal) with deviceId K1 paid order K1<today>000001.
    const gw = new HttpGateway({ baseUrl: sandbox.baseUrl, merchant: { acqSpId: 'Y471790403', acqMerId: '41509208' }, privateKey: loadPrivateKey(sandbox.merchantKeyPath!), platformKey: sandbox.platformPublicKey, connectTimeoutMs: 1000, timeoutMs: 3000 });
    const today = formatOrderTime(Date.now());
    const theirs = `K1${today.slice(0, 8)}${String(seq + 1).padStart(6, '0')}`;
    try {
      const r = await gw.micropay({ orderTime: today, orderNo: theirs, txnAmt: '150', orderType: 'wechat', authCode: testCode('paid', 'wechat', `dr${Date.now() % 100000}`), goodsId: 'G', goodsInfo: 'g' });
      assert.equal(r.outcome.kind, 'PAID');
    } finally {
      gw.close();
    }
    let io = k.io();
    assert.equal(await doctor([], io, { roots: fakeRoots(join(k.dir, 'h1')) }), 1);
    assert.match(io.stdout(), new RegExp(`^✗ order numbers\\s+the platform knows order ${theirs}, which this journal .* never made: another journal with deviceId K1`, 'm'));
    // Local evidence: an order the platform answered 16.
    const jj = k.journal();
    const o = seedOrder(jj, { state: 'failed' });
    jj.db.prepare(`UPDATE orders SET flag = 'order-no-collision' WHERE order_no = ?`).run(o.orderNo);
    jj.close();
    io = k.io();
    assert.equal(await doctor(['--no-gateway'], io, { roots: fakeRoots(join(k.dir, 'h2')) }), 1);
    assert.match(io.stdout(), /^✗ order numbers\s+the platform answered 16 \(order number already used\) for 1 order/m);
  });
});

describe('kiosk status', function () {
  this.timeout(10000);
  let k: TempKiosk;
  const rig = sandboxKiosk({}, (kiosk) => {
    const j = kiosk.journal();
    seedOrder(j, { state: 'delivered', amountFen: 150 });
    seedOrder(j, { state: 'unknown', amountFen: 300, at: new Date(Date.now() - 90_000) });
    j.close();
  });
  before(() => ({ k } = rig));

  it('without a daemon: says so, shows counts, unfinished, gateway round trip, versions; exit 1', async () => {
    const io = k.io();
    const code = await status([], io, { roots: fakeRoots(join(k.dir, 's1')) });
    const out = io.stdout();
    assert.equal(code, 1, out);
    assert.match(out, /^daemon:\s+NOT running$/m);
    assert.match(out, /^last payment:\s+K1\d+000002_[0-9a-z]{10} unknown 3\.00 wechat/m);
    assert.match(out, /^unfinished:\s+1 \(unknown 1\), oldest since .* \(1m3\ds\)/m);
    assert.match(out, /^link:\s+online; 1 order\(s\) waiting since/m);
    assert.match(out, /^gateway:\s+ok: signed round trip .*queryOrder K1\d+000002_[0-9a-z]{10}: 17 /m);
    assert.match(out, /^versions:\s+node v\d+.*better-sqlite3 \d+\.\d+\.\d+, sqlite 3\./m);
    assert.match(out, /delivered\s+1\n/);
    assert.ok(!out.includes('134567890123456789'));
  });

  it('with a daemon: pid from the lock file, scanner and link from the control socket; --json; exit 0', async () => {
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock'));
    const server = await startControlServer(join(k.dir, 'data/kiosk.sock'), {
      status: () => ({ pid: process.pid, scanner: { connected: true, device: '/dev/kiosk-scanner' }, link: { state: 'online', since: '2026-11-26T10:00:00.000Z' }, waiting: { count: 0, since: null } }),
      reconcile: () => ({ started: 0, remaining: 0 }),
    });
    try {
      const io = k.io();
      const code = await status(['--json'], io, { roots: fakeRoots(join(k.dir, 's2')) });
      const r = JSON.parse(io.stdout());
      assert.equal(code, 0, io.stdout());
      assert.equal(r.daemon.running, true);
      assert.equal(r.daemon.pid, process.pid);
      assert.equal(r.scanner.connected, true);
      assert.deepEqual(r.waitingForLink, { count: 0, since: null, link: 'online', linkSince: '2026-11-26T10:00:00.000Z' });
      assert.equal(r.counts.delivered, 1);
      assert.equal(r.gateway.ok, true);
    } finally {
      await server.close();
      lock.release();
    }
    // The daemon is gone (killed: the kernel dropped its lock); the file still names its pid: not running.
    writeFileSync(join(k.dir, 'data/kiosk.lock'), `${process.pid}\n`);
    const io = k.io();
    assert.equal(await status(['--no-gateway'], io, { roots: fakeRoots(join(k.dir, 's3')) }), 1);
    assert.match(io.stdout(), /^daemon:\s+NOT running$/m);
    assert.ok(SHARED);
  });
});
