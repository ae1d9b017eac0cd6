// `kiosk run` refusing a broken config, and `kiosk demo --auto N` as CI runs it (no terminal).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KIOSK_JS } from './daemon-helpers.js';

function runKiosk(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [KIOSK_JS, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('kiosk run / kiosk demo from the command line', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-cli-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('run refuses a broken config listing every problem (file, field, what is wrong), exit 78, nothing opened', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify({
        deviceId: 'K1',
        merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: 'missing.key.p8', goodsId: 'G', goodsInfo: 'x' },
        gateway: { baseUrl: 'http://127.0.0.1:1', platformCert: 'missing.crt' },
        journal: { path: 'j/journal.sqlite' },
        scanner: { driver: 'serial', baudRate: 'fast' },
        keypad: { driver: 'gpio' },
        indicator: { driver: 'log' },
        pricing: { mode: 'fixed' },
        colour: 'blue',
      }),
    );
    const { code, stderr, stdout } = await runKiosk(['run', '--config', file]);
    assert.equal(code, 78);
    for (const field of ['merchant.privateKey', 'gateway.platformCert', 'scanner.path', 'scanner.baudRate', 'pricing.amountFen', 'colour']) {
      assert.ok(stderr.includes(`${file}: ${field}`), `stderr names ${field}:\n${stderr}`);
    }
    assert.match(stderr, /refusing to start: \d+ problems in/);
    assert.match(stdout, /"event":"config-invalid"/);
    assert.doesNotMatch(stdout, /"event":"ready"/);
  });

  it('run with an unknown option is a usage error (exit 2)', async () => {
    const { code, stderr } = await runKiosk(['run', '--confg', 'x.json']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown option --confg/);
  });

  it('run with a missing config file says so (exit 78)', async () => {
    const { code, stderr } = await runKiosk(['run', '--config', join(dir, 'nope.json')]);
    assert.equal(code, 78);
    assert.match(stderr, /nope\.json: no such file/);
  });

  it('demo --auto 5 runs five scripted customers without a terminal and exits 0 when all match', async () => {
    const { code, stdout, stderr } = await runKiosk(['demo', '--auto', '5', '--data', join(dir, 'demo')]);
    assert.equal(code, 0, stdout + stderr);
    const rows = stdout.split('\n').filter((l) => /^\d+\s+(wechat|alipay|unionpay)…/.test(l));
    assert.equal(rows.length, 5, stdout);
    for (const r of rows) assert.match(r, /\syes$/, r);
    for (const b of ['paid', 'pending-then-paid', 'insufficient-balance', 'pending-forever', 'answer-lost']) assert.ok(stdout.includes(b), b);
    assert.match(stdout, /5 customers, every outcome as its test code says/);
    assert.doesNotMatch(stdout, /\b(1[0-5]|2[5-9]|30|62)\d{14,22}\b/, 'no payment code in full');
  });
});
