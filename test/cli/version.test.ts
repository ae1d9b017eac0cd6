// kiosk version (this/current/previous release, the daemon's release, --check, --wait-ready), an older
// release facing a newer journal, and every command exiting quietly on a closed pipe.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { run as version } from '../../src/cli/version.js';
import { startControlServer } from '../../src/kiosk/control.js';
import { acquireLock } from '../../src/kiosk/lock.js';
import { installedReleases, packageRoot, releaseInfo } from '../../src/release.js';
import { SCHEMA_VERSION } from '../../src/journal/schema.js';
import { tempKiosk, type TempKiosk } from './fixtures.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KIOSK = join(ROOT, 'dist/src/cli/kiosk.js');

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('kiosk version', function () {
  this.timeout(15000);
  let k: TempKiosk;
  beforeEach(() => {
    k = tempKiosk();
    k.rewrite((raw) => (raw.daemon = { lockFile: join(k.dir, 'data/kiosk.lock'), controlSocket: join(k.dir, 'data/kiosk.sock') }));
  });
  afterEach(() => k.cleanup());

  it('from a checkout: says so, the journal schema, the daemon not running', async () => {
    const io = k.io();
    assert.equal(await version([], io), 0, io.stderr());
    assert.match(io.stdout(), /^this:\s+0\.\d+\.\d+ \(checkout\)/m);
    assert.match(io.stdout(), /^current:\s+not an installed release/m);
    assert.match(io.stdout(), new RegExp(`^journal:\\s+schema ${SCHEMA_VERSION}$`, 'm'));
    assert.match(io.stdout(), /^daemon:\s+not running$/m);
  });

  it('without a config: each line says what is wrong with it, not the heading of a list', async () => {
    const io = k.io();
    const missing = join(k.dir, 'nowhere.json');
    assert.equal(await version(['--config', missing], io), 0, io.stderr());
    assert.match(io.stdout(), /^daemon:\s+not asked: \S+nowhere\.json: no such file \(give --config FILE/m);
    assert.match(io.stdout(), /^journal:\s+not checked: \S+nowhere\.json: no such file/m);
    assert.doesNotMatch(io.stdout(), /problem in the config:$/m);
  });

  it('an installed layout: current and previous from the links, every kept release', () => {
    const app = join(k.dir, 'opt/kiosk');
    for (const id of ['0.1.0-aaaa', '0.1.0-bbbb', '0.1.0-cccc']) {
      mkdirSync(join(app, 'releases', id), { recursive: true });
      writeFileSync(join(app, 'releases', id, 'package.json'), '{"version":"0.1.0"}');
      writeFileSync(join(app, 'releases', id, 'release.json'), JSON.stringify({ id, commit: 'abc1234', installedAt: '2026-12-01T10:00:00Z' }));
    }
    symlinkSync('releases/0.1.0-cccc', join(app, 'current'));
    symlinkSync('releases/0.1.0-bbbb', join(app, 'previous'));
    const self = releaseInfo(join(app, 'releases/0.1.0-cccc'));
    assert.equal(self.installed, true);
    assert.equal(self.id, '0.1.0-cccc');
    const r = installedReleases(self);
    assert.equal(r.current?.id, '0.1.0-cccc');
    assert.equal(r.previous?.id, '0.1.0-bbbb');
    assert.deepEqual(r.kept, ['0.1.0-aaaa', '0.1.0-bbbb', '0.1.0-cccc']);
    assert.equal(r.current?.commit, 'abc1234');
  });

  it('--wait-ready: exit 0 once a daemon of THIS release answers, 1 when another release answers', async () => {
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock')); // this node process stands in for the daemon
    let release = { id: 'other', root: '/opt/kiosk/releases/other' };
    const server = await startControlServer(join(k.dir, 'data/kiosk.sock'), { status: () => ({ pid: process.pid, release }), reconcile: () => ({ started: 0, remaining: 0 }) });
    try {
      const io = k.io();
      assert.equal(await version(['--wait-ready', '1'], io), 1);
      assert.match(io.stderr(), /no daemon of release .* answered within 1 s \(last seen: pid \d+, release other/);
      setTimeout(() => (release = { id: 'me', root: packageRoot() }), 300);
      const io2 = k.io();
      assert.equal(await version(['--wait-ready', '5'], io2), 0, io2.stderr());
      assert.match(io2.stdout(), /^ready: /);
    } finally {
      await server.close();
      lock.release();
    }
  });

  it('--wait-idle: waits while a customer is paying, exit 0 once the kiosk rests; 1 after the bound', async () => {
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock'));
    let interaction = 'processing';
    const server = await startControlServer(join(k.dir, 'data/kiosk.sock'), { status: () => ({ pid: process.pid, interaction }), reconcile: () => ({ started: 0, remaining: 0 }) });
    try {
      const io = k.io();
      assert.equal(await version(['--wait-idle', '0'], io), 1);
      assert.match(io.stderr(), /a customer is still processing after 0 s/);
      setTimeout(() => (interaction = 'ready'), 300); // fixed pricing: ready is the resting state
      const io2 = k.io();
      assert.equal(await version(['--wait-idle', '5'], io2), 0, io2.stderr());
      assert.match(io2.stdout(), /^idle: no customer \(ready\)/);
    } finally {
      await server.close();
      lock.release();
    }
  });

  it('--check fails with a clear message on a journal from a newer schema', async () => {
    const db = new Database(k.journalPath);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const io = k.io();
    assert.equal(await version(['--check'], io), 1);
    assert.match(io.stdout(), new RegExp(`schema ${SCHEMA_VERSION + 1} is newer than this release knows \\(${SCHEMA_VERSION}\\)`));
    assert.match(io.stdout(), /^native modules:\s+load$/m);
  });

  it('an older release refuses to start on a journal from a newer schema and leaves it untouched', () => {
    const db = new Database(k.journalPath);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const before = sha(k.journalPath);
    const r = spawnSync(process.execPath, [KIOSK, 'run', '--config', k.configFile], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 70, r.stderr);
    assert.match(r.stderr, new RegExp(`journal schema version ${SCHEMA_VERSION + 1} is newer than this program knows \\(${SCHEMA_VERSION}\\)`));
    assert.equal(sha(k.journalPath), before);
  });

  it('an admin user who cannot read the journal or lock: "permission denied: use sudo", never "not running"/"no journal"', function () {
    if (process.getuid?.() !== 0) this.skip(); // reason: needs root to run the command as another user
    // The config readable by all; data/ (journal, lock, socket) stays 0700 as /var/lib/kiosk is.
    chmodSync(k.dir, 0o755);
    chmodSync(k.configFile, 0o644);
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock'));
    const reopen = othersMayTraverse(ROOT);
    try {
      const asNobody = (...args: string[]) => spawnSync(process.execPath, [KIOSK, ...args, '--config', k.configFile], { encoding: 'utf8', timeout: 10000, uid: 65534, gid: 65534, cwd: '/' });
      const v = asNobody('version');
      assert.equal(v.status, 0, v.stderr);
      assert.match(v.stdout, /^daemon:\s+permission denied: use sudo/m);
      assert.match(v.stdout, /^journal:\s+.*permission denied: use sudo/m);
      for (const cmd of ['status', 'reconcile']) {
        const r = asNobody(cmd, ...(cmd === 'status' ? ['--no-gateway'] : []));
        assert.equal(r.status, 2, `${cmd}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /permission denied: use sudo/, `${cmd}: ${r.stderr}`);
        assert.doesNotMatch(r.stdout + r.stderr, /not running|no journal/, cmd);
      }
      const j = asNobody('journal', 'list');
      assert.match(j.stderr, /permission denied: use sudo/);
      const d = asNobody('doctor', '--no-gateway');
      assert.match(d.stdout, /^✗ daemon\s+.*permission denied: use sudo/m);
    } finally {
      reopen();
      lock.release();
    }
  });
});

/**
 * The program itself must be reachable by the other user: a clone inside a private folder (`mktemp -d` is 0700)
 * is not. Adds only the search bit (o+x, no listing) to the folders above `dir` that lack it; the returned
 * function puts each mode back.
 */
function othersMayTraverse(dir: string): () => void {
  const changed: Array<[string, number]> = [];
  for (let d = dir; ; d = dirname(d)) {
    const mode = statSync(d).mode & 0o7777;
    if (!(mode & 0o001)) {
      chmodSync(d, mode | 0o001);
      changed.push([d, mode]);
    }
    if (dirname(d) === d) break;
  }
  return () => {
    for (const [d, mode] of changed.reverse()) chmodSync(d, mode);
  };
}

describe('every command on a closed pipe', function () {
  this.timeout(15000);
  it('kiosk --help into a closed pipe: exit 141, no EPIPE stack trace', async () => {
    // The top-level usage, written to a pipe whose reader is already gone.
    const child = spawn(process.execPath, [KIOSK, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    assert.equal(stderr, '');
    assert.equal(code, 141);
  });
});
