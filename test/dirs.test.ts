// src/dirs.ts: folders made one level at a time (Node's recursive mkdir retries for ever under /proc: the daemon's
// first settlement download spun at full CPU, status stopped answering), and the pseudo filesystems refused by name.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDirs, pseudoFolder } from '../src/dirs.js';

const KIOSK = fileURLToPath(new URL('../src/cli/kiosk.js', import.meta.url));

describe('dirs: bounded mkdir -p, pseudo filesystems', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dirs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes each missing level with the mode; a folder already there is fine; a file in the way is ENOTDIR', () => {
    makeDirs(join(dir, 'a/b/c'), 0o700);
    for (const d of ['a', 'a/b', 'a/b/c']) assert.equal(statSync(join(dir, d)).mode & 0o777, 0o700, d);
    makeDirs(join(dir, 'a/b/c'));
    writeFileSync(join(dir, 'f'), '');
    assert.throws(() => makeDirs(join(dir, 'f/g')), { code: 'ENOTDIR' });
  });

  it('under /proc mkdir answers ENOENT: thrown at once, not retried', () => {
    const t0 = performance.now();
    assert.throws(() => makeDirs('/proc/kiosk-settle/x'), { code: 'ENOENT' });
    assert.ok(performance.now() - t0 < 100);
  });

  it('/proc, /sys, /dev and what is mounted from them are pseudo filesystems; the SD card is not', () => {
    for (const p of ['/proc/kiosk-settle', '/sys/x', '/dev/shm/settle', '/proc']) assert.match(String(pseudoFolder(p)), /kernel pseudo filesystem/, p);
    assert.equal(pseudoFolder(join(dir, 'settlement')), undefined);
    assert.equal(pseudoFolder('/procx/settle'), undefined);
  });

  it('kiosk fleet keygen --out /proc/x ends with an error instead of spinning', () => {
    const r = spawnSync(process.execPath, [KIOSK, 'fleet', 'keygen', '--out', '/proc/kiosk-keys'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(r.signal, null, 'ended by itself, not by the time limit');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--out \/proc\/kiosk-keys: /);
    assert.doesNotMatch(r.stderr, /\n    at /, 'no stack trace');
  });
});
