// device/install.sh run for real under --root (a temp folder as /): first install, re-run, updates with a
// running daemon and an unfinished order, the technician's edited rule and key surviving, rollback
// (automatic and by hand), an older release refusing a newer journal, pm2 mode, an old flat install.
// systemctl and npm are shims inside the temp root (systemctl runs the real daemon from /opt/kiosk/current);
// nothing outside the temp folders is touched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadConfig, readConfig } from '../../src/config/index.js';
import { gatewayFromConfig } from '../../src/kiosk/wiring.js';
import { silentLogger } from '../../src/log.js';
import { testCode } from '../../src/sandbox/codes.js';
import { openJournal } from '../../src/journal/journal.js';
import { SCHEMA_VERSION } from '../../src/journal/schema.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { seedOrder } from '../cli/fixtures.js';
import { until } from '../wait.js';
import { calls, FIXTURES, install, installAsync, kioskCmd, link, machine, mode, releases, readJournal, removeTemps, REPO, source, systemctl } from './rig.js';

after(removeTemps);

describe('field/install.sh', () => {
  it('parses (bash -n), and so does the kiosk command template (sh -n)', () => {
    assert.equal(spawnSync('bash', ['-n', join(REPO, 'device/install.sh')]).status, 0);
    assert.equal(spawnSync('sh', ['-n', join(REPO, 'device/kiosk.sh')]).status, 0);
  });

  for (const m of ['systemd', 'pm2'] as const) {
    it(`--dry-run --mode ${m} prints every step and changes nothing`, () => {
      const optBefore = existsSync('/opt/kiosk');
      const r = install(REPO, undefined, '--dry-run', '--mode', m, '--key', join(FIXTURES, 'test-merchant.key.p8'));
      assert.equal(r.status, 0, r.all);
      assert.match(r.out, /^# dry run: nothing is changed$/m);
      assert.match(r.out, /^\+ usermod --append --groups dialout,gpio kiosk$/m);
      assert.match(r.out, /^\+ install -d -m 0700 \/var\/lib\/kiosk$/m);
      assert.match(r.out, /^\+ chown kiosk:kiosk \/var\/lib\/kiosk$/m);
      assert.match(r.out, /^\+ install -d -m 0750 \/etc\/kiosk$/m);
      assert.match(r.out, new RegExp(`^\\+ systemctl enable ${m === 'systemd' ? 'kiosk' : 'kiosk-pm2'}\\.service$`, 'm'));
      for (const line of r.out.split('\n')) assert.match(line, /^([+#] .*)?$/, `every line is a step or a note: ${line}`);
      assert.equal(existsSync('/opt/kiosk'), optBefore);
    });
  }

  it('refuses a bad mode or option with exit 2, and a missing key file with exit 1', () => {
    const bad = install(REPO, undefined, '--dry-run', '--mode', 'docker');
    assert.equal(bad.status, 2);
    assert.match(bad.err, /--mode must be systemd or pm2, got 'docker'/);
    assert.equal(install(REPO, undefined, '--dry-run', '--frobnicate').status, 2);
    const noKey = install(REPO, undefined, '--dry-run', '--key', '/nonexistent/key.p8');
    assert.equal(noKey.status, 1);
    assert.match(noKey.err, /no such file: \/nonexistent\/key\.p8/);
  });

  it('device/config.example.json is valid apart from the files that exist only on a Pi', () => {
    const { problems } = readConfig(join(REPO, 'device/config.example.json'));
    const notHere = problems.filter((p) => !(/no such file|does not exist/.test(p.problem) && ['merchant.privateKey', 'gateway.platformCert', 'journal.path'].includes(p.field)));
    assert.deepEqual(notHere, []);
    assert.deepEqual(readConfig(join(REPO, 'device/config.example.json'), { checkFiles: false }).problems, []);
  });
});

describe('field/install.sh --root: a kiosk installed, updated three times, rolled back', function () {
  this.timeout(120000);
  let root: string;
  let sandbox: Sandbox;
  const key = () => join(root, 'etc/kiosk/merchant.key.p8');
  const rule = () => join(root, 'etc/udev/rules.d/99-kiosk-scanner.rules');
  let originalKey: Buffer;
  let editedRule: string;
  const ids: string[] = [];

  before(async () => {
    sandbox = await startSandbox();
    root = machine();
  });
  after(async () => {
    if (root) systemctl(root, 'stop', 'kiosk.service');
    await sandbox?.close();
  });

  it('first install: every file in place with its mode, system calls recorded, nothing started', () => {
    const r = install(source('r1'), root, '--key', sandbox.merchantKeyPath!, '--cert', sandbox.platformCertPath);
    assert.equal(r.status, 0, r.all);
    // A missing /etc/udev/rules.d (this root has none) is created, not fatal.
    assert.ok(existsSync(rule()));
    assert.equal(mode(join(root, 'var/lib/kiosk')), '0700');
    assert.equal(mode(join(root, 'etc/kiosk')), '0750');
    assert.equal(mode(key()), '0400');
    assert.equal(mode(join(root, 'etc/kiosk/platform.cert.crt')), '0640');
    assert.equal(mode(join(root, 'etc/kiosk/config.json')), '0640');
    originalKey = readFileSync(key());
    const c = calls(root);
    for (const line of ['useradd --system --home-dir /var/lib/kiosk --no-create-home --shell /usr/sbin/nologin --user-group kiosk', 'chown kiosk:kiosk /etc/kiosk/merchant.key.p8', 'chown root:kiosk /etc/kiosk/platform.cert.crt', 'chown root:kiosk /etc/kiosk/config.json', 'systemctl daemon-reload', 'systemctl enable kiosk.service', 'udevadm trigger --subsystem-match=tty --action=change']) {
      assert.ok(c.split('\n').includes(line), `${line} recorded:\n${c}`);
    }
    assert.doesNotMatch(c, /systemctl (re)?start/);
    assert.match(r.out, /delete your copy/);
    // The rule comes from scanner.env (the example's ids); the units and the command run the current release.
    assert.match(readFileSync(rule(), 'utf8'), /^SUBSYSTEM=="tty", ATTRS\{idVendor\}=="1a86", ATTRS\{idProduct\}=="7523", SYMLINK\+="kiosk-scanner"/m);
    assert.match(readFileSync(rule(), 'utf8'), /^#KERNEL=="ttyAMA0"/m);
    const unit = readFileSync(join(root, 'etc/systemd/system/kiosk.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${process.execPath} --max-semi-space-size=1 --max-opt=1 /opt/kiosk/current/dist/src/cli/kiosk.js run --config /etc/kiosk/config.json$`, 'm'));
    ids.push(link(root, 'current'));
    assert.deepEqual(releases(root), ids);
    assert.equal(existsSync(join(root, 'opt/kiosk/previous')), false);
    const rel = JSON.parse(readFileSync(join(root, 'opt/kiosk/current/release.json'), 'utf8'));
    assert.equal(rel.id, ids[0]);
  });

  it('the kiosk command names every program by its full path (root cron has PATH=/usr/bin:/bin)', () => {
    const text = readFileSync(join(root, 'usr/local/bin/kiosk'), 'utf8');
    assert.equal(mode(join(root, 'usr/local/bin/kiosk')), '0755');
    assert.match(text, new RegExp(`exec /\\S*runuser -u kiosk -- /usr/bin/env PM2_HOME="\\$PM2_HOME" ${process.execPath} `));
    assert.doesNotMatch(text, /@[A-Z]+@/);
    // Run with an empty PATH: `kiosk logs --help` stays root's (reads logs only) and must still start.
    const local = join(root, '.install/kiosk-local');
    writeFileSync(local, text.replaceAll('/opt/kiosk/', `${root}/opt/kiosk/`), { mode: 0o755 });
    const r = spawnSync('/bin/sh', [local, 'logs', '--help'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /usage: kiosk logs/);
  });

  it('a re-run of the same build changes nothing: same release, no udev trigger, no reload', () => {
    const before = calls(root);
    const r = install(source('r1'), root);
    assert.equal(r.status, 0, r.all);
    assert.match(r.out, /release \S+ is installed already/);
    const added = calls(root).slice(before.length);
    assert.doesNotMatch(added, /udevadm|daemon-reload|restart|npm/);
    assert.deepEqual(releases(root), ids);
  });

  it('a different --key is refused before anything changes; the same key is a no-op', () => {
    const before = calls(root);
    const r = install(source('r1'), root, '--key', join(FIXTURES, 'test-merchant.key.p8'));
    assert.equal(r.status, 1);
    assert.match(r.err, /\/etc\/kiosk\/merchant\.key\.p8 already holds a different merchant key: refusing to replace it .* --replace-key/);
    assert.equal(calls(root), before);
    assert.deepEqual(readFileSync(key()), originalKey);
    const same = install(source('r1'), root, '--key', sandbox.merchantKeyPath!);
    assert.equal(same.status, 0, same.all);
    assert.match(same.out, /already holds this merchant key: left as it is/);
  });

  it('update 1 of a running kiosk with an unfinished order: restarted on the new release, ready, the order finished; the edited rule kept', async () => {
    // The technician's edits: the scanner's ids typed into the rule itself (the old habit).
    editedRule = readFileSync(rule(), 'utf8').replace('"1a86"', '"0483"').replace('"7523"', '"5740"');
    writeFileSync(rule(), editedRule);
    writeFileSync(
      join(root, 'etc/kiosk/config.json'),
      JSON.stringify({
        deviceId: 'K1',
        merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: key(), goodsId: 'VEND', goodsInfo: 'Vending' },
        gateway: { baseUrl: sandbox.baseUrl, platformCert: join(root, 'etc/kiosk/platform.cert.crt'), connectTimeoutMs: 500, timeoutMs: 2000 },
        journal: { path: join(root, 'var/lib/kiosk/journal.sqlite') },
        scanner: { driver: 'sim' },
        pricing: { mode: 'fixed', amountFen: 150 },
      }),
    );
    systemctl(root, 'start', 'kiosk.service');
    const ready = kioskCmd(root, 'version', '--wait-ready', '20');
    assert.equal(ready.status, 0, ready.stderr + readFileSync(join(root, '.install/daemon.log'), 'utf8'));
    // An order the running daemon left unfinished: the platform took the money, the answer was lost. Only a
    // new start's recovery picks it up: it must query, find it paid after the customer left, and reverse it.
    const j = openJournal(join(root, 'var/lib/kiosk/journal.sqlite'));
    const order = seedOrder(j, { state: 'unknown', authCode: testCode('paid') });
    j.close();
    const gateway = gatewayFromConfig(loadConfig(join(root, 'etc/kiosk/config.json')), silentLogger);
    const paid = await gateway.micropay({ orderTime: order.orderTime, orderNo: order.orderNo, txnAmt: order.txnAmt, orderType: 'wechat', authCode: testCode('paid') });
    gateway.close();
    assert.equal(paid.answer?.respCode, '00');
    const r = await installAsync(source('r2'), root);
    assert.equal(r.status, 0, r.all);
    ids.push(link(root, 'current'));
    assert.notEqual(ids[1], ids[0]);
    assert.equal(link(root, 'previous'), ids[0]);
    assert.match(r.out, /updated \S+ -> \S+: the kiosk answers ready on it/);
    assert.match(calls(root), /^systemctl restart kiosk\.service$/m);
    assert.match(r.out, /WARNING: \/etc\/udev\/rules\.d\/99-kiosk-scanner\.rules was changed on this kiosk: kept as it is/);
    assert.equal(readFileSync(rule(), 'utf8'), editedRule);
    assert.ok(existsSync(rule() + '.kiosk-new'));
    assert.deepEqual(readFileSync(key()), originalKey);
    const v = kioskCmd(root, 'version');
    assert.match(v.stdout, new RegExp(`^current:\\s+${ids[1]}`, 'm'));
    assert.match(v.stdout, new RegExp(`^previous:\\s+${ids[0]}`, 'm'));
    assert.match(v.stdout, new RegExp(`^daemon:\\s+pid \\d+, release ${ids[1]}`, 'm'));
    // Recovery in the new release finishes the order (bounded wait on the journal, not a fixed sleep).
    const journal = <T>(fn: (db: Database.Database) => T): T => readJournal(root, fn);
    await until(`order ${order.orderNo} finished by the new release`, () => (journal((db) => (db.prepare('SELECT state FROM orders WHERE order_no = ?').get(order.orderNo) as { state: string }).state) === 'reversed' ? true : undefined), {
      deadlineMs: 15_000,
      everyMs: 100,
      detail: () =>
        `${JSON.stringify(journal((db) => db.prepare('SELECT at, from_state, to_state, cause, call, resp_code FROM events WHERE order_no = ?').all(order.orderNo)))}\n${readFileSync(join(root, '.install/daemon.log'), 'utf8').split('\n').filter((l) => l.includes(order.orderNo)).slice(-8).join('\n')}`,
    });
  });

  it('updates 2 and 3: the rule and the key survive, old releases pruned to three', () => {
    for (const tag of ['r3', 'r4']) {
      const r = install(source(tag), root, ...(tag === 'r3' ? ['--key', sandbox.merchantKeyPath!] : []));
      assert.equal(r.status, 0, r.all);
      ids.push(link(root, 'current'));
      assert.equal(readFileSync(rule(), 'utf8'), editedRule, `after ${tag}`);
      assert.deepEqual(readFileSync(key()), originalKey, `after ${tag}`);
    }
    assert.equal(new Set(ids).size, 4);
    assert.deepEqual(releases(root), ids.slice(1).sort());
    assert.equal(link(root, 'previous'), ids[2]);
  });

  it('--rollback: back to the previous release, restarted and ready on it', () => {
    const r = install(source('r4'), root, '--rollback');
    assert.equal(r.status, 0, r.all);
    assert.equal(link(root, 'current'), ids[2]);
    assert.equal(link(root, 'previous'), ids[3]);
    assert.match(kioskCmd(root, 'version').stdout, new RegExp(`^daemon:\\s+pid \\d+, release ${ids[2]}`, 'm'));
  });

  it('a rollback to a release older than the journal is refused with the reason; the journal is untouched', () => {
    systemctl(root, 'stop', 'kiosk.service');
    const file = join(root, 'var/lib/kiosk/journal.sqlite');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    try {
      const r = install(source('r4'), root, '--rollback');
      assert.equal(r.status, 1);
      assert.match(r.out, new RegExp(`schema ${SCHEMA_VERSION + 1} is newer than this release knows \\(${SCHEMA_VERSION}\\)`));
      assert.match(r.err, new RegExp(`cannot roll back to ${ids[3]}`));
      assert.equal(link(root, 'current'), ids[2]);
    } finally {
      const back = new Database(file);
      back.pragma(`user_version = ${SCHEMA_VERSION}`);
      back.close();
    }
    systemctl(root, 'start', 'kiosk.service');
    assert.equal(kioskCmd(root, 'version', '--wait-ready', '20').status, 0);
  });

  it('an update that never answers ready is rolled back automatically', () => {
    // A release whose daemon exits at once (as a broken build would).
    const bad = source('bad', (dir) => writeFileSync(join(dir, 'dist/src/cli/run.js'), 'process.exit(70);\nexport {};\n'));
    const r = install(bad, root, '--ready-timeout', '2');
    assert.equal(r.status, 1, r.all);
    assert.match(r.out, /WARNING: release \S+ did not answer ready within 2 s: rolling back/);
    assert.match(r.err, new RegExp(`update to \\S+ failed and was rolled back: ${ids[2]} runs again`));
    assert.equal(link(root, 'current'), ids[2]);
    assert.match(kioskCmd(root, 'version').stdout, new RegExp(`^daemon:\\s+pid \\d+, release ${ids[2]}`, 'm'));
    assert.equal(readFileSync(rule(), 'utf8'), editedRule);
    assert.deepEqual(readFileSync(key()), originalKey);
  });
});

describe('field/install.sh --root: keys, an old flat install, pm2 mode', function () {
  this.timeout(60000);

  it('--replace-key keeps the old key as a dated 0600 backup; the certificate becomes root:kiosk 0640', () => {
    const root = machine();
    mkdirSync(join(root, 'etc/kiosk'), { recursive: true });
    writeFileSync(join(root, 'etc/kiosk/merchant.key.p8'), 'the rotated key', { mode: 0o600 });
    writeFileSync(join(root, 'etc/kiosk/platform.cert.crt'), readFileSync(join(FIXTURES, 'test-platform.cert.crt')), { mode: 0o644 });
    const r = install(source('k1'), root, '--key', join(FIXTURES, 'test-merchant.key.p8'), '--replace-key');
    assert.equal(r.status, 0, r.all);
    const backups = readdirSync(join(root, 'etc/kiosk')).filter((n) => /^merchant\.key\.p8\.\d{8}-\d{6}\.bak$/.test(n));
    assert.equal(backups.length, 1);
    assert.equal(readFileSync(join(root, 'etc/kiosk', backups[0]!), 'utf8'), 'the rotated key');
    assert.equal(mode(join(root, 'etc/kiosk', backups[0]!)), '0600');
    assert.deepEqual(readFileSync(join(root, 'etc/kiosk/merchant.key.p8')), readFileSync(join(FIXTURES, 'test-merchant.key.p8')));
    assert.match(r.out, /replaced merchant key .* kept as \/etc\/kiosk\/merchant\.key\.p8\.\d{8}-\d{6}\.bak/);
    assert.equal(mode(join(root, 'etc/kiosk/platform.cert.crt')), '0640');
    assert.match(calls(root), /^chown root:kiosk \/etc\/kiosk\/platform\.cert\.crt$/m);
  });

  it('an old flat install: its edited rule kept and its ids carried into scanner.env, the shipped unit replaced, the old files moved aside', () => {
    const root = machine();
    const oldRule = spawnSync('git', ['-C', REPO, 'show', '66cc59d:device/99-kiosk-scanner.rules'], { encoding: 'utf8' }).stdout;
    if (!oldRule) return; // reason: a shallow clone without that commit cannot rebuild the old rule
    const edited = oldRule.replace('"1a86"', '"10c4"').replace('"7523"', '"ea60"');
    mkdirSync(join(root, 'etc/udev/rules.d'), { recursive: true });
    writeFileSync(join(root, 'etc/udev/rules.d/99-kiosk-scanner.rules'), edited);
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    writeFileSync(join(root, 'etc/systemd/system/kiosk.service'), spawnSync('git', ['-C', REPO, 'show', '66cc59d:systemd/kiosk.service'], { encoding: 'utf8' }).stdout);
    mkdirSync(join(root, 'opt/kiosk/dist/src/cli'), { recursive: true });
    writeFileSync(join(root, 'opt/kiosk/dist/src/cli/kiosk.js'), '// the old flat install\n');
    const r = install(source('m1'), root);
    assert.equal(r.status, 0, r.all);
    assert.equal(readFileSync(join(root, 'etc/udev/rules.d/99-kiosk-scanner.rules'), 'utf8'), edited);
    const env = readFileSync(join(root, 'etc/kiosk/scanner.env'), 'utf8');
    assert.match(env, /^SCANNER_USB_VENDOR=10c4$/m);
    assert.match(env, /^SCANNER_USB_PRODUCT=ea60$/m);
    assert.match(readFileSync(join(root, 'etc/udev/rules.d/99-kiosk-scanner.rules.kiosk-new'), 'utf8'), /ATTRS\{idVendor\}=="10c4", ATTRS\{idProduct\}=="ea60"/);
    assert.match(readFileSync(join(root, 'etc/systemd/system/kiosk.service'), 'utf8'), /\/opt\/kiosk\/current\/dist/);
    assert.match(r.out, /updated \/etc\/systemd\/system\/kiosk\.service/);
    assert.equal(existsSync(join(root, 'opt/kiosk/dist')), false);
    assert.equal(readdirSync(join(root, 'opt/kiosk')).filter((n) => n.startsWith('legacy-')).length, 1);
    assert.ok(lstatSync(join(root, 'opt/kiosk/current')).isSymbolicLink());
  });

  it('scanner.env is the one place for the ids: a change regenerates the rule; a bad value is refused naming the file', () => {
    const root = machine();
    const src = source('s1');
    assert.equal(install(src, root).status, 0);
    const env = join(root, 'etc/kiosk/scanner.env');
    writeFileSync(env, readFileSync(env, 'utf8').replace(/^SCANNER_UART=$/m, 'SCANNER_UART=ttyAMA0'));
    const r = install(src, root);
    assert.equal(r.status, 0, r.all);
    const text = readFileSync(join(root, 'etc/udev/rules.d/99-kiosk-scanner.rules'), 'utf8');
    assert.match(text, /^KERNEL=="ttyAMA0", SUBSYSTEM=="tty", SYMLINK\+="kiosk-scanner"/m);
    assert.match(text, /^#SUBSYSTEM=="tty", ATTRS\{idVendor\}/m);
    assert.match(calls(root).split('udevadm trigger').length === 3 ? 'two triggers' : calls(root), /two triggers/);
    writeFileSync(env, 'SCANNER_USB_VENDOR=xyz\n');
    const bad = install(src, root);
    assert.equal(bad.status, 1);
    assert.match(bad.err, /scanner\.env: SCANNER_USB_VENDOR must be 4 hex digits .* got 'xyz'/);
  });

  it('pm2 mode warns when the unit will not find pm2 on its own PATH, and not once pm2 is there', () => {
    const root = machine();
    const src = source('p1');
    const r = install(src, root, '--mode', 'pm2');
    assert.equal(r.status, 0, r.all);
    assert.match(r.out, /WARNING: kiosk-pm2\.service will not find pm2 on its PATH \(\/usr\/local\/bin:\/usr\/bin:\/bin\)/);
    assert.ok(existsSync(join(root, 'etc/systemd/system/kiosk-pm2.service')));
    assert.equal(existsSync(join(root, 'etc/systemd/system/kiosk.service')), false);
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/pm2'), '#!/bin/sh\n', { mode: 0o755 });
    // No --mode: an update keeps the installed mode.
    const again = install(src, root);
    assert.equal(again.status, 0, again.all);
    assert.doesNotMatch(again.out, /will not find pm2/);
    assert.equal(existsSync(join(root, 'etc/systemd/system/kiosk.service')), false);
  });
});
