// A fleet update through the real Mender client (Debian's mender-client, standalone mode) and our update
// module device/mender/kiosk-release, on the fake machine of rig.ts. Each mender call runs in its own mount
// namespace (unshare -m) where the machine's /etc/mender and modules folder are bind-mounted over the real
// ones, so this machine's /etc, /usr and /var are never touched. v1 → v2 committed; a v2 that never answers
// ready rolled back with the journal untouched; an artifact signed by another key refused before anything is
// staged; an update while a customer pays waits for the payment.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { testCode } from '../../src/sandbox/codes.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { PtyPair } from '../hardware/pty.js';
import { until } from '../wait.js';
import { install, kioskCmd, link, machine, mode, readJournal, releases, removeTemps, REPO, source, systemctl, temp } from './rig.js';

const MODULES = '/usr/share/mender/modules/v3';
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const missing = [
  ...['mender', 'mender-artifact', 'unshare', 'openssl'].filter((c) => !have(c)),
  ...(existsSync(MODULES) && existsSync('/etc/mender') ? [] : [`${MODULES} and /etc/mender (Debian's mender-client)`]),
  ...(process.getuid?.() === 0 ? [] : ['root (for the mount namespace)']),
];

after(removeTemps);

/** A release bundle (and, with a key, its signed artifact) of a built checkout, made by scripts/release.sh. */
function bundle(src: string, name: string, signKey?: string): { tar: string; artifact?: string } {
  mkdirSync(join(src, 'scripts'), { recursive: true });
  for (const p of ['README.md', 'docs', 'scripts/release.sh']) spawnSync('cp', ['-a', join(REPO, p), join(src, p)]);
  const out = temp(`kiosk-rel-${name}-`);
  const args = ['scripts/release.sh', '--out', out, ...(signKey ? ['--mender', '--key', signKey, '--device-type', 'kiosk-test', '--name', name] : [])];
  const r = spawnSync('bash', args, { cwd: src, encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const tar = /^bundle: (\S+)/m.exec(r.stdout)![1]!;
  const artifact = /^artifact: (\S+)/m.exec(r.stdout)?.[1];
  return { tar, ...(artifact ? { artifact } : {}) };
}

/** The Mender client in standalone mode, in a mount namespace over the fake machine's Mender files. */
function mender(root: string, env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; all: string }> {
  const script = `set -e
mount --make-rprivate /
mount --bind '${root}/etc/mender' /etc/mender
mount --bind '${root}${MODULES}' ${MODULES}
exec mender --no-syslog -l info -c /etc/mender/mender.conf -d '${root}/var/lib/mender' "$@"`;
  return new Promise((resolve) => {
    const child = spawn('unshare', ['-m', 'bash', '-c', script, 'mender', ...args], { env: { ...process.env, KIOSK_INSTALL_ROOT: root, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let all = '';
    child.stdout.on('data', (d) => (all += d));
    child.stderr.on('data', (d) => (all += d));
    child.on('close', (status) => resolve({ status, all }));
  });
}

const journal = readJournal;
const updates = (root: string) => journal(root, (db) => db.prepare(`SELECT data FROM outbox WHERE type = 'update' ORDER BY seq`).all() as { data: string }[]).map((r) => JSON.parse(r.data) as Record<string, unknown>);
/** Every order and every transition: what an update must never change. */
const money = (root: string) => journal(root, (db) => JSON.stringify([db.prepare('SELECT * FROM orders ORDER BY order_no').all(), db.prepare('SELECT * FROM events ORDER BY id').all()]));
const daemonRelease = (root: string) => /^daemon:\s+pid \d+, release ([^,\s]+)/m.exec(kioskCmd(root, 'version').stdout)?.[1];

describe('field/Mender: signed releases through the real client and the kiosk-release module', function () {
  this.timeout(180000);
  let root: string;
  let sandbox: Sandbox;
  let operatorKey: string;
  let otherKey: string;
  const pty = new PtyPair();
  let feeder: WriteStream;
  const ids: string[] = [];

  before(async function () {
    if (missing.length) {
      if (process.env.CI) assert.fail(`CI installs these (.ci/run): ${missing.join(', ')}`);
      this.skip();
    }
    sandbox = await startSandbox();
    root = machine();
    const keys = temp('kiosk-opkeys-');
    // The operator signs with RSA; the forger with ECDSA P-256 (the other kind mender-artifact takes).
    const rsa = generateKeyPairSync('rsa', { modulusLength: 3072 });
    operatorKey = join(keys, 'operator.key.pem');
    writeFileSync(operatorKey, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(keys, 'operator.pub.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    otherKey = join(keys, 'other.key.pem');
    writeFileSync(otherKey, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
    await pty.start();
    feeder = createWriteStream(pty.feeder, { flags: 'w' });
    feeder.on('error', () => {});
  });
  after(async () => {
    if (root) systemctl(root, 'stop', 'kiosk.service');
    feeder?.destroy();
    await pty.dispose();
    await sandbox?.close();
  });

  it('v1 from a bundle (install.sh --from): the module, the verify key and the client config in place; v1 runs', async () => {
    const v1 = bundle(source('m1'), 'kiosk-m1');
    const pub = join(operatorKey, '../operator.pub.pem');
    // The private key is refused where the public one belongs.
    const wrong = install(REPO, root, '--from', v1.tar, '--mender-verify-key', operatorKey);
    assert.equal(wrong.status, 1, wrong.all);
    assert.match(wrong.err, /not a public key/);
    const r = install(REPO, root, '--from', v1.tar, '--key', sandbox.merchantKeyPath!, '--cert', sandbox.platformCertPath, '--mender-verify-key', pub);
    assert.equal(r.status, 0, r.all);
    assert.match(r.out, /^# bundle umpay-kiosk-0\.1\.0-\S+: manifest checked \(\d+ files\)$/m);
    ids.push(link(root, 'current'));
    assert.equal(mode(join(root, MODULES, 'kiosk-release')), '0755');
    assert.deepEqual(JSON.parse(readFileSync(join(root, 'etc/mender/mender.conf'), 'utf8')), { ArtifactVerifyKey: '/etc/mender/kiosk-artifact-key.pem' });
    assert.equal(readFileSync(join(root, 'etc/mender/kiosk-artifact-key.pem'), 'utf8'), readFileSync(pub, 'utf8'));
    assert.equal(readFileSync(join(root, 'etc/mender/artifact_info'), 'utf8'), `artifact_name=kiosk-${ids[0]}\n`);
    mkdirSync(join(root, 'var/lib/mender'), { recursive: true });
    writeFileSync(join(root, 'var/lib/mender/device_type'), 'device_type=kiosk-test\n');
    writeFileSync(
      join(root, 'etc/kiosk/config.json'),
      JSON.stringify({
        deviceId: 'K1',
        merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: join(root, 'etc/kiosk/merchant.key.p8'), goodsId: 'VEND', goodsInfo: 'Vending' },
        gateway: { baseUrl: sandbox.baseUrl, platformCert: join(root, 'etc/kiosk/platform.cert.crt'), connectTimeoutMs: 500, timeoutMs: 8000 },
        journal: { path: join(root, 'var/lib/kiosk/journal.sqlite') },
        scanner: { driver: 'serial', path: pty.device, baudRate: 9600, terminator: 'CR' },
        pricing: { mode: 'fixed', amountFen: 150 },
        // A broker nobody listens on: the events wait in the outbox, where this test reads them.
        fleet: { url: 'mqtt://127.0.0.1:1' },
      }),
    );
    systemctl(root, 'start', 'kiosk.service');
    const ready = kioskCmd(root, 'version', '--wait-ready', '20');
    assert.equal(ready.status, 0, ready.stderr + readFileSync(join(root, '.install/daemon.log'), 'utf8'));
  });

  it('v1 → v2: mender install stages v2 while v1 sells on; mender commit switches, v2 answers ready; the fleet hears both', async () => {
    const v2 = bundle(source('m2'), 'kiosk-m2', operatorKey);
    const inst = await mender(root, {}, 'install', v2.artifact!);
    assert.equal(inst.status, 0, inst.all);
    assert.equal(link(root, 'current'), ids[0], 'nothing switched at install');
    assert.equal(daemonRelease(root), ids[0]);
    const staged = releases(root).filter((r) => r !== ids[0]);
    assert.equal(staged.length, 1, `one release staged: ${releases(root).join(' ')}`);
    ids.push(staged[0]!);
    assert.ok(existsSync(join(root, 'opt/kiosk/releases', ids[1]!, 'release.json')));
    const commit = await mender(root, {}, 'commit');
    assert.equal(commit.status, 0, commit.all);
    assert.equal(link(root, 'current'), ids[1]);
    assert.equal(link(root, 'previous'), ids[0]);
    assert.equal(daemonRelease(root), ids[1]);
    const shown = await mender(root, {}, 'show-artifact');
    assert.match(shown.all, /^kiosk-m2$/m);
    const ev = updates(root);
    assert.deepEqual(
      ev.map((e) => [e.outcome, e.release, e.previous]),
      [
        ['installed', ids[1], ids[0]],
        ['committed', ids[1], ids[0]],
      ],
    );
    assert.equal(ev[1]!.running, ids[1]);
  });

  it('a v3 whose daemon never answers ready: the commit fails, Mender rolls back, v2 runs again, the journal untouched', async () => {
    const before = money(root);
    const bad = bundle(
      source('m3', (dir) => writeFileSync(join(dir, 'dist/src/cli/run.js'), 'process.exit(70);\nexport {};\n')),
      'kiosk-m3',
      operatorKey,
    );
    const inst = await mender(root, {}, 'install', bad.artifact!);
    assert.equal(inst.status, 0, inst.all);
    const commit = await mender(root, { KIOSK_READY_TIMEOUT: '2' }, 'commit');
    assert.notEqual(commit.status, 0, commit.all);
    assert.match(commit.all, /Rolling back Artifact/);
    assert.equal(link(root, 'current'), ids[1]);
    assert.equal(daemonRelease(root), ids[1]);
    assert.match((await mender(root, {}, 'show-artifact')).all, /^kiosk-m2$/m);
    assert.equal(money(root), before);
    const last = updates(root).at(-1)!;
    assert.equal(last.outcome, 'rolled-back');
    assert.equal(last.running, ids[1]);
    assert.match(String(last.why), /failed and was rolled back/);
  });

  it('an artifact signed by another key is refused before anything is staged', async () => {
    const kept = releases(root);
    const events = updates(root).length;
    const forged = bundle(source('m4'), 'kiosk-m4', otherKey);
    const r = await mender(root, {}, 'install', forged.artifact!);
    assert.notEqual(r.status, 0, r.all);
    assert.match(r.all, /signature/);
    assert.deepEqual(releases(root), kept);
    assert.deepEqual(
      releases(root).filter((n) => n.startsWith('.')),
      [],
    );
    assert.equal(updates(root).length, events, 'the module never ran');
    assert.equal(link(root, 'current'), ids[1]);
  });

  it('an update while a customer pays waits for the payment; the customer gets the product', async () => {
    const v5 = bundle(source('m5'), 'kiosk-m5', operatorKey);
    assert.equal((await mender(root, {}, 'install', v5.artifact!)).status, 0);
    // The platform takes 3 s to answer: the customer is mid-payment when the commit starts.
    sandbox.setFaults([{ kind: 'latency', ms: 3000, path: 'micropay', count: 1 }]);
    const code = testCode('paid');
    feeder.write(`${code}\r`);
    const orderNo = await until('the scan journaled', () => journal(root, (db) => (db.prepare('SELECT order_no FROM orders WHERE state = ? ORDER BY rowid DESC LIMIT 1').get('created') as { order_no: string } | undefined)?.order_no), { deadlineMs: 10_000, everyMs: 20 });
    const commit = mender(root, { KIOSK_IDLE_TIMEOUT: '60' }, 'commit');
    let switchedAt: number | undefined;
    let deliveredAt: number | undefined;
    await until(
      'the switch',
      () => {
        const now = Date.now();
        if (deliveredAt === undefined && journal(root, (db) => (db.prepare('SELECT state FROM orders WHERE order_no = ?').get(orderNo) as { state: string }).state) === 'delivered') deliveredAt = now;
        if (link(root, 'current') !== ids[1]) switchedAt = now;
        return switchedAt;
      },
      { deadlineMs: 90_000, everyMs: 20 },
    );
    const r = await commit;
    assert.equal(r.status, 0, r.all);
    assert.ok(deliveredAt !== undefined && deliveredAt <= switchedAt!, `delivered (${deliveredAt}) before the switch (${switchedAt})`);
    assert.equal(journal(root, (db) => (db.prepare('SELECT state FROM orders WHERE order_no = ?').get(orderNo) as { state: string }).state), 'delivered');
    assert.equal(updates(root).at(-1)!.outcome, 'committed');
  });
});

describe('field/install.sh --from: a bundle is checked before anything of it runs', function () {
  this.timeout(60000);
  let good: string;
  let name: string;
  let src: string;

  before(() => {
    src = source('t1');
    good = bundle(src, 'kiosk-t1').tar;
    name = /([^/]+)\.tar\.gz$/.exec(good)![1]!;
  });

  /** The good bundle unpacked, changed by `edit`, packed again. */
  function tampered(edit: (dir: string) => void): string {
    const work = temp('kiosk-tamper-');
    assert.equal(spawnSync('tar', ['-xzf', good, '-C', work]).status, 0);
    edit(work);
    const out = join(temp('kiosk-tampered-'), `${name}.tar.gz`);
    assert.equal(spawnSync('tar', ['-czf', out, '-C', work, ...readdirSync(work).sort()]).status, 0);
    return out;
  }

  const cases: [string, () => string, RegExp][] = [
    ['a file changed after the manifest', () => tampered((d) => writeFileSync(join(d, name, 'dist/src/cli/run.js'), 'process.exit(0);\n')), /the manifest does not match: .*dist\/src\/cli\/run\.js: FAILED/],
    ['a file the manifest does not list', () => tampered((d) => writeFileSync(join(d, name, 'dist/src/extra.js'), '\n')), /\.\/dist\/src\/extra\.js is not in the manifest/],
    ['a file beside the release folder', () => tampered((d) => writeFileSync(join(d, 'evil.sh'), '\n')), /a bundle holds one release folder; this one has at its top: evil\.sh umpay-kiosk/],
    ['a symbolic link', () => tampered((d) => spawnSync('ln', ['-s', '/etc/shadow', join(d, name, 'docs/x')])), /only files and folders may be in a bundle/],
    [
      'no manifest',
      () =>
        tampered((d) => {
          spawnSync('rm', [join(d, name, 'MANIFEST.sha256')]);
        }),
      /no MANIFEST\.sha256/,
    ],
    [
      'not a tar file',
      () => {
        const f = join(temp('kiosk-nottar-'), 'x.tar.gz');
        writeFileSync(f, '<html>502 Bad Gateway</html>');
        return f;
      },
      /not a gzip'd tar file/,
    ],
  ];
  for (const [what, make, reason] of cases) {
    it(`refuses ${what}, and changes nothing`, () => {
      const root = machine();
      const r = install(REPO, root, '--from', make());
      assert.equal(r.status, 1, r.all);
      assert.match(r.err, reason);
      assert.equal(existsSync(join(root, 'opt/kiosk')), false, 'nothing installed');
    });
  }

  it('the good bundle installs as its checkout would: the same release id, its commit from bundle.json', () => {
    const fromBundle = machine();
    const r = install(REPO, fromBundle, '--from', good);
    assert.equal(r.status, 0, r.all);
    assert.match(r.out, /manifest checked/);
    const fromCheckout = machine();
    assert.equal(install(src, fromCheckout).status, 0);
    assert.equal(link(fromBundle, 'current'), link(fromCheckout, 'current'));
    const rel = JSON.parse(readFileSync(join(fromBundle, 'opt/kiosk/current/release.json'), 'utf8')) as { commit: string; source: string };
    assert.equal(rel.commit, 'nogit', "bundle.json's commit (this test's source is no git checkout)");
    assert.ok(!existsSync(rel.source), 'the unpacked bundle is removed after the install');
  });
});
