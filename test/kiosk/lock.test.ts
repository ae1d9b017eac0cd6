import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, LockFileError, LockHeldError, lockState } from '../../src/kiosk/lock.js';
import { openJournal } from '../../src/journal/journal.js';

const koffiPath = createRequire(import.meta.url).resolve('koffi');

/** A separate node process that takes flock(LOCK_EX) on `file` and says "locked". */
async function holder(file: string): Promise<ChildProcess> {
  const code = `const k=require(${JSON.stringify(koffiPath)});const f=k.load('libc.so.6').func('int flock(int,int)');const fd=require('fs').openSync(${JSON.stringify(file)},'a+');if(f(fd,6)!==0)process.exit(3);process.stdout.write('locked\\n');setInterval(()=>{},1000);`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
  return child;
}

describe('kiosk single-instance lock (kernel flock on an open descriptor)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a free lock and writes our pid; release frees it and never deletes the file', () => {
    const file = join(dir, 'kiosk.lock');
    const lock = acquireLock(file);
    assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
    assert.deepEqual(lockState(file), { held: true, pid: process.pid });
    lock.release();
    assert.equal(existsSync(file), true);
    assert.deepEqual(lockState(file), { held: false, pid: process.pid });
    acquireLock(file).release();
  });

  it('refuses a second lock in the same process', () => {
    const file = join(dir, 'kiosk.lock');
    const lock = acquireLock(file);
    assert.throws(() => acquireLock(file), (e: unknown) => e instanceof LockHeldError && e.pid === process.pid);
    lock.release();
  });

  it('refuses while another live process holds it, naming the file; free the moment that process is killed', async () => {
    const file = join(dir, 'kiosk.lock');
    const child = await holder(file);
    try {
      assert.equal(lockState(file).held, true);
      assert.throws(() => acquireLock(file), (err: unknown) => err instanceof LockHeldError && err.message.includes(file));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The kernel released it: no stale lock to judge.
    assert.equal(lockState(file).held, false);
    acquireLock(file).release();
  });

  it('issue 10 §3: a lock file holding our own pid (pid reuse after a power cut) does not block', () => {
    const file = join(dir, 'kiosk.lock');
    writeFileSync(file, `${process.pid}\n`);
    const lock = acquireLock(file);
    lock.release();
  });

  it('issue 10 §3: a lock file holding the pid of a live node process that holds no lock does not block', async () => {
    const file = join(dir, 'kiosk.lock');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      writeFileSync(file, `${child.pid}\n`);
      const lock = acquireLock(file);
      assert.equal(readFileSync(file, 'utf8').trim(), String(process.pid));
      lock.release();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('issue 10 §2: lockFile = the journal is refused and the journal (with an unfinished order) is left intact', () => {
    const file = join(dir, 'journal.db');
    const j = openJournal(file);
    j.createOrder({ deviceId: 'K1', date: '20260601', orderTime: '20260601100000', txnAmt: '150', orderType: 'wechat', authCode: '134567890123456789', authMask: 'm', goodsId: 'G', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1, at: 'now' });
    j.close();
    const before = readFileSync(file);
    assert.throws(() => acquireLock(file), (e: unknown) => e instanceof LockFileError && /not a pid: it is not a lock file/.test(e.message) && e.message.includes(file));
    assert.deepEqual(readFileSync(file), before);
    const again = openJournal(file);
    assert.equal(again.unfinished().length, 1);
    again.close();
  });

  it('a config file, a symlink, a folder, a device, someone else\'s file: refused, nothing changed', () => {
    const config = join(dir, 'config.json');
    writeFileSync(config, '{"deviceId":"K1"}\n');
    assert.throws(() => acquireLock(config), LockFileError);
    assert.equal(readFileSync(config, 'utf8'), '{"deviceId":"K1"}\n');
    const link = join(dir, 'link.lock');
    symlinkSync(config, link);
    assert.throws(() => acquireLock(link), /is a symbolic link/);
    assert.throws(() => acquireLock(dir), /is a folder|not a regular file/);
    assert.throws(() => acquireLock('/dev/null'), /not a regular file/);
    assert.throws(() => acquireLock('/proc/version'), LockFileError);
    if (process.getuid?.() === 0) {
      const theirs = join(dir, 'theirs.lock');
      writeFileSync(theirs, '');
      chownSync(theirs, 4321, 4321);
      assert.throws(() => acquireLock(theirs), /belongs to uid 4321/);
    }
  });

  it('lockState of a missing file: not held, and the file is not created', () => {
    const file = join(dir, 'none.lock');
    assert.deepEqual(lockState(file), { held: false });
    assert.equal(existsSync(file), false);
  });
});
