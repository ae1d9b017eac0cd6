import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, LockHeldError } from '../../src/kiosk/lock.js';

describe('kiosk single-instance lock', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a free lock with our pid and removes it on release', () => {
    const file = join(dir, 'kiosk.lock');
    const lock = acquireLock(file);
    assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
    lock.release();
    assert.equal(existsSync(file), false);
  });

  it('refuses while a live node process holds it, naming the pid and the file', async () => {
    const file = join(dir, 'kiosk.lock');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      writeFileSync(file, `${child.pid}\n`);
      assert.throws(
        () => acquireLock(file),
        (err: unknown) => err instanceof LockHeldError && err.pid === child.pid && err.message.includes(file) && err.message.includes(String(child.pid)),
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses a second lock in the same process', () => {
    const file = join(dir, 'kiosk.lock');
    const lock = acquireLock(file);
    assert.throws(() => acquireLock(file), LockHeldError);
    lock.release();
  });

  it('takes over a stale lock (dead pid, or garbage)', async () => {
    const file = join(dir, 'kiosk.lock');
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    writeFileSync(file, `${child.pid}\n`);
    acquireLock(file).release();
    writeFileSync(file, 'not a pid');
    const lock = acquireLock(file);
    assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
    lock.release();
  });

  it('release leaves a lock that another process took over alone', () => {
    const file = join(dir, 'kiosk.lock');
    const lock = acquireLock(file);
    writeFileSync(file, '1\n');
    lock.release();
    assert.equal(readFileSync(file, 'utf8'), '1\n');
  });
});
