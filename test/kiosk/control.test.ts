// The daemon's control socket (src/kiosk/control.ts) through the CLI's client (src/cli/tech/control.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlError, startControlServer } from '../../src/kiosk/control.js';
import { controlRequest } from '../../src/cli/tech/control.js';

describe('kiosk control socket', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-ctl-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers status and reconcile, with the socket born at mode 0600 whatever the umask', async () => {
    const path = join(dir, 'kiosk.sock');
    let reconciled = 0;
    const umask = process.umask(0);
    const server = await startControlServer(path, {
      status: () => ({ pid: 42, scanner: { connected: true } }),
      reconcile: async () => ({ started: ++reconciled, remaining: 0 }),
    }).finally(() => process.umask(umask));
    try {
      assert.equal(process.umask(), umask, 'the process umask is restored');
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(await controlRequest(path, 'status'), { pid: 42, scanner: { connected: true } });
      assert.deepEqual(await controlRequest(path, 'reconcile'), { started: 1, remaining: 0 });
    } finally {
      await server.close();
    }
    await assert.rejects(controlRequest(path, 'status'), (e: ControlError) => e.code === 'E_CONTROL_NO_DAEMON');
  });
  it('passes a handler failure back as a refusal', async () => {
    const path = join(dir, 'k.sock');
    const server = await startControlServer(path, {
      status: () => ({ pid: 1 }),
      reconcile: () => {
        throw new Error('stopping');
      },
    });
    try {
      await assert.rejects(controlRequest(path, 'reconcile'), /daemon refused reconcile: stopping/);
    } finally {
      await server.close();
    }
  });
  it('scanner-setup passes its args object to the handler; other args or no handler are refused', async () => {
    const path = join(dir, 's.sock');
    const seen: unknown[] = [];
    const server = await startControlServer(path, { status: () => ({ pid: 1 }), reconcile: () => ({ started: 0, remaining: 0 }), scannerSetup: async (a) => (seen.push(a), { matches: true }) });
    const bare = join(dir, 'b.sock');
    const without = await startControlServer(bare, { status: () => ({ pid: 1 }), reconcile: () => ({ started: 0, remaining: 0 }) });
    try {
      assert.deepEqual(await controlRequest(path, 'scanner-setup', 2000, { dryRun: true }), { matches: true });
      assert.deepEqual(await controlRequest(path, 'scanner-setup'), { matches: true });
      assert.deepEqual(seen, [{ dryRun: true }, {}]);
      await assert.rejects(controlRequest(path, 'scanner-setup', 2000, [] as unknown as Record<string, unknown>), /daemon refused scanner-setup: args must be an object/);
      await assert.rejects(controlRequest(bare, 'scanner-setup'), /daemon refused scanner-setup: this daemon cannot set up its scanner module/);
    } finally {
      await server.close();
      await without.close();
    }
  });

  it('replaces a stale socket file but refuses a live one and a regular file', async () => {
    const path = join(dir, 'k.sock');
    const first = await startControlServer(path, { status: () => ({ pid: 1 }), reconcile: () => ({ started: 0, remaining: 0 }) });
    await assert.rejects(startControlServer(path, { status: () => ({ pid: 2 }), reconcile: () => ({ started: 0, remaining: 0 }) }), /another daemon/);
    await first.close();
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    await assert.rejects(startControlServer(file, { status: () => ({ pid: 2 }), reconcile: () => ({ started: 0, remaining: 0 }) }), /not a socket/);
  });
  /** A socket file nobody answers on, as a killed daemon leaves it (node does not unlink on exit). */
  function staleSocket(path: string): void {
    const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.exit(0))`]);
    assert.equal(r.status, 0, String(r.stderr));
    assert.ok(lstatSync(path).isSocket());
  }
  it('replaces a stale socket of its own, and leaves someone else\'s untouched', async function () {
    const path = join(dir, 'k.sock');
    staleSocket(path);
    const server = await startControlServer(path, { status: () => ({ pid: 3 }), reconcile: () => ({ started: 0, remaining: 0 }) });
    assert.deepEqual(await controlRequest(path, 'status'), { pid: 3 });
    await server.close();
    assert.equal(existsSync(path), false);
    if (process.getuid?.() !== 0) this.skip(); // chown to another user needs root (CI runs as root)
    staleSocket(path);
    chownSync(path, 4242, 4242);
    const before = lstatSync(path);
    await assert.rejects(startControlServer(path, { status: () => ({ pid: 4 }), reconcile: () => ({ started: 0, remaining: 0 }) }), /socket of uid 4242.*left untouched/);
    const after = lstatSync(path);
    assert.equal(after.ino, before.ino);
    assert.equal(after.uid, 4242);
    assert.equal(after.mode, before.mode);
  });
});
